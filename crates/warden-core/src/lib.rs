//! Session Warden's engine: the accounts a user watches, the session APIs it speaks, the
//! watcher that turns polls into events. Front ends (CLI, desktop shell) are thin layers over it.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod clock;
pub mod credential;
pub mod dialect;
pub mod error;
pub mod event;
pub mod geoip;
pub mod home;
pub mod ledger;
pub mod prompt;
pub mod rules;
pub mod secret;
pub mod session;
pub mod tell;
pub mod watch;

pub use accounts::Accounts;
pub use accounts::account::{Account, AccountId, NewAccount};
pub use clock::{Clock, SystemClock};
pub use credential::{CredentialStore, KeyringStore, MemoryStore, SecretKind};
pub use dialect::{DialectKind, SignInForm};
pub use error::{Error, ErrorCode, Result};
pub use event::{EndReason, Event, EventSink};
pub use geoip::{GeoIp, Operator};
pub use home::Home;
pub use prompt::{CodePrompt, CodeRequest, NoPrompt, PasswordOnly};
pub use secret::Secret;
pub use session::{Device, DeviceKind, Session, SessionId, Snapshot};
pub use tell::message::{Message, Outages};
pub use watch::idle::{IdleAfter, IdlePlan, IdlePolicy};

/// Libraries whose detailed output carries what they send: never more talkative than
/// `warn`, whatever `WARDEN_LOG` asks. tungstenite traces each WebSocket frame, and the first
/// one Session Warden sends to Home Assistant holds its access token.
const QUIET_LOG_TARGETS: &[&str] = &["tungstenite=warn", "tokio_tungstenite=warn"];

/// The log filter of every front end: `WARDEN_LOG` (else `default`), with
/// `QUIET_LOG_TARGETS` on top.
pub fn log_filter(default: &str) -> tracing_subscriber::EnvFilter {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WARDEN_LOG")
        .unwrap_or_else(|_| default.into());
    QUIET_LOG_TARGETS
        .iter()
        .filter_map(|quiet| quiet.parse().ok())
        .fold(filter, tracing_subscriber::EnvFilter::add_directive)
}
