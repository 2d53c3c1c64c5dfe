//! Asking the person for a one-time code: SecureAuth texts one, node-auth and RTC ask for a
//! TOTP code (RTC also takes a backup code). The CLI asks on the terminal, the app in its
//! window; a sign-in in the background has nobody to ask and says so.

use crate::error::{Error, Result};
use crate::secret::Secret;

/// What the server asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeRequest {
    /// A code the service sends to this number (SecureAuth: by WhatsApp or SMS, its choice).
    Sms { to: String },
    /// The 6-digit code of an authenticator app.
    Totp,
    /// The code of an authenticator app, or one of the backup codes.
    TotpOrBackup,
}

impl CodeRequest {
    /// The question, as a person reads it once the code is on its way.
    pub fn question(&self) -> String {
        match self {
            CodeRequest::Sms { to } => format!("Code sent to {to}"),
            CodeRequest::Totp => "Code from your authenticator app".into(),
            CodeRequest::TotpOrBackup => {
                "Code from your authenticator app (or a backup code)".into()
            }
        }
    }

    /// What is needed, before anything is sent: nothing here claims a code is on its way.
    pub fn need(&self) -> String {
        match self {
            CodeRequest::Sms { to } => format!("a new one-time code, which it sends to {to}"),
            CodeRequest::Totp => "a code from your authenticator app".into(),
            CodeRequest::TotpOrBackup => {
                "a code from your authenticator app (or a backup code)".into()
            }
        }
    }
}

/// Answers a [`CodeRequest`]. Called on a blocking thread: it may wait for a person.
pub trait CodePrompt: Send + Sync {
    fn code(&self, account: &str, request: &CodeRequest) -> Result<Secret>;

    /// Whether anybody is there to answer. A sign-in whose first step costs the person
    /// something (SecureAuth texts them a code) is not started when nobody is.
    fn can_answer(&self) -> bool {
        true
    }
}

/// Nobody to ask: a sign-in that needs a code fails with [`Error::NeedsSignIn`].
pub struct NoPrompt;

impl CodePrompt for NoPrompt {
    fn code(&self, account: &str, request: &CodeRequest) -> Result<Secret> {
        Err(Error::NeedsSignIn {
            account: account.to_owned(),
            reason: format!("{account} asks for {}", request.need()),
        })
    }

    fn can_answer(&self) -> bool {
        false
    }
}

/// The person asked for this sign-in, handing over the password, but has no code to give
/// (the app's demo, which adds its made-up accounts as it starts): a sign-in that needs only
/// the password goes ahead, even where Session Warden never signs in by itself (Home
/// Assistant); one that needs a code fails with [`Error::NeedsSignIn`].
pub struct PasswordOnly;

impl CodePrompt for PasswordOnly {
    fn code(&self, account: &str, request: &CodeRequest) -> Result<Secret> {
        NoPrompt.code(account, request)
    }
}
