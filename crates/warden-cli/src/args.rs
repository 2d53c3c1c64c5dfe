//! What `warden` takes on its command line: the clap definitions, in a library so that its
//! manual page and shell completions are generated from the very same definitions.

use clap::{Args, Parser, Subcommand};
use warden_core::{DialectKind, Error};

#[derive(Parser)]
#[command(
    name = "warden",
    version,
    about = "Watch and end the login sessions of your accounts"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Add and list the accounts Session Warden watches.
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// List every live session of your accounts.
    Sessions {
        /// One account, by id or label (default: all).
        #[arg(long)]
        account: Option<String>,
        /// Every session ever seen, ended ones included, from the history.
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// End sessions (each checked gone by listing again), all others with --others, or all
    /// others on every account with --panic.
    Revoke(RevokeArgs),
    /// The idle policy of an account: sessions not used for a while are signed out on their
    /// own. Without --idle, shows it and what it would sign out now.
    Policy {
        /// Account id or label.
        account: String,
        /// Sign out sessions not used for over 1w, 1m, 3m, 6m or 1y; "off" turns it off.
        #[arg(long)]
        idle: Option<String>,
        /// Trusted ("It's me") devices too (by default they are spared).
        #[arg(long, requires = "idle")]
        include_trusted: bool,
        /// Turn it on without asking (a script's way; on a terminal it asks).
        #[arg(long, short)]
        yes: bool,
    },
    /// What Session Warden does on its own when an alert says a session is surely not yours
    /// (a copied cookie used abroad, one session in two places at once, a session moved to
    /// a server): tell you, sign it out after a short wait, or sign it out at once. Without a
    /// choice, shows the account's defence and its pending sign-outs.
    Defence(DefenceArgs),
    /// Watch every account and print each event as it happens (Ctrl-C stops).
    Watch {
        /// One JSON object per line instead of words.
        #[arg(long)]
        json: bool,
        /// Also show desktop notifications.
        #[arg(long)]
        notify: bool,
        /// Notify of every new sign-in, a known device's from a known network too (by
        /// default those are history only).
        #[arg(long)]
        every_sign_in: bool,
        /// Seconds between polls of each account.
        #[arg(long, default_value_t = 30)]
        interval: u64,
    },
    /// The history of sign-ins, alerts and ends, oldest first.
    History {
        #[arg(long)]
        account: Option<String>,
        /// Write it as CSV or JSON instead of a table.
        #[arg(long, value_parser = ["csv", "json"], conflicts_with = "follow")]
        export: Option<String>,
        /// Then keep printing each event as any Session Warden process on this home records
        /// it (Ctrl-C stops).
        #[arg(long)]
        follow: bool,
        /// With --follow: one JSON object per line.
        #[arg(long, requires = "follow")]
        json: bool,
    },
    /// The history database itself.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// "It's me": the session's device is yours; nothing is flagged for it unless its session is used from elsewhere.
    Trust {
        session_id: String,
        #[arg(long)]
        account: Option<String>,
    },
    /// Give a session your own name ("Mum's iPad"); an empty name removes it.
    Label {
        session_id: String,
        label: String,
        #[arg(long)]
        account: Option<String>,
    },
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("choice").args(["tell", "wait", "at_once", "cancel"])))]
pub struct DefenceArgs {
    /// Account id or label.
    #[arg(required_unless_present_any = ["cancel", "default"])]
    pub account: Option<String>,
    /// Tell me: notify, and leave the session to me.
    #[arg(long)]
    pub tell: bool,
    /// Sign out after this wait (30s, 2m, 1h), in which "It's me" cancels it.
    #[arg(long, value_parser = parse_wait, value_name = "DURATION")]
    pub wait: Option<std::time::Duration>,
    /// Sign out as soon as the alert is seen.
    #[arg(long)]
    pub at_once: bool,
    /// Cancel the pending sign-out of this session: it is yours.
    #[arg(long, value_name = "SESSION")]
    pub cancel: Option<String>,
    /// The default for accounts added from now on, instead of one account's.
    #[arg(long, conflicts_with_all = ["account", "cancel"])]
    pub default: bool,
}

/// "30s", "2m", "1h", or seconds alone.
pub fn parse_wait(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is no wait: write 30s, 2m or 1h"))?;
    let per_unit: u64 = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return Err(format!("{text:?} is no wait: write 30s, 2m or 1h")),
    };
    // Too long to count is as refused as a day and a second: the wait's range says so.
    Ok(std::time::Duration::from_secs(n.saturating_mul(per_unit)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_is_read_in_seconds_minutes_or_hours_and_nothing_overflows() {
        assert_eq!(parse_wait("30s"), Ok(std::time::Duration::from_secs(30)));
        assert_eq!(parse_wait("2m"), Ok(std::time::Duration::from_secs(120)));
        assert_eq!(parse_wait("1h"), Ok(std::time::Duration::from_secs(3600)));
        assert_eq!(parse_wait("45"), Ok(std::time::Duration::from_secs(45)));
        assert!(parse_wait("2 weeks").is_err());
        assert!(parse_wait("h").is_err());
        assert_eq!(
            parse_wait("9999999999999999999h"),
            Ok(std::time::Duration::from_secs(u64::MAX))
        );
    }
}

#[derive(Subcommand)]
pub enum LedgerCommand {
    /// Keep a damaged history database aside (as warden.db.damaged) and start a new one. The
    /// accounts must then be added again; what the old file held stays in it.
    Recover,
}

#[derive(Subcommand)]
pub enum AccountsCommand {
    /// Sign in once to check, then keep the password in the OS keyring. Prints the account id.
    Add {
        /// The service's base URL, e.g. http://127.0.0.1:8787/hectoday
        #[arg(long)]
        url: String,
        /// Which session API the service speaks: secureauth, node-auth, node-auth-admin,
        /// hectoday, rtc, better-auth, matrix, allauth, home-assistant, or auto to find out by
        /// asking the server (Home Assistant is asked first and alone: it counts every refused
        /// request as a failed login of your address). On Home Assistant, Session Warden never
        /// signs in again by itself: when it is signed out there, `accounts login` does it.
        #[arg(long, value_parser = parse_dialect, default_value = "auto")]
        dialect: DialectChoice,
        /// The email or username you sign in with (SecureAuth: the phone number; Home
        /// Assistant: the username).
        #[arg(long)]
        login: String,
        /// A name for the account (default: login@host).
        #[arg(long)]
        label: Option<String>,
        /// Read the password from the first line of standard input instead of prompting;
        /// a one-time code, if the service asks for one, is the next line. SecureAuth has no
        /// password: its texted code is the first line (an empty line before it is skipped).
        #[arg(long)]
        password_stdin: bool,
        /// Send the password over plain http:// to another machine without asking.
        #[arg(long)]
        allow_plain_http: bool,
    },
    /// Sign an account in again, asking for a new one-time code where its API needs one
    /// (SecureAuth every 7 days), or a new password after it changed.
    Login {
        /// Account id or label.
        account: String,
        /// Read a new password from the first line of standard input (default: the one in
        /// the keyring, or a prompt when the server rejects it).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the accounts.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Stop watching an account: signs our session out and deletes its keyring entries.
    Remove {
        /// Account id or label.
        account: String,
    },
    /// Check that each account (or one) can still be listed with its stored credentials.
    Test {
        /// Account id or label (default: all).
        account: Option<String>,
    },
}

#[derive(Args)]
pub struct RevokeArgs {
    /// The sessions' ids, as `warden sessions` shows them (one or several).
    #[arg(
        required_unless_present_any = ["others", "panic"],
        conflicts_with_all = ["others", "panic"]
    )]
    pub session_ids: Vec<String>,
    /// Sign out every session but Session Warden's own.
    #[arg(long, conflicts_with = "panic")]
    pub others: bool,
    /// Sign out every session but ours on every account.
    #[arg(long)]
    pub panic: bool,
    /// The account, by id or label (needed for --others when there are several).
    #[arg(long)]
    pub account: Option<String>,
}

/// `--dialect`: an API by name, or `auto` to ask the server.
#[derive(Clone, Copy)]
pub enum DialectChoice {
    Auto,
    Named(DialectKind),
}

pub fn parse_dialect(s: &str) -> Result<DialectChoice, String> {
    if s == "auto" {
        return Ok(DialectChoice::Auto);
    }
    s.parse()
        .map(DialectChoice::Named)
        .map_err(|e: Error| e.to_string())
}
