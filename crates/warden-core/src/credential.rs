//! Where secrets live: the OS keyring (Secret Service on Linux, Keychain on macOS, the
//! Credential Manager on Windows). Never a file, never a log line.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::accounts::account::AccountId;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Which of an account's secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretKind {
    /// What the user typed to sign in.
    Password,
    /// The session token Session Warden holds on the server, kept so that every run of the
    /// CLI and the app reuses one session instead of signing in anew.
    SessionToken,
}

impl SecretKind {
    fn as_str(self) -> &'static str {
        match self {
            SecretKind::Password => "password",
            SecretKind::SessionToken => "session",
        }
    }
}

/// A store of secrets. Calls may block (D-Bus round trips): call them off the async runtime.
pub trait CredentialStore: Send + Sync + 'static {
    /// `Ok(None)` when nothing is stored: absence is not an error.
    fn get(&self, account: &AccountId, kind: SecretKind) -> Result<Option<Secret>>;
    fn set(&self, account: &AccountId, kind: SecretKind, secret: &Secret) -> Result<()>;
    /// Deleting what is not there succeeds.
    fn delete(&self, account: &AccountId, kind: SecretKind) -> Result<()>;
}

/// The OS keyring through the `keyring` crate. Each secret is one entry with
/// `service = "session-warden"` and `username = "<account id>/<kind>"`.
#[derive(Debug, Clone)]
pub struct KeyringStore {
    service: String,
}

impl KeyringStore {
    pub const SERVICE: &'static str = "session-warden";

    pub fn new() -> Self {
        Self {
            service: Self::SERVICE.to_owned(),
        }
    }

    /// The `username` attribute an entry is stored under, for tools like `secret-tool`.
    pub fn username(account: &AccountId, kind: SecretKind) -> String {
        format!("{account}/{}", kind.as_str())
    }

    fn entry(&self, account: &AccountId, kind: SecretKind) -> Result<keyring::Entry> {
        keyring::Entry::new(&self.service, &Self::username(account, kind)).map_err(keyring_error)
    }
}

impl Default for KeyringStore {
    fn default() -> Self {
        Self::new()
    }
}

fn keyring_error(e: keyring::Error) -> Error {
    Error::Keyring(e.to_string())
}

impl CredentialStore for KeyringStore {
    fn get(&self, account: &AccountId, kind: SecretKind) -> Result<Option<Secret>> {
        match self.entry(account, kind)?.get_password() {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(keyring_error(e)),
        }
    }

    fn set(&self, account: &AccountId, kind: SecretKind, secret: &Secret) -> Result<()> {
        self.entry(account, kind)?
            .set_password(secret.expose())
            .map_err(keyring_error)
    }

    fn delete(&self, account: &AccountId, kind: SecretKind) -> Result<()> {
        match self.entry(account, kind)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(keyring_error(e)),
        }
    }
}

/// Secrets in process memory only: for unit tests of logic that is not about the keyring.
/// The real keyring is exercised by the cross-process tests in `tests/`.
#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<(AccountId, SecretKind), Secret>>,
}

impl MemoryStore {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<(AccountId, SecretKind), Secret>> {
        // A panic while holding this lock cannot leave the map half-written.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl CredentialStore for MemoryStore {
    fn get(&self, account: &AccountId, kind: SecretKind) -> Result<Option<Secret>> {
        Ok(self.entries().get(&(account.clone(), kind)).cloned())
    }

    fn set(&self, account: &AccountId, kind: SecretKind, secret: &Secret) -> Result<()> {
        self.entries()
            .insert((account.clone(), kind), secret.clone());
        Ok(())
    }

    fn delete(&self, account: &AccountId, kind: SecretKind) -> Result<()> {
        self.entries().remove(&(account.clone(), kind));
        Ok(())
    }
}
