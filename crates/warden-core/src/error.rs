//! One error type for the engine. Each variant says what went wrong in words a user
//! understands; `code()` is the small, stable set front ends branch on.

use serde::Serialize;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Whatever the login is (an email, a Matrix user, a phone number): the message does
    /// not guess which the server calls it.
    #[error("the server rejected the sign-in of {login}: a wrong password, or no such account")]
    BadCredentials { login: String },
    /// node-auth's admin API refused the operator's secret.
    #[error("the admin secret was rejected by the server")]
    BadAdminSecret,
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the server did not answer in time")]
    Timeout,
    #[error("the one-time code was not accepted: {0}")]
    BadCode(String),
    /// Watching cannot go on until the person signs in (a new code, a new password).
    #[error("{reason}; sign in again: {}", sign_in_hint(account))]
    NeedsSignIn { account: String, reason: String },
    /// `retry_after`: what the server asked, in seconds, however long.
    #[error("the server is rate limiting us{}", retry_after.map(|s| format!("; it asks to wait {}", wait_words(s))).unwrap_or_default())]
    RateLimited { retry_after: Option<u64> },
    #[error("the server answered {status}: {message}")]
    Server { status: u16, message: String },
    #[error("the server's answer could not be understood: {0}")]
    Protocol(String),
    #[error("the server refused: {0}")]
    Refused(String),
    /// Refused by Session Warden itself, before anything is sent.
    #[error(
        "Session Warden did not send this: that is Session Warden's own session; \
         `warden accounts remove` (or Remove account in the window) signs it out"
    )]
    OwnSession,
    /// Refused by Session Warden itself, before anything is sent: doing it could harm the
    /// person (the reason says how).
    #[error("{0}")]
    NotSent(String),
    #[error("no session {0} on this account (it may have ended already)")]
    SessionNotFound(String),
    #[error("the server still lists session {0} after revoking it")]
    RevokeNotEffective(String),
    /// A bug of ours, caught: the watcher of an account failed (a panic) and restarts.
    #[error("Session Warden's watcher failed ({0}); it restarts by itself")]
    WatcherFailed(String),
    #[error("no account matches {0:?}")]
    AccountNotFound(String),
    #[error("an account labelled {0:?} already exists")]
    DuplicateLabel(String),
    /// The same login on the same server is watched already: a second copy would take the
    /// first's session for a stranger's, and announce each sign-in of the other.
    #[error(
        "this account is already watched as {0:?} (the same server and login); nothing was added"
    )]
    AlreadyWatched(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("the OS keyring failed: {0}")]
    Keyring(String),
    #[error("no password stored in the keyring for account {0}; add the account again")]
    MissingCredential(String),
    #[error("the history database failed: {0}")]
    Ledger(String),
    /// A file of Session Warden's own could not be read or written (a full disk, a
    /// read-only home): the machine's failure, not the person's input.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The history database is damaged (not a database, or failing its integrity check).
    /// It is never replaced silently: the message says how to recover.
    #[error(
        "the history database {} is damaged ({reason}); nothing was changed. `warden ledger \
         recover` keeps it aside as {}.damaged and starts a new one (accounts must be added \
         again; passwords stay in the keyring until then)",
        path.display(), path.display()
    )]
    DamagedLedger {
        path: std::path::PathBuf,
        reason: String,
    },
}

/// The codes a front end may branch on. Anything else is shown as its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ErrorCode {
    BadCredentials,
    BadCode,
    NeedsSignIn,
    Unreachable,
    Refused,
    NotFound,
    InvalidInput,
    Keyring,
    /// Session Warden's own files or database failed (a full disk, a damaged ledger).
    Storage,
    Internal,
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::BadCredentials { .. } | Error::BadAdminSecret => ErrorCode::BadCredentials,
            Error::BadCode(_) => ErrorCode::BadCode,
            Error::NeedsSignIn { .. } => ErrorCode::NeedsSignIn,
            Error::Unreachable { .. } | Error::Timeout | Error::RateLimited { .. } => {
                ErrorCode::Unreachable
            }
            Error::Refused(_)
            | Error::NotSent(_)
            | Error::RevokeNotEffective(_)
            | Error::OwnSession => ErrorCode::Refused,
            Error::SessionNotFound(_) | Error::AccountNotFound(_) => ErrorCode::NotFound,
            Error::InvalidInput(_) | Error::DuplicateLabel(_) | Error::AlreadyWatched(_) => {
                ErrorCode::InvalidInput
            }
            Error::Keyring(_) | Error::MissingCredential(_) => ErrorCode::Keyring,
            Error::Ledger(_) | Error::Io { .. } | Error::DamagedLedger { .. } => ErrorCode::Storage,
            Error::Server { .. } | Error::Protocol(_) | Error::WatcherFailed(_) => {
                ErrorCode::Internal
            }
        }
    }
}

/// Where a person signs an account in again, in both front ends: every message that asks
/// them to names both.
pub fn sign_in_hint(account: &str) -> String {
    format!("Sign in again in the window, or `warden accounts login {account:?}` in a terminal")
}

impl Error {
    /// An I/O failure on one of Session Warden's own files.
    pub fn io(action: &'static str, path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_path_buf();
        move |source| Error::Io {
            action,
            path,
            source,
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Ledger(e.to_string())
    }
}

/// A wait as a person says it: "45 seconds", "20 minutes", "3 hours", "3 years".
pub fn wait_words(seconds: u64) -> String {
    let (n, unit) = match seconds {
        s if s < 90 => (s, "second"),
        s if s < 3600 => (s.div_ceil(60), "minute"),
        s if s < 36 * 3600 => (s.div_ceil(3600), "hour"),
        s if s < 60 * 86_400 => (s.div_ceil(86_400), "day"),
        s => (s.saturating_add(182 * 86_400) / (365 * 86_400), "year"),
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_is_said_as_a_person_says_it_however_long() {
        assert_eq!(wait_words(1), "1 second");
        assert_eq!(wait_words(45), "45 seconds");
        assert_eq!(wait_words(3600), "1 hour");
        assert_eq!(wait_words(20 * 60), "20 minutes");
        assert_eq!(wait_words(3 * 3600), "3 hours");
        assert_eq!(wait_words(94_608_000), "3 years");
        assert!(wait_words(u64::MAX).ends_with("years"), "no overflow");
        let limited = Error::RateLimited {
            retry_after: Some(94_608_000),
        };
        assert_eq!(
            limited.to_string(),
            "the server is rate limiting us; it asks to wait 3 years"
        );
    }
}
