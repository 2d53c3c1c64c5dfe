//! What `session-warden` takes on its command line. Only clap is used here, on purpose:
//! `warden-tasks pages` (for the Debian package) includes this very file to write the app's
//! manual page, without building the app.

use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "session-warden",
    version,
    about = "A tray companion that watches the login sessions of your accounts",
    long_about = "A tray companion that watches the login sessions of your accounts on web \
                  services: it lists every signed-in device with its last activity and where it \
                  is, tells you the moment a new or suspicious one appears, and signs a session \
                  out with one click, checked gone by asking the server again. Passwords stay in \
                  the system keyring (Secret Service).\n\n\
                  It starts in the tray; a second start opens the running one's window. \
                  `warden`, its command line, works on the same accounts and history."
)]
pub struct Args {
    /// Open the window at start; otherwise Session Warden starts in the tray.
    #[arg(long)]
    pub open: bool,
    /// Try it before trusting it with a password: starts the bundled mock server
    /// (warden-mock), watches its made-up demo account and opens the window. Nothing is
    /// written to your keyring or history; the demo's own files go when it quits.
    #[arg(long)]
    pub demo: bool,
}

/// What the app reads from its environment (for its manual page).
#[allow(dead_code)]
pub const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "WARDEN_HOME",
        "the directory accounts, settings and history are kept in (default: \
         $XDG_DATA_HOME/session-warden, that is ~/.local/share/session-warden); passwords are \
         never among them: they are in the keyring. A demo keeps its files in demo/ under it, \
         and removes them when it quits",
    ),
    (
        "WARDEN_LOG",
        "what to log on stderr, e.g. debug or warden_core=trace (default: info)",
    ),
    (
        "WARDEN_POLL_SECONDS",
        "how often every account is polled, overriding the settings (for demos and tests)",
    ),
];

/// The whole command line, as clap describes it.
// The app parses with `Args::parse`; this is for its manual page (warden-tasks) and the tests.
#[allow(dead_code)]
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn the_definitions_are_sound() {
        command().debug_assert();
    }

    #[test]
    fn demo_and_open_are_read_and_a_mistyped_option_is_refused() {
        let args = Args::try_parse_from(["session-warden", "--demo", "--open"]).expect("parses");
        assert!(args.demo && args.open);
        let args = Args::try_parse_from(["session-warden"]).expect("parses");
        assert!(!args.demo && !args.open);
        assert!(Args::try_parse_from(["session-warden", "--dmeo"]).is_err());
    }
}
