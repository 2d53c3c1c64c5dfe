//! `warden-mock`: serves every supported session API on loopback with a demo user.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use anyhow::Context;
use chrono::Duration;
use clap::Parser;
use warden_mock::{DEMO_LOGIN, DEMO_PASSWORD, HECTODAY_PREFIX, MockState};

#[derive(Parser)]
#[command(
    version,
    about = "A local server that plays the session APIs Session Warden speaks"
)]
struct Args {
    /// Address to listen on. Anything but loopback exposes the demo user to the network.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    bind: IpAddr,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 8787)]
    port: u16,
    /// Start with no device signed in (by default a few are, as in a lived-in account).
    #[arg(long)]
    no_devices: bool,
}

/// Devices already signed in to the demo account: (user agent, IP, signed in, last active).
const DEMO_DEVICES: &[(&str, &str, i64, i64)] = &[
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        "198.51.100.20",
        180,
        2,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
        "192.0.2.44",
        600,
        14,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
        "198.51.100.73",
        1300,
        27,
    ),
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warden_mock=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    if !args.bind.is_loopback() {
        eprintln!(
            "warning: listening on {} exposes the demo user and its password to the network",
            args.bind
        );
    }
    let state = MockState::with_demo_user();
    if !args.no_devices {
        seed_devices(&state);
    }
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(args.bind, args.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", args.bind, args.port))?;
    let addr = listener.local_addr()?;
    // The first line is for scripts (cargo xtask demo reads it); the rest is for people.
    println!("warden-mock listening on http://{addr}/");
    println!("  hectoday API   http://{addr}{HECTODAY_PREFIX}");
    println!("  demo login     {DEMO_LOGIN} / {DEMO_PASSWORD}");
    println!("  control API    http://{addr}/__mock/  (loopback only)");
    warden_mock::serve(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

fn seed_devices(state: &MockState) {
    let Some(user) = state.store.user_by_login(DEMO_LOGIN) else {
        return;
    };
    let now = state.clock.now();
    for (agent, ip, signed_in_min, active_min) in DEMO_DEVICES {
        let session = state.store.create_session(
            &user.id,
            agent,
            Some((*ip).to_owned()),
            now - Duration::minutes(*signed_in_min),
        );
        state
            .store
            .touch(&session.id, now - Duration::minutes(*active_min));
    }
}
