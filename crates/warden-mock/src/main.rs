//! `warden-mock`: serves every supported session API on loopback, with demo accounts and a
//! scenario playing on them.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use warden_mock::cli::Args;
use warden_mock::persist::{self, Saver};
use warden_mock::scenario::BUILT_IN;
use warden_mock::{
    DEMO_BACKUP_CODES, DEMO_PASSWORD, DEMO_PHONE, DEMO_TOTP_LOGIN, DEMO_TOTP_SECRET, Dialect,
    MockState, Scenario,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warden_mock=info".into()),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never into a log file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = Args::parse();
    if args.list_scenarios {
        for (name, _) in BUILT_IN {
            let scenario = Scenario::load(name).map_err(anyhow::Error::msg)?;
            println!(
                "{name}\n  {}\n",
                scenario.description.trim().replace('\n', "\n  ")
            );
        }
        return Ok(());
    }
    if !args.bind.is_loopback() {
        eprintln!(
            "warning: listening on {} exposes the demo accounts and their passwords to the \
             network (the control API still answers loopback only)",
            args.bind
        );
    }
    let scenario = match (&args.scenario, args.no_devices) {
        (_, true) => None,
        (Some(name), false) => Some(Scenario::load(name).map_err(anyhow::Error::msg)?),
        (None, false) => Some(Scenario::load("quiet").map_err(anyhow::Error::msg)?),
    };
    let state = MockState::with_admin_secret(&args.admin_secret);
    let restored = match &args.state {
        Some(path) => match persist::load(path)? {
            Some(snapshot) => {
                snapshot.restore(&state);
                true
            }
            None => false,
        },
        None => false,
    };
    let scenario_line = scenario.as_ref().map(|s| {
        let name = args.scenario.as_deref().unwrap_or("quiet");
        format!("{name}: {}", s.description.trim().replace('\n', " "))
    });
    if let Some(scenario) = scenario {
        // A restored state already holds the scene the scenario's past steps would set.
        state.start_scenario(scenario, restored);
    }
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(args.bind, args.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", args.bind, args.port))?;
    let addr = listener.local_addr()?;
    // The first line is for scripts (cargo xtask demo reads it); the rest is for people.
    println!("warden-mock listening on http://{addr}/");
    println!();
    for dialect in Dialect::ALL {
        let sign_in = match dialect {
            Dialect::SecureAuth => {
                format!("phone {DEMO_PHONE}, code from http://{addr}/__mock/outbox")
            }
            _ => format!("{} / {DEMO_PASSWORD}", warden_mock::demo_login(dialect)),
        };
        println!(
            "  {:<14} http://{addr}{:<16} {sign_in}",
            dialect.name(),
            dialect.prefix()
        );
    }
    println!(
        "  {:<14} Authorization: Bearer {}",
        "  admin API", args.admin_secret
    );
    println!();
    println!("  with TOTP      {DEMO_TOTP_LOGIN} / {DEMO_PASSWORD}");
    println!("                 TOTP secret {DEMO_TOTP_SECRET}");
    println!(
        "                 backup codes {}",
        DEMO_BACKUP_CODES.join(" ")
    );
    println!("                 current code: http://{addr}/__mock/users/{DEMO_TOTP_LOGIN}/totp");
    println!();
    if let Some(line) = scenario_line {
        println!("  scenario    {line}");
    }
    match &args.state {
        Some(path) if restored => println!("  state       {} (restored)", path.display()),
        Some(path) => println!("  state       {} (new)", path.display()),
        None => println!("  state       in memory (--state FILE to keep it)"),
    }
    println!("  control API http://{addr}/__mock/  (loopback only; see docs/mock.md)");
    let saver = args
        .state
        .clone()
        .map(|path| Saver::start(path, state.clone(), Duration::from_millis(250)));
    let stop = stop_signal(args.stop_on_stdin_eof);
    warden_mock::serve(listener, state, stop).await?;
    if let Some(saver) = saver {
        saver.finish().context("cannot save the state")?;
    }
    Ok(())
}

/// Ctrl-C or SIGTERM (what scripts and test harnesses send); with `stdin_eof`, also the end
/// of standard input (its parent is gone).
async fn stop_signal(stdin_eof: bool) {
    let parent_gone = async {
        if !stdin_eof {
            return std::future::pending().await;
        }
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 256];
        loop {
            match tokio::io::AsyncReadExt::read(&mut stdin, &mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
        _ = parent_gone => {}
    }
}
