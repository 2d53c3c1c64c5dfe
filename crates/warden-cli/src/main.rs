//! `warden`: Session Warden's engine from a terminal. Output on stdout is for people, or
//! for scripts with `--json`; diagnostics go to stderr.
#![forbid(unsafe_code)]

mod accounts;
mod defence;
mod history;
mod output;
mod policy;
mod sessions;
mod terminal;
mod watch;

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use warden_cli::args::{Cli, Command, LedgerCommand};
use warden_core::{Accounts, Error, GeoIp, Home, KeyringStore, SystemClock};

/// Exit codes scripts can rely on (`warden_cli::EXIT_STATUS`).
fn exit_code(error: &anyhow::Error) -> u8 {
    warden_cli::exit_status(error.downcast_ref::<Error>().map(Error::code))
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(warden_core::log_filter("warn"))
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never into a log file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("warden: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("warden: {error:#}");
            ExitCode::from(exit_code(&error))
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    // Before the ledger is opened: opening a damaged one is what fails.
    if let Command::Ledger(LedgerCommand::Recover) = cli.command {
        return history::recover_ledger();
    }
    let ip_database = std::env::var_os("WARDEN_IP_DATABASE").map(std::path::PathBuf::from);
    let accounts = Arc::new(
        Accounts::open(
            &Home::from_env()?,
            Arc::new(KeyringStore::new()),
            Arc::new(SystemClock),
        )?
        .with_geoip(Arc::new(GeoIp::discover(ip_database.as_deref()))),
    );
    match cli.command {
        Command::Accounts(command) => accounts::run(&accounts, command).await?,
        Command::Ledger(LedgerCommand::Recover) => history::recover_ledger()?,
        Command::Sessions {
            account,
            all: true,
            json,
        } => sessions::seen(&accounts, account.as_deref(), json)?,
        Command::Sessions { account, json, .. } => {
            sessions::list(&accounts, account.as_deref(), json).await?
        }
        Command::Revoke(args) => sessions::revoke(&accounts, args).await?,
        Command::Trust {
            session_id,
            account,
        } => sessions::trust(&accounts, &session_id, account.as_deref()).await?,
        Command::Label {
            session_id,
            label,
            account,
        } => sessions::label(&accounts, &session_id, &label, account.as_deref()).await?,
        Command::Policy {
            account,
            idle,
            include_trusted,
            yes,
        } => policy::policy(&accounts, &account, idle.as_deref(), include_trusted, yes).await?,
        Command::Defence(args) => defence::run(&accounts, args).await?,
        Command::Watch {
            json,
            notify,
            every_sign_in,
            interval,
        } => {
            let tell = watch::Tell {
                notify,
                every_sign_in,
            };
            watch::run(Arc::clone(&accounts), json, tell, interval).await?
        }
        Command::History {
            account,
            export,
            follow,
            json,
        } => {
            history::show(
                &accounts,
                account.as_deref(),
                export.as_deref(),
                follow,
                json,
            )
            .await?
        }
    }
    Ok(())
}
