//! Our session on each account: the token a call runs with, renewed or signed in again under
//! the account's lock when the server says it is gone (across processes, through the
//! keyring), and the secrets each account's calls must never let a server's text carry.

use std::future::Future;
use std::sync::Arc;

use crate::accounts::account::{Account, AccountId};
use crate::credential::{CredentialStore, SecretKind};
use crate::dialect::scrub;
use crate::dialect::{self, CallError};
use crate::error::{Error, Result};
use crate::prompt::CodePrompt;
use crate::secret::Secret;
use crate::session::SessionId;

use super::{Accounts, TokenSlot};

/// A sign-in that found no such route (404, 405) is a wrong address or the wrong API, not a
/// server failing: said so, in our words, with what to try.
pub(super) fn not_this_api(error: Error, account: &Account) -> Error {
    let status = match error {
        Error::Server {
            status: status @ (404 | 405),
            ..
        } => status,
        other => return other,
    };
    let api = account.dialect.title();
    let url = &account.base_url;
    let path = url.path();
    let hint = if path.contains("/_allauth/") || path.contains("/_matrix/") {
        format!(
            "give the site's own address ({}), not its API's",
            url.origin().ascii_serialization()
        )
    } else {
        "check the address, or let `--dialect auto` (Auto in the window) find the API".into()
    };
    Error::InvalidInput(format!(
        "{url} has no {api} sign-in (it answered {status}): {hint}"
    ))
}

/// Our token's secret parts, for the account's scrubbing.
fn known_token(known: &scrub::Known, account: &Account, token: &Secret) {
    for part in dialect::secret_parts(account.dialect, token) {
        known.add_own(&part);
    }
}

impl Accounts {
    /// Runs a dialect call with our session token; when the server says our session is
    /// gone, renews it where the API can (node-auth's refresh) or signs in again with the
    /// stored credentials, and retries once.
    pub(super) async fn call<'a, T, F, Fut>(&'a self, account: &'a Account, op: F) -> Result<T>
    where
        F: Fn(Secret) -> Fut,
        Fut: Future<Output = Result<T, CallError>> + 'a,
    {
        let known = self.secrets_of(account).await;
        known.scope(self.call_scoped(account, &known, op)).await
    }

    pub(super) async fn call_scoped<'a, T, F, Fut>(
        &'a self,
        account: &'a Account,
        known: &scrub::Known,
        op: F,
    ) -> Result<T>
    where
        F: Fn(Secret) -> Fut,
        Fut: Future<Output = Result<T, CallError>> + 'a,
    {
        let token = self.token(account).await?;
        known_token(known, account, &token);
        match op(token.clone()).await {
            Ok(value) => Ok(value),
            Err(CallError::Other(e)) => Err(e),
            Err(gone @ (CallError::Expired | CallError::Revoked)) => {
                let renewable = matches!(gone, CallError::Expired);
                let token = self.renew_or_sign_in(account, token, renewable).await?;
                known_token(known, account, &token);
                match op(token).await {
                    Ok(value) => Ok(value),
                    Err(CallError::Other(e)) => Err(e),
                    Err(CallError::Expired | CallError::Revoked) => Err(Error::Protocol(
                        "the server rejected a session it had just opened".into(),
                    )),
                }
            }
        }
    }

    pub(super) async fn token(&self, account: &Account) -> Result<Secret> {
        let slot = self.slot(&account.id);
        let mut cached = slot.lock().await;
        if let Some(token) = cached.as_ref() {
            return Ok(token.clone());
        }
        let token = match self
            .load_secret(&account.id, SecretKind::SessionToken)
            .await?
        {
            Some(token) => token,
            None => {
                let _only_us = self.account_lock(account).await?;
                // Another process may have signed in while we waited for the lock.
                match self
                    .load_secret(&account.id, SecretKind::SessionToken)
                    .await?
                {
                    Some(theirs) => theirs,
                    None => self.sign_in_and_keep(account).await?,
                }
            }
        };
        *cached = Some(token.clone());
        Ok(token)
    }

    /// Our session is gone or its token ran out: renews it where the API can (node-auth's
    /// refresh), else signs in again and ends the session held before. Under the account's
    /// lock, across processes: a process that waited for it uses the token the other just
    /// stored, and never spends a refresh token twice.
    /// `renewable`: false when the server said our session is gone for good (its token is
    /// never sent again, not even to renew it).
    pub(super) async fn renew_or_sign_in(
        &self,
        account: &Account,
        stale: Secret,
        renewable: bool,
    ) -> Result<Secret> {
        let _only_us = self.account_lock(account).await?;
        let stored = self
            .load_secret(&account.id, SecretKind::SessionToken)
            .await?;
        if let Some(theirs) = stored.filter(|t| *t != stale) {
            tracing::debug!(account = %account.id, "another process renewed the token");
            *self.slot(&account.id).lock().await = Some(theirs.clone());
            return Ok(theirs);
        }
        let renewed = if renewable {
            dialect::renew(account.dialect, &self.ctx(account), &stale).await?
        } else {
            None
        };
        match renewed {
            Some(renewed) => {
                tracing::debug!(account = %account.id, "token renewed");
                self.replace_token(account, &stale, renewed).await
            }
            None => {
                tracing::info!(account = %account.id, "our session ended; signing in again");
                self.drop_token(account, &stale).await;
                let fresh = self.sign_in_and_keep(account).await?;
                *self.slot(&account.id).lock().await = Some(fresh.clone());
                self.end_previous(account, &stale, &fresh).await;
                Ok(fresh)
            }
        }
    }

    /// Signs in with the stored credentials and keeps the token (keyring, ledger).
    pub(super) async fn sign_in_and_keep(&self, account: &Account) -> Result<Secret> {
        let password = self.stored_password(account).await?;
        let token = self.sign_in(account, &password, &self.prompt()).await?;
        self.store_secret(&account.id, SecretKind::SessionToken, token.clone())
            .await?;
        self.remember_own(account, &token)?;
        Ok(token)
    }

    /// The account's lock across processes (`locks::AccountLock`), waited for on a
    /// blocking thread.
    pub(super) async fn account_lock(
        &self,
        account: &Account,
    ) -> Result<crate::watch::locks::AccountLock> {
        let home = self.home.clone();
        let id = account.id.clone();
        tokio::task::spawn_blocking(move || crate::watch::locks::AccountLock::acquire(&home, &id))
            .await
            .map_err(|e| Error::WatcherFailed(format!("the account lock: {e}")))?
    }

    /// Puts a renewed token in place of `stale`, in the cache and the keyring.
    pub(super) async fn replace_token(
        &self,
        account: &Account,
        stale: &Secret,
        renewed: Secret,
    ) -> Result<Secret> {
        let slot = self.slot(&account.id);
        let mut cached = slot.lock().await;
        if let Some(current) = cached.as_ref().filter(|c| *c != stale) {
            // Another caller renewed it first: use theirs.
            return Ok(current.clone());
        }
        self.store_secret(&account.id, SecretKind::SessionToken, renewed.clone())
            .await?;
        self.remember_own(account, &renewed)?;
        *cached = Some(renewed.clone());
        Ok(renewed)
    }

    pub(super) async fn drop_token(&self, account: &Account, stale: &Secret) {
        {
            let slot = self.slot(&account.id);
            let mut cached = slot.lock().await;
            if cached.as_ref() == Some(stale) {
                *cached = None;
            }
        }
        if let Err(e) = self
            .blocking(
                move |store, id| store.delete(&id, SecretKind::SessionToken),
                &account.id,
            )
            .await
        {
            tracing::warn!(account = %account.id, "could not forget the old session token: {e}");
        }
    }

    /// The session token this process holds, without waiting: `None` when it holds none,
    /// or another task is renewing it this moment.
    pub(super) fn held_token(&self, id: &AccountId) -> Option<Secret> {
        self.slot(id).try_lock().ok()?.clone()
    }

    /// Our session token: this process's, or the one the keyring holds (another process's).
    pub(super) async fn current_token(&self, id: &AccountId) -> Result<Option<Secret>> {
        if let Some(token) = self.slot(id).lock().await.clone() {
            return Ok(Some(token));
        }
        self.load_secret(id, SecretKind::SessionToken).await
    }

    pub(super) fn slot(&self, id: &AccountId) -> TokenSlot {
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(tokens.entry(id.clone()).or_default())
    }

    pub(super) async fn sign_in(
        &self,
        account: &Account,
        password: &Secret,
        prompt: &Arc<dyn CodePrompt>,
    ) -> Result<Secret> {
        let known = self.secrets_for(&account.id);
        known.add_password(password);
        let token = known
            .scope(dialect::login(
                account.dialect,
                &self.ctx(account),
                &account.login,
                password,
                prompt,
            ))
            .await?;
        known_token(&known, account, &token);
        Ok(token)
    }

    /// The account's secrets, shared by every call on it.
    pub(super) fn secrets_for(&self, id: &AccountId) -> scrub::Known {
        self.secrets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(id.clone())
            .or_default()
            .clone()
    }

    /// [`Accounts::secrets_for`], with the password read once per process (where the API
    /// has one): a server may quote it back at any call, not only at a sign-in.
    pub(super) async fn secrets_of(&self, account: &Account) -> scrub::Known {
        let known = self.secrets_for(&account.id);
        if account.dialect.uses_password() && !known.password_known() {
            match self.load_secret(&account.id, SecretKind::Password).await {
                Ok(Some(password)) => known.add_password(&password),
                Ok(None) => known.no_password(),
                Err(e) => tracing::debug!(account = %account.id, "password not read: {e}"),
            }
        }
        known
    }

    /// Signs in again by hand, for an account that cannot by itself (its password changed:
    /// pass the new one; or it needs a one-time code: `prompt` asks). The new password, if
    /// any, replaces the old one in the keyring only once it worked.
    pub async fn sign_in_again(
        &self,
        account: &Account,
        password: Option<Secret>,
        prompt: &Arc<dyn CodePrompt>,
    ) -> Result<()> {
        let _only_us = self.account_lock(account).await?;
        let password = match password {
            Some(p) => p,
            None => self.stored_password(account).await?,
        };
        let token = self.sign_in(account, &password, prompt).await?;
        // The session this replaces: this process's, or the one another left in the keyring.
        let previous = self.current_token(&account.id).await.ok().flatten();
        if account.dialect.uses_password() {
            self.store_secret(&account.id, SecretKind::Password, password)
                .await?;
        }
        self.store_secret(&account.id, SecretKind::SessionToken, token.clone())
            .await?;
        self.remember_own(account, &token)?;
        *self.slot(&account.id).lock().await = Some(token.clone());
        if let Some(previous) = previous {
            self.end_previous(account, &previous, &token).await;
        }
        Ok(())
    }

    /// Notes in the ledger which server session `token` holds, so that once replaced, a
    /// listing that still shows it shows it as ours.
    pub(super) fn remember_own(&self, account: &Account, token: &Secret) -> Result<()> {
        if let Some(server_id) = dialect::own_server_id(account.dialect, token) {
            let id = SessionId::derive(&account.id, &Secret::new(server_id));
            self.ledger
                .add_own_session(&account.id, &id, self.clock.now())?;
        }
        Ok(())
    }

    /// After signing in again, ends the session we held before, so Session Warden leaves no
    /// trail of its own sessions (node-auth keeps listing a session whose refresh token a
    /// newer sign-in took). Best effort: one the server still lists is known as ours anyway.
    pub(super) async fn end_previous(
        &self,
        account: &Account,
        previous: &Secret,
        current: &Secret,
    ) {
        let kind = account.dialect;
        let Some(old) = dialect::own_server_id(kind, previous) else {
            return;
        };
        if dialect::own_server_id(kind, current).as_deref() == Some(old.as_str()) {
            return;
        }
        let password = self.password_for_revoke(account).await.ok().flatten();
        let ctx = self.ctx_with(account, password.as_ref());
        match dialect::revoke_id(kind, &ctx, current, &Secret::new(old)).await {
            Ok(()) => tracing::info!(account = %account.id, "ended our previous session"),
            Err(e) => {
                tracing::info!(account = %account.id, "our previous session was not ended: {e:?}")
            }
        }
    }

    /// What the account signs in with from the keyring (nothing, where the API has no
    /// password).
    pub(super) async fn stored_password(&self, account: &Account) -> Result<Secret> {
        if !account.dialect.uses_password() {
            return Ok(Secret::new(""));
        }
        self.load_secret(&account.id, SecretKind::Password)
            .await?
            .ok_or_else(|| Error::MissingCredential(account.id.to_string()))
    }

    pub(super) async fn load_secret(
        &self,
        id: &AccountId,
        kind: SecretKind,
    ) -> Result<Option<Secret>> {
        self.blocking(move |store, id| store.get(&id, kind), id)
            .await
    }

    pub(super) async fn store_secret(
        &self,
        id: &AccountId,
        kind: SecretKind,
        secret: Secret,
    ) -> Result<()> {
        self.blocking(move |store, id| store.set(&id, kind, &secret), id)
            .await
    }

    pub(super) async fn forget_secrets(&self, id: &AccountId) {
        for kind in [SecretKind::Password, SecretKind::SessionToken] {
            if let Err(e) = self
                .blocking(move |store, id| store.delete(&id, kind), id)
                .await
            {
                tracing::warn!(account = %id, "could not delete a keyring entry: {e}");
            }
        }
    }

    /// Keyring calls block on D-Bus: they run on tokio's blocking pool.
    pub(super) async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn CredentialStore, AccountId) -> Result<T> + Send + 'static,
        id: &AccountId,
    ) -> Result<T> {
        let store = Arc::clone(&self.credentials);
        let id = id.clone();
        tokio::task::spawn_blocking(move || f(store.as_ref(), id))
            .await
            .map_err(|e| Error::Keyring(format!("keyring call failed: {e}")))?
    }
}
