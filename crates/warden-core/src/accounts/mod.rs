//! `Accounts`: everything a front end does with the user's accounts — add, list, remove,
//! list their sessions, revoke — over the ledger, the keyring and the dialects.

pub mod account;
mod defence;
pub use defence::Defended;
mod ending;
mod history;
mod tokens;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::accounts::account::{Account, AccountId, NewAccount};
use crate::clock::Clock;
use crate::credential::{CredentialStore, SecretKind};
use crate::dialect::http;
use crate::dialect::scrub;
use crate::dialect::{self, Ctx};
use crate::error::{Error, Result};
use crate::geoip::GeoIp;
use crate::home::Home;
use crate::ledger::Ledger;
use crate::prompt::{CodePrompt, NoPrompt};
use crate::rules::{Judge, Thresholds, device_identity};
use crate::secret::Secret;
use crate::session::{Session, SessionId, Snapshot};

type TokenSlot = Arc<tokio::sync::Mutex<Option<Secret>>>;

/// Ledger work blocks (a write of another process holds SQLite for up to its busy timeout):
/// on a multi-threaded runtime (the app's) it runs in `block_in_place`, so the runtime moves
/// its other tasks to other threads meanwhile, as the keyring's calls do on the blocking
/// pool; on a single-threaded runtime (the CLI's) there is no other task to move.
pub(crate) fn blocking_io<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

pub struct Accounts {
    home: Home,
    ledger: Ledger,
    /// Accounts already read, by id (`get`).
    known: Mutex<HashMap<AccountId, Account>>,
    credentials: Arc<dyn CredentialStore>,
    clock: Arc<dyn Clock>,
    http: http::Clients,
    /// Our session token per account, cached so a poll costs one request. Each account's
    /// slot is locked while signing in, so two callers never open two sessions for one
    /// account, and a slow server never holds up another account.
    tokens: Mutex<HashMap<AccountId, TokenSlot>>,
    /// The secrets each account's calls must never let a server's text carry (`scrub`).
    secrets: Mutex<HashMap<AccountId, scrub::Known>>,
    /// When this process last trimmed the history (`retention`).
    last_trim: Mutex<Option<std::time::Instant>>,
    /// Who answers when a sign-in asks for a one-time code.
    prompt: Mutex<Arc<dyn CodePrompt>>,
    judge: Judge,
    /// Where addresses are and whose networks they are on (none unless given); swapped
    /// whole when the person names another database.
    geoip: Mutex<Arc<GeoIp>>,
}

impl Accounts {
    pub fn open(
        home: &Home,
        credentials: Arc<dyn CredentialStore>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        home.ensure()?;
        let ledger = Ledger::open(&home.ledger_path())?;
        let judge = Judge::new(Thresholds::load(&home.rules_path())?);
        for account in ledger.accounts()? {
            for device in ledger.trusted(&account.id)? {
                judge.trust_device(&account.id, &device);
            }
        }
        Ok(Self {
            home: home.clone(),
            ledger,
            known: Mutex::default(),
            credentials,
            clock,
            http: http::Clients::default(),
            tokens: Mutex::new(HashMap::new()),
            secrets: Mutex::default(),
            last_trim: Mutex::default(),
            prompt: Mutex::new(Arc::new(NoPrompt)),
            judge,
            geoip: Mutex::new(Arc::new(GeoIp::none())),
        })
    }

    /// Places and operators from these IP databases from now on.
    pub fn with_geoip(self, geoip: Arc<GeoIp>) -> Self {
        self.set_geoip(geoip);
        self
    }

    /// Other IP databases, from the next poll on.
    pub fn set_geoip(&self, geoip: Arc<GeoIp>) {
        *self.geoip.lock().unwrap_or_else(|p| p.into_inner()) = geoip;
    }

    pub fn geoip(&self) -> Arc<GeoIp> {
        Arc::clone(&self.geoip.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The detection rules and what they learned of each account.
    pub fn judge(&self) -> &Judge {
        &self.judge
    }

    /// Every request to a service gives up after `timeout` (15 s unless set).
    pub fn with_request_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.http = http::Clients::new(timeout);
        self
    }

    /// Who to ask for one-time codes from now on (by default nobody: a sign-in that needs a
    /// code fails with `NeedsSignIn`).
    pub fn set_prompt(&self, prompt: Arc<dyn CodePrompt>) {
        *self.prompt.lock().unwrap_or_else(|p| p.into_inner()) = prompt;
    }

    fn prompt(&self) -> Arc<dyn CodePrompt> {
        Arc::clone(&self.prompt.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn ctx<'a>(&'a self, account: &'a Account) -> Ctx<'a> {
        self.ctx_with(account, None)
    }

    /// A call that hands the account's password to the server again (Matrix's sign-outs).
    fn ctx_with<'a>(&'a self, account: &'a Account, password: Option<&'a Secret>) -> Ctx<'a> {
        Ctx {
            http: self.http.for_url(&account.base_url),
            base: &account.base_url,
            account: &account.id,
            login: &account.login,
            label: &account.label,
            now: self.clock.now(),
            password,
        }
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Signs in once to check URL, API and password, then keeps the password in the
    /// keyring and the account (no secret) in the ledger.
    pub async fn add(&self, new: NewAccount, password: Secret) -> Result<Account> {
        self.add_with(new, password, &self.prompt()).await
    }

    /// `add`, asking `prompt` for any one-time code (the window asks in its add form,
    /// while polls in the background keep asking nobody).
    pub async fn add_with(
        &self,
        new: NewAccount,
        password: Secret,
        prompt: &Arc<dyn CodePrompt>,
    ) -> Result<Account> {
        let (base_url, login, label) = new.validate()?;
        if password.is_empty() && new.dialect.uses_password() {
            return Err(Error::InvalidInput("the password is empty".into()));
        }
        if let Some(watched) = self
            .ledger
            .accounts()?
            .into_iter()
            .find(|a| a.is_same_login(&base_url, new.dialect, &login))
        {
            return Err(Error::AlreadyWatched(watched.label));
        }
        if self.ledger.label_taken(&label)? {
            return Err(Error::DuplicateLabel(label));
        }
        let account = Account {
            id: AccountId::generate(),
            label,
            base_url,
            dialect: new.dialect,
            login,
            added_at: self.clock.now(),
        };
        let token = self
            .sign_in(&account, &password, prompt)
            .await
            .map_err(|e| tokens::not_this_api(e, &account))?;
        if let Err(e) = self.keep_new_account(&account, password, &token).await {
            // The session just opened would otherwise stay signed in on the server, with
            // nobody holding it: sign it out again.
            if let Err(out) = dialect::logout(account.dialect, &self.ctx(&account), &token).await {
                tracing::warn!(account = %account.id, "could not sign the new session out: {out}");
            }
            return Err(e);
        }
        *self.slot(&account.id).lock().await = Some(token);
        tracing::info!(account = %account.id, dialect = %account.dialect, "account added");
        Ok(account)
    }

    /// The keyring entries and the ledger row of an account just signed in; all or nothing.
    async fn keep_new_account(
        &self,
        account: &Account,
        password: Secret,
        token: &Secret,
    ) -> Result<()> {
        let kept = async {
            if account.dialect.uses_password() {
                self.store_secret(&account.id, SecretKind::Password, password)
                    .await?;
            }
            self.store_secret(&account.id, SecretKind::SessionToken, token.clone())
                .await?;
            self.ledger.insert_account(account)?;
            // The home's default as it is now: changing the default later leaves the
            // accounts already added as they are.
            self.ledger
                .set_defence(&account.id, self.ledger.default_defence()?)?;
            self.remember_own(account, token)
        }
        .await;
        if kept.is_err() {
            self.forget_secrets(&account.id).await;
        }
        kept
    }

    /// Which API `url` speaks, by probing it without credentials.
    pub async fn detect_dialect(&self, url: &str) -> Result<dialect::DialectKind> {
        let base = crate::accounts::account::parse_base_url(url)?;
        dialect::detect(self.http.for_url(&base), &base).await
    }

    pub fn list(&self) -> Result<Vec<Account>> {
        self.ledger.accounts()
    }

    /// The account with this id. An account never changes once added (it is only removed),
    /// so each is read from the ledger once: the watcher's events are looked up without a
    /// database read each.
    pub fn get(&self, id: &AccountId) -> Result<Account> {
        if let Some(account) = self.known.lock().unwrap_or_else(|p| p.into_inner()).get(id) {
            return Ok(account.clone());
        }
        let account = self
            .list()?
            .into_iter()
            .find(|a| &a.id == id)
            .ok_or_else(|| Error::AccountNotFound(id.to_string()))?;
        self.known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.clone(), account.clone());
        Ok(account)
    }

    /// By id, or by label when no id matches.
    pub fn find(&self, id_or_label: &str) -> Result<Account> {
        let accounts = self.list()?;
        accounts
            .iter()
            .find(|a| a.id.as_str() == id_or_label)
            .or_else(|| accounts.iter().find(|a| a.label == id_or_label))
            .cloned()
            .ok_or_else(|| Error::AccountNotFound(id_or_label.to_owned()))
    }

    /// Signs our session out on the server (best effort), deletes the keyring entries and
    /// the account. When the keyring cannot be reached (locked, absent), nothing is changed
    /// and the error says so: the account stays, and so do its entries.
    pub async fn remove(&self, account: &Account) -> Result<()> {
        let cached = self.slot(&account.id).lock().await.clone();
        // Read first: a keyring that cannot answer stops the removal before anything changed.
        let stored = self
            .load_secret(&account.id, SecretKind::SessionToken)
            .await?;
        let known = self.secrets_for(&account.id);
        if let Some(token) = cached.or(stored)
            && let Err(e) = known
                .scope(dialect::logout(account.dialect, &self.ctx(account), &token))
                .await
        {
            tracing::warn!(account = %account.id, "could not sign out on the server: {e}");
        }
        for kind in [SecretKind::Password, SecretKind::SessionToken] {
            self.blocking(move |store, id| store.delete(&id, kind), &account.id)
                .await?;
        }
        self.slot(&account.id).lock().await.take();
        self.tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&account.id);
        self.ledger.remove_account(&account.id)?;
        self.secrets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&account.id);
        self.known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&account.id);
        Ok(())
    }

    /// Every live session of the account, as the server lists it now.
    pub async fn snapshot(&self, account: &Account) -> Result<Snapshot> {
        let sessions = self
            .call(account, |token| async move {
                dialect::list(account.dialect, &self.ctx(account), &token).await
            })
            .await?;
        let mut sessions = sessions;
        self.geoip().enrich(&mut sessions);
        let (mut labels, own) = blocking_io(|| {
            Ok::<_, Error>((
                self.ledger.labels(&account.id)?,
                self.ledger.own_sessions(&account.id)?,
            ))
        })?;
        for session in &mut sessions {
            session.label = labels.remove(session.id.as_str());
            session.ours_earlier = !session.is_current && own.contains(session.id.as_str());
        }
        Ok(Snapshot {
            account: account.id.clone(),
            sessions,
            fetched_at: self.clock.now(),
        })
    }

    /// The home these accounts live in.
    pub fn home(&self) -> &Home {
        &self.home
    }

    /// "It's me": the session's device is the person's. Kept in the ledger, so it holds
    /// across restarts; returns the session trusted.
    pub async fn trust(&self, account: &Account, id: &SessionId) -> Result<Session> {
        // "It's me" stops a pending sign-out first, whatever the server answers next.
        if self.cancel_sign_out(&account.id, id)? {
            tracing::info!(account = %account.id, "a pending sign-out was cancelled: it's the person");
        }
        let snapshot = self.snapshot(account).await?;
        let session = snapshot
            .get(id)
            .cloned()
            .ok_or_else(|| Error::SessionNotFound(id.to_string()))?;
        self.ledger
            .trust(&session, &device_identity(&session), self.clock.now())?;
        self.judge.trust(&account.id, &session);
        Ok(session)
    }

    /// Names a session ("Mum's iPad"); an empty name removes it. A name of ours, kept in
    /// the ledger: see [`Accounts::rename`] for what the person's Rename does.
    pub fn set_label(&self, account: &Account, id: &SessionId, label: &str) -> Result<()> {
        self.ledger.set_label(&account.id, id, label)
    }

    /// Rename, as the person means it: where the server keeps session names (Matrix's
    /// device names, shown by every client of the account), the name is changed there;
    /// elsewhere it is a name of ours (`set_label`).
    pub async fn rename(&self, account: &Account, id: &SessionId, name: &str) -> Result<()> {
        if !account.dialect.renames_on_server() {
            return self.set_label(account, id, name);
        }
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::InvalidInput(format!(
                "{} keeps a name for every device: type the new one",
                account.dialect.title()
            )));
        }
        let snapshot = self.snapshot(account).await?;
        let session = snapshot
            .get(id)
            .ok_or_else(|| Error::SessionNotFound(id.to_string()))?;
        let server_id = &session.server_id;
        self.call(account, |token| async move {
            dialect::rename(account.dialect, &self.ctx(account), &token, server_id, name).await
        })
        .await?;
        // A name of ours would hide the server's from now on.
        self.set_label(account, id, "")
    }

    /// When Session Warden's own session on the account ends: where its token says
    /// (SecureAuth: 7 days after the code was entered), from this process's token, else the
    /// keyring's; else as the server last listed it (Better Auth's `expiresAt`).
    pub async fn signed_in_until(
        &self,
        account: &Account,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        let token = self.current_token(&account.id).await.ok().flatten();
        token
            .and_then(|token| dialect::own_session_ends(account.dialect, &token))
            .or_else(|| self.listed_own_expiry(account))
    }

    /// [`Accounts::signed_in_until`] from the token this process holds, without waiting.
    pub fn signed_in_until_cached(
        &self,
        account: &Account,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        self.held_token(&account.id)
            .and_then(|token| dialect::own_session_ends(account.dialect, &token))
            .or_else(|| self.listed_own_expiry(account))
    }

    /// How long the account's server lets an access token live, read from the tokens it gave
    /// us, when we hold some and its API says (`dialect::access_lifetime`).
    pub fn access_lifetime(&self, account: &Account) -> Option<chrono::TimeDelta> {
        dialect::access_lifetime(account.dialect, &self.held_token(&account.id)?)
    }

    /// What the person should know about watching this account (node-auth's one refresh
    /// token), with the server's real figures where known.
    pub fn caveat(&self, account: &Account) -> Option<String> {
        account.dialect.caveat_for(self.access_lifetime(account))
    }
}
