//! One error type for the engine. Each variant says what went wrong in words a user
//! understands; `code()` is the small, stable set front ends branch on.

use serde::Serialize;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the server rejected the email or password for {login}")]
    BadCredentials { login: String },
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the server did not answer in time")]
    Timeout,
    #[error("the one-time code was not accepted: {0}")]
    BadCode(String),
    #[error("{0}: sign in again from Session Warden to enter a new code")]
    NeedsSignIn(String),
    #[error("the server is rate limiting us{}", retry_after.map(|s| format!("; it asks to wait {s} s")).unwrap_or_default())]
    RateLimited { retry_after: Option<u64> },
    #[error("the server answered {status}: {message}")]
    Server { status: u16, message: String },
    #[error("the server's answer could not be understood: {0}")]
    Protocol(String),
    #[error("the server refused: {0}")]
    Refused(String),
    #[error("no session {0} on this account (it may have ended already)")]
    SessionNotFound(String),
    #[error("the server still lists session {0} after revoking it")]
    RevokeNotEffective(String),
    #[error("no account matches {0:?}")]
    AccountNotFound(String),
    #[error("an account labelled {0:?} already exists")]
    DuplicateLabel(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("the OS keyring failed: {0}")]
    Keyring(String),
    #[error("no password stored in the keyring for account {0}; add the account again")]
    MissingCredential(String),
    #[error("the history database failed: {0}")]
    Ledger(String),
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
    Internal,
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::BadCredentials { .. } => ErrorCode::BadCredentials,
            Error::BadCode(_) => ErrorCode::BadCode,
            Error::NeedsSignIn(_) => ErrorCode::NeedsSignIn,
            Error::Unreachable { .. } | Error::Timeout | Error::RateLimited { .. } => {
                ErrorCode::Unreachable
            }
            Error::Refused(_) | Error::RevokeNotEffective(_) => ErrorCode::Refused,
            Error::SessionNotFound(_) | Error::AccountNotFound(_) => ErrorCode::NotFound,
            Error::InvalidInput(_) | Error::DuplicateLabel(_) => ErrorCode::InvalidInput,
            Error::Keyring(_) | Error::MissingCredential(_) => ErrorCode::Keyring,
            Error::Server { .. } | Error::Protocol(_) | Error::Ledger(_) => ErrorCode::Internal,
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Ledger(e.to_string())
    }
}
