//! `Accounts`: everything a front end does with the user's accounts — add, list, remove,
//! list their sessions, revoke — over the ledger, the keyring and the dialects.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use crate::account::{Account, AccountId, NewAccount};
use crate::clock::Clock;
use crate::credential::{CredentialStore, SecretKind};
use crate::dialect::{self, CallError, Ctx};
use crate::error::{Error, Result};
use crate::event::Event;
use crate::geoip::GeoIp;
use crate::home::Home;
use crate::http;
use crate::idle::{IdlePlan, IdlePolicy};
use crate::ledger::Ledger;
use crate::ledger::history::{HistoryEntry, SeenSession};
use crate::prompt::{CodePrompt, NoPrompt};
use crate::rules::{Judge, Thresholds, device_identity};
use crate::scrub;
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

/// A sign-in that found no such route (404, 405) is a wrong address or the wrong API, not a
/// server failing: said so, in our words, with what to try.
fn not_this_api(error: Error, account: &Account) -> Error {
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

    /// The password a sign-out on this account asks for again, where its API asks
    /// (`DialectKind::revoke_needs_password`), from the keyring.
    async fn password_for_revoke(&self, account: &Account) -> Result<Option<Secret>> {
        if !account.dialect.revoke_needs_password() {
            return Ok(None);
        }
        self.stored_password(account).await.map(Some)
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
            .map_err(|e| not_this_api(e, &account))?;
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
        let base = crate::account::parse_base_url(url)?;
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

    /// Keeps an event in the history. The history failing never stops the watching: it is
    /// logged and the event still reaches the person.
    pub fn record(&self, event: &Event) {
        let result = match event {
            Event::Listed { snapshot } => blocking_io(|| {
                self.ledger.observe(snapshot)?;
                self.trim_now_and_then()
            }),
            other => blocking_io(|| self.ledger.record(other, self.clock.now())),
        };
        if let Err(e) = result {
            tracing::error!(account = %event.account(), "could not write the history: {e}");
        }
    }

    /// Keeps the history bounded (`retention`), at most every `retention::TRIM_EVERY` in
    /// this process.
    fn trim_now_and_then(&self) -> Result<()> {
        {
            let mut last = self.last_trim.lock().unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|at| at.elapsed() < crate::ledger::retention::TRIM_EVERY) {
                return Ok(());
            }
            *last = Some(std::time::Instant::now());
        }
        for (account, trimmed) in self.ledger.trim(self.clock.now())? {
            tracing::info!(%account, ?trimmed, "history trimmed");
        }
        Ok(())
    }

    /// The events, oldest first; of one account or of all.
    pub fn history(&self, account: Option<&Account>) -> Result<Vec<HistoryEntry>> {
        self.ledger.history(account.map(|a| &a.id))
    }

    /// The events recorded after `seq` (by any process on this home), oldest first.
    pub fn history_since(&self, account: Option<&Account>, seq: i64) -> Result<Vec<HistoryEntry>> {
        self.ledger.history_since(account.map(|a| &a.id), seq)
    }

    /// The newest event's number: where following the history starts.
    pub fn last_event_seq(&self) -> Result<i64> {
        self.ledger.last_seq()
    }

    /// The home these accounts live in.
    pub fn home(&self) -> &Home {
        &self.home
    }

    /// What the ledger remembers of the account from earlier runs: every session ever seen,
    /// and those still live when last seen. `None` for an account never watched before.
    pub fn remembered(&self, account: &Account) -> Result<Option<(Snapshot, Snapshot)>> {
        let mut remembered = blocking_io(|| self.ledger.remembered(&account.id))?;
        if remembered.is_empty() {
            return Ok(None);
        }
        let geoip = self.geoip();
        for (session, _) in &mut remembered {
            geoip.enrich(std::slice::from_mut(session));
        }
        let snapshot = |sessions: Vec<Session>| Snapshot {
            account: account.id.clone(),
            sessions,
            fetched_at: self.clock.now(),
        };
        let live = remembered
            .iter()
            .filter(|(_, ended)| !ended)
            .map(|(s, _)| s.clone())
            .collect();
        let all = remembered.into_iter().map(|(s, _)| s).collect();
        Ok(Some((snapshot(all), snapshot(live))))
    }

    /// The sessions that raised a warning or an alert, with when (they teach the rules
    /// nothing until trusted or a week old).
    pub fn flagged(
        &self,
        account: &Account,
    ) -> Result<Vec<(SessionId, chrono::DateTime<chrono::Utc>)>> {
        blocking_io(|| self.ledger.flagged(&account.id))
    }

    /// Every session ever seen on the account, with how each ended.
    pub fn seen_sessions(&self, account: &Account) -> Result<Vec<SeenSession>> {
        self.ledger.seen_sessions(&account.id)
    }

    /// "It's me": the session's device is the person's. Kept in the ledger, so it holds
    /// across restarts; returns the session trusted.
    pub async fn trust(&self, account: &Account, id: &SessionId) -> Result<Session> {
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

    /// Ends one session, then lists again to check it is really gone.
    pub async fn revoke(&self, account: &Account, id: &SessionId) -> Result<Session> {
        let before = self.snapshot(account).await?;
        let session = before
            .get(id)
            .cloned()
            .ok_or_else(|| Error::SessionNotFound(id.to_string()))?;
        self.revoke_listed(account, session, &before).await
    }

    /// `revoke` for a caller that holds the session from a listing of its own.
    pub async fn revoke_session(&self, account: &Account, session: Session) -> Result<Session> {
        let before = self.snapshot(account).await?;
        self.revoke_listed(account, session, &before).await
    }

    /// Why revoking `session`, as `listing` (made now) lists it, would be refused before
    /// anything is sent — said before the person is asked to confirm, not after. Our own
    /// session; an id the server lists for several sessions: it would end whichever it finds
    /// first, perhaps an innocent one, and the intruder's row would then look like it, gone.
    pub fn check_revocable(&self, session: &Session, listing: &Snapshot) -> Result<()> {
        if session.is_current {
            return Err(Error::OwnSession);
        }
        match listing
            .sessions
            .iter()
            .filter(|s| s.server_id == session.server_id)
            .count()
        {
            0 => Err(Error::SessionNotFound(session.id.to_string())),
            1 => Ok(()),
            sharing => Err(Error::NotSent(format!(
                "the server lists {sharing} sessions under this one's id, so revoking it could \
                 end another of them (yours, perhaps) and leave this one signed in; Session \
                 Warden sent nothing. Sign out all other devices, or end it in the service's \
                 own settings"
            ))),
        }
    }

    /// Ends `session` as `before` (a listing made now) lists it, when `check_revocable`
    /// allows; checked gone row by row.
    pub async fn revoke_listed(
        &self,
        account: &Account,
        session: Session,
        before: &Snapshot,
    ) -> Result<Session> {
        let id = &session.id;
        let target = &session;
        self.check_revocable(&session, before)?;
        let password = self.password_for_revoke(account).await?;
        self.send_revoke(account, password.as_ref(), target)
            .await
            .map_err(|e| match e {
                Error::SessionNotFound(_) => Error::SessionNotFound(id.to_string()),
                other => other,
            })?;
        // By the server's id, not ours: ours is derived from the row's place among rows
        // sharing an id, and another row may take it.
        let after = self.snapshot(account).await?;
        if after
            .sessions
            .iter()
            .any(|s| s.server_id == session.server_id)
        {
            return Err(Error::RevokeNotEffective(id.to_string()));
        }
        self.record_revoked([&session]);
        Ok(session)
    }

    /// Asks the server to end `session` (our token renewed if need be; `password` where
    /// the API asks for it again), without checking: the callers list again once.
    async fn send_revoke(
        &self,
        account: &Account,
        password: Option<&Secret>,
        session: &Session,
    ) -> Result<()> {
        self.call(account, |token| async move {
            let ctx = self.ctx_with(account, password);
            dialect::revoke(account.dialect, &ctx, &token, session).await
        })
        .await
    }

    /// Signs out every session but our own, then lists again to check; returns the ended ones.
    pub async fn sign_out_others(&self, account: &Account) -> Result<Vec<Session>> {
        let before = self.snapshot(account).await?;
        // A row that shares our session's id is ours, whatever the server marks.
        let ours: Vec<&Secret> = before
            .sessions
            .iter()
            .filter(|s| s.is_current)
            .map(|s| &s.server_id)
            .collect();
        // Tokens a person made for scripts and integrations (Home Assistant's long-lived
        // ones) are not devices: signing out the others leaves them be.
        let others: Vec<Session> = before
            .sessions
            .iter()
            .filter(|s| !s.is_current && !ours.contains(&&s.server_id))
            .filter(|s| s.device.kind != crate::session::DeviceKind::Token)
            .cloned()
            .collect();
        let listed = &before.sessions;
        let password = self.password_for_revoke(account).await?;
        let password = password.as_ref();
        self.call(account, |token| async move {
            let ctx = self.ctx_with(account, password);
            dialect::sign_out_others(account.dialect, &ctx, &token, listed).await
        })
        .await?;
        let after = self.snapshot(account).await?;
        let (survivors, ended): (Vec<&Session>, Vec<&Session>) = others
            .iter()
            .partition(|s| after.sessions.iter().any(|a| a.server_id == s.server_id));
        self.record_revoked(ended);
        if let Some(first) = survivors.first() {
            return Err(Error::RevokeNotEffective(first.id.to_string()));
        }
        Ok(others)
    }

    /// The account's idle policy, if one is on (the ledger's: every process sees the same).
    pub fn idle_policy(&self, account: &Account) -> Result<Option<IdlePolicy>> {
        blocking_io(|| self.ledger.idle_policy(&account.id))
    }

    /// Turns the account's idle policy on, changes it, or (`None`) turns it off.
    pub fn set_idle_policy(&self, account: &Account, policy: Option<IdlePolicy>) -> Result<()> {
        blocking_io(|| self.ledger.set_idle_policy(&account.id, policy))
    }

    /// What `policy` would sign out now, from a listing made now: what the person sees
    /// before turning it on.
    pub async fn idle_preview(&self, account: &Account, policy: IdlePolicy) -> Result<IdlePlan> {
        let snapshot = self.snapshot(account).await?;
        Ok(self.idle_plan(account, policy, &snapshot))
    }

    /// What `policy` signs out of `snapshot`'s sessions at the engine's time.
    pub fn idle_plan(
        &self,
        account: &Account,
        policy: IdlePolicy,
        snapshot: &Snapshot,
    ) -> IdlePlan {
        crate::idle::plan(
            policy,
            account.dialect,
            &snapshot.sessions,
            |s| self.judge.trusts(&account.id, s),
            self.clock.now(),
        )
    }

    /// Ends `sessions` (the idle policy's), lists once to check, and records each one gone
    /// as `how`. Returns those ended; one that failed or survived is logged and left for the
    /// next run.
    pub async fn end_sessions(
        &self,
        account: &Account,
        sessions: Vec<Session>,
        how: crate::event::EndReason,
    ) -> Result<Vec<Session>> {
        let password = self.password_for_revoke(account).await?;
        for session in &sessions {
            if let Err(e) = self.send_revoke(account, password.as_ref(), session).await {
                tracing::warn!(account = %account.id, "could not end an idle session: {e}");
            }
        }
        let after = self.snapshot(account).await?;
        let ended: Vec<Session> = sessions
            .into_iter()
            .filter(|s| after.get(&s.id).is_none())
            .collect();
        for session in &ended {
            self.record(&Event::SessionEnded {
                session: session.clone(),
                how,
            });
        }
        Ok(ended)
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

    fn listed_own_expiry(&self, account: &Account) -> Option<chrono::DateTime<chrono::Utc>> {
        blocking_io(|| self.ledger.own_session_expiry(&account.id)).unwrap_or_else(|e| {
            tracing::warn!(account = %account.id, "cannot read the history: {e}");
            None
        })
    }

    /// Whether the person has been told that the sign-in ending `at` needs them.
    pub(crate) fn told_sign_in_ending(
        &self,
        account: &Account,
        at: chrono::DateTime<chrono::Utc>,
    ) -> bool {
        self.ledger
            .has_event(
                &account.id,
                crate::ledger::history::HistoryKind::SignInEnding,
                &crate::ledger::history::ending_detail(at),
            )
            .unwrap_or(false)
    }

    /// How long the account's server lets an access token live, read from the tokens it gave
    /// us (node-auth), when we hold some.
    pub fn access_lifetime(&self, account: &Account) -> Option<chrono::TimeDelta> {
        if account.dialect != dialect::DialectKind::NodeAuth {
            return None;
        }
        dialect::node_auth::access_lifetime(&self.held_token(&account.id)?)
    }

    /// What the person should know about watching this account (node-auth's one refresh
    /// token), with the server's real figures where known.
    pub fn caveat(&self, account: &Account) -> Option<String> {
        account.dialect.caveat_for(self.access_lifetime(account))
    }

    /// What the person should know after `session` was revoked, when the server cannot take
    /// it back at once: node-auth lets a revoked device keep using the access token it holds
    /// until that runs out (quirk 3). `None` when nothing of it is left.
    pub fn after_revoke(&self, account: &Account, session: &Session) -> Option<String> {
        if account.dialect != dialect::DialectKind::NodeAuth {
            return None;
        }
        let lifetime = self
            .access_lifetime(account)
            .unwrap_or(dialect::node_auth::DEFAULT_ACCESS_LIFETIME);
        // Its access token was issued when its session (handle) was, at sign-in or at its
        // last refresh: node-auth resets `createdAt` on both.
        let until = session.created_at?.checked_add_signed(lifetime)?;
        let now = self.clock.now();
        (until > now).then(|| {
            format!(
                "node-auth lets that device keep using the access token it holds until {} UTC \
                 (at most {} from now): a server cannot take back a token it already issued",
                until.format("%H:%M"),
                dialect::node_auth::minutes(until - now)
            )
        })
    }

    /// Records sessions this process ended and saw gone: "revoked here" is in the ledger, so
    /// a watcher in any process that then finds them gone reports them so, and records
    /// nothing twice.
    fn record_revoked<'s>(&self, ended: impl IntoIterator<Item = &'s Session>) {
        for session in ended {
            self.judge.revoked(&session.account, &session.id);
            self.record(&Event::SessionEnded {
                session: session.clone(),
                how: crate::event::EndReason::RevokedHere,
            });
        }
    }

    /// The sessions of the account revoked through Session Warden, by any process.
    pub fn revoked_here(&self, account: &Account) -> Vec<SessionId> {
        blocking_io(|| self.ledger.revoked_here(&account.id)).unwrap_or_else(|e| {
            tracing::warn!(account = %account.id, "cannot read the history: {e}");
            Vec::new()
        })
    }

    /// How the session ended, when the ledger already knows (a process revoked it).
    pub fn recorded_end(&self, session: &Session) -> Option<crate::event::EndReason> {
        self.ledger
            .recorded_end(&session.account, &session.id)
            .unwrap_or_else(|e| {
                tracing::warn!(account = %session.account, "cannot read the history: {e}");
                None
            })
    }

    /// Runs a dialect call with our session token; when the server says our session is
    /// gone, renews it where the API can (node-auth's refresh) or signs in again with the
    /// stored credentials, and retries once.
    async fn call<'a, T, F, Fut>(&'a self, account: &'a Account, op: F) -> Result<T>
    where
        F: Fn(Secret) -> Fut,
        Fut: Future<Output = Result<T, CallError>> + 'a,
    {
        let known = self.secrets_of(account).await;
        known.scope(self.call_scoped(account, &known, op)).await
    }

    async fn call_scoped<'a, T, F, Fut>(
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

    async fn token(&self, account: &Account) -> Result<Secret> {
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
    async fn renew_or_sign_in(
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
    async fn sign_in_and_keep(&self, account: &Account) -> Result<Secret> {
        let password = self.stored_password(account).await?;
        let token = self.sign_in(account, &password, &self.prompt()).await?;
        self.store_secret(&account.id, SecretKind::SessionToken, token.clone())
            .await?;
        self.remember_own(account, &token)?;
        Ok(token)
    }

    /// The account's lock across processes (`locks::AccountLock`), waited for on a
    /// blocking thread.
    async fn account_lock(&self, account: &Account) -> Result<crate::locks::AccountLock> {
        let home = self.home.clone();
        let id = account.id.clone();
        tokio::task::spawn_blocking(move || crate::locks::AccountLock::acquire(&home, &id))
            .await
            .map_err(|e| Error::WatcherFailed(format!("the account lock: {e}")))?
    }

    /// Puts a renewed token in place of `stale`, in the cache and the keyring.
    async fn replace_token(
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

    async fn drop_token(&self, account: &Account, stale: &Secret) {
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
    fn held_token(&self, id: &AccountId) -> Option<Secret> {
        self.slot(id).try_lock().ok()?.clone()
    }

    /// Our session token: this process's, or the one the keyring holds (another process's).
    async fn current_token(&self, id: &AccountId) -> Result<Option<Secret>> {
        if let Some(token) = self.slot(id).lock().await.clone() {
            return Ok(Some(token));
        }
        self.load_secret(id, SecretKind::SessionToken).await
    }

    fn slot(&self, id: &AccountId) -> TokenSlot {
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(tokens.entry(id.clone()).or_default())
    }

    async fn sign_in(
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
    fn secrets_for(&self, id: &AccountId) -> scrub::Known {
        self.secrets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(id.clone())
            .or_default()
            .clone()
    }

    /// [`Accounts::secrets_for`], with the password read once per process (where the API
    /// has one): a server may quote it back at any call, not only at a sign-in.
    async fn secrets_of(&self, account: &Account) -> scrub::Known {
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
    fn remember_own(&self, account: &Account, token: &Secret) -> Result<()> {
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
    async fn end_previous(&self, account: &Account, previous: &Secret, current: &Secret) {
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
    async fn stored_password(&self, account: &Account) -> Result<Secret> {
        if !account.dialect.uses_password() {
            return Ok(Secret::new(""));
        }
        self.load_secret(&account.id, SecretKind::Password)
            .await?
            .ok_or_else(|| Error::MissingCredential(account.id.to_string()))
    }

    async fn load_secret(&self, id: &AccountId, kind: SecretKind) -> Result<Option<Secret>> {
        self.blocking(move |store, id| store.get(&id, kind), id)
            .await
    }

    async fn store_secret(&self, id: &AccountId, kind: SecretKind, secret: Secret) -> Result<()> {
        self.blocking(move |store, id| store.set(&id, kind, &secret), id)
            .await
    }

    async fn forget_secrets(&self, id: &AccountId) {
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
    async fn blocking<T: Send + 'static>(
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
