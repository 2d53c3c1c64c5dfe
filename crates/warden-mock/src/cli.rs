//! What `warden-mock` takes on its command line, in the library so that its manual page is
//! generated from the very same definitions.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use clap::Parser;

#[derive(Parser)]
#[command(
    version,
    about = "A local server that plays the session APIs Session Warden speaks"
)]
pub struct Args {
    /// Address to listen on. Anything but loopback exposes the demo accounts to the network.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind: IpAddr,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 8787)]
    pub port: u16,
    /// A built-in scenario (quiet, demo, credential-stuffing, impossible-travel,
    /// refresh-storm, flaky) or a scenario file. Default: quiet.
    #[arg(long, value_name = "NAME|FILE")]
    pub scenario: Option<String>,
    /// Start with no device signed in and no scenario.
    #[arg(long, conflicts_with = "scenario")]
    pub no_devices: bool,
    /// Keep users and sessions in this file (written atomically on every change) instead of
    /// in memory only.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// The bearer secret of node-auth's admin API.
    #[arg(long, default_value = crate::DEMO_ADMIN_SECRET, env = "WARDEN_MOCK_ADMIN_SECRET")]
    pub admin_secret: String,
    /// Stop when standard input reaches its end. A program that starts the mock (the app's
    /// demo mode) keeps the pipe open: when that program ends, however it ends, so does the
    /// mock.
    #[arg(long)]
    pub stop_on_stdin_eof: bool,
    /// List the built-in scenarios and exit.
    #[arg(long)]
    pub list_scenarios: bool,
}

/// The whole command line, as clap describes it.
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}
