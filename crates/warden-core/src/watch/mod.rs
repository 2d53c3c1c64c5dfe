//! The watcher: one task per account polls on an interval (with jitter), diffs each
//! snapshot against the last, and reports what changed. The first poll of an account seeds
//! the baseline and alerts nothing. Failures back off, capped, and show as "stale since".

pub mod defence;
pub mod diff;
pub mod idle;
pub mod locks;

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use rand::Rng;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::accounts::Accounts;
use crate::accounts::Defended;
use crate::accounts::account::{Account, AccountId};
use crate::error::Error;
use crate::event::{EndReason, Event, EventSink};
use crate::rules::Finding;
use crate::session::{Session, Snapshot};
use diff::diff;

#[derive(Debug, Clone, Copy)]
pub struct WatchSettings {
    pub interval: Duration,
    /// Each wait is the interval ± this fraction, so many accounts do not poll in lockstep.
    pub jitter: f64,
    /// Longest wait between attempts while a server keeps failing.
    pub max_backoff: Duration,
}

impl Default for WatchSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(15),
            jitter: 0.1,
            max_backoff: Duration::from_secs(300),
        }
    }
}

impl WatchSettings {
    fn wait(&self, failures: u32) -> Duration {
        let base = if failures == 0 {
            self.interval
        } else {
            let factor = 2u32.saturating_pow(failures.min(16));
            self.interval.saturating_mul(factor).min(self.max_backoff)
        };
        let spread = self.jitter.clamp(0.0, 0.5);
        base.mul_f64(1.0 + rand::rng().random_range(-spread..=spread))
    }
}

struct Task {
    account: Account,
    /// `None` while the watcher is on standby.
    handle: Option<JoinHandle<()>>,
    poke: Arc<Notify>,
}

impl Task {
    fn stop(&self) {
        if let Some(handle) = &self.handle {
            handle.abort();
        }
    }
}

/// Watches any number of accounts; dropping it stops every task.
pub struct Watcher {
    accounts: Arc<Accounts>,
    sink: Arc<dyn EventSink>,
    settings: Mutex<WatchSettings>,
    runtime: tokio::runtime::Handle,
    tasks: Mutex<HashMap<AccountId, Task>>,
    /// On standby, accounts are kept but not polled: another process holds the home's
    /// `WatchLock` and records for everyone.
    standby: std::sync::atomic::AtomicBool,
    /// Accounts this process let go of (`unwatch`, while removing one): the ledger may list
    /// them a moment longer, and following it must not take them up again.
    let_go: Mutex<std::collections::HashSet<AccountId>>,
}

/// What following the ledger changed (`Watcher::follow_ledger`): the front ends say so.
#[derive(Debug, Default)]
pub struct Followed {
    /// Accounts another process added, watched from now on.
    pub added: Vec<Account>,
    /// Accounts another process removed, no longer watched.
    pub removed: Vec<Account>,
}

impl Followed {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

/// How often a watcher looks in the ledger for accounts another process added or removed:
/// one read of a small table, so a `warden accounts add` is watched within seconds.
pub const FOLLOW_LEDGER_EVERY: Duration = Duration::from_secs(2);

impl Watcher {
    /// Tasks run on `runtime` (a desktop shell's setup is not itself inside a runtime).
    pub fn new(
        accounts: Arc<Accounts>,
        sink: Arc<dyn EventSink>,
        settings: WatchSettings,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        Self {
            accounts,
            sink,
            settings: Mutex::new(settings),
            runtime,
            tasks: Mutex::new(HashMap::new()),
            standby: std::sync::atomic::AtomicBool::new(false),
            let_go: Mutex::default(),
        }
    }

    /// Watches every account the ledger holds, and only those: one added by another
    /// process (`warden accounts add` while the app or `warden watch` runs) from now on,
    /// one another process removed no longer. The front ends call it every
    /// `FOLLOW_LEDGER_EVERY` and say what changed.
    pub fn follow_ledger(&self) -> crate::error::Result<Followed> {
        let listed = self.accounts.list()?;
        let let_go = self
            .let_go
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let (added, removed) = {
            let tasks = self.tasks();
            let added: Vec<Account> = listed
                .iter()
                .filter(|a| !tasks.contains_key(&a.id) && !let_go.contains(&a.id))
                .cloned()
                .collect();
            let removed: Vec<Account> = tasks
                .values()
                .filter(|t| !listed.iter().any(|a| a.id == t.account.id))
                .map(|t| t.account.clone())
                .collect();
            (added, removed)
        };
        for account in &added {
            tracing::info!(account = %account.id, "watching an account another process added");
            self.watch(account.clone());
        }
        for account in &removed {
            tracing::info!(account = %account.id, "another process removed an account");
            if let Some(task) = self.tasks().remove(&account.id) {
                task.stop();
            }
        }
        Ok(Followed { added, removed })
    }

    /// Stops polling (another process holds the home's `WatchLock`) or starts again (this
    /// one holds it now). The accounts stay; each restarts from the ledger, so what the
    /// other process recorded meanwhile is not told again.
    pub fn set_standby(&self, standby: bool) {
        self.standby
            .store(standby, std::sync::atomic::Ordering::SeqCst);
        let watched: Vec<Account> = self.tasks().values().map(|t| t.account.clone()).collect();
        for account in watched {
            self.watch(account);
        }
    }

    pub fn is_standby(&self) -> bool {
        self.standby.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn tasks(&self) -> std::sync::MutexGuard<'_, HashMap<AccountId, Task>> {
        self.tasks.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn settings(&self) -> WatchSettings {
        *self.settings.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// New settings (a new interval, say) for every account, now: each task restarts, and
    /// compares its first poll with what the ledger saw, so the restart raises nothing.
    pub fn set_settings(&self, settings: WatchSettings) {
        *self.settings.lock().unwrap_or_else(|p| p.into_inner()) = settings;
        let watched: Vec<Account> = self.tasks().values().map(|t| t.account.clone()).collect();
        for account in watched {
            self.watch(account);
        }
    }

    /// Starts watching (or restarts, with a fresh baseline).
    pub fn watch(&self, account: Account) {
        self.let_go
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&account.id);
        let poke = Arc::new(Notify::new());
        let id = account.id.clone();
        let watched = account.clone();
        let handle = (!self.is_standby()).then(|| {
            self.runtime.spawn(run(
                Arc::clone(&self.accounts),
                Arc::clone(&self.sink),
                self.settings(),
                account,
                Arc::clone(&poke),
            ))
        });
        let task = Task {
            account: watched,
            handle,
            poke,
        };
        if let Some(old) = self.tasks().insert(id, task) {
            old.stop();
        }
    }

    pub fn unwatch(&self, id: &AccountId) {
        self.let_go
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.clone());
        if let Some(task) = self.tasks().remove(id) {
            task.stop();
        }
    }

    /// Polls the account now instead of at the next tick (after a revoke, say).
    pub fn poll_now(&self, id: &AccountId) {
        if let Some(task) = self.tasks().get(id) {
            task.poke.notify_one();
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        for (_, task) in self.tasks().drain() {
            task.stop();
        }
    }
}

async fn run(
    accounts: Arc<Accounts>,
    sink: Arc<dyn EventSink>,
    settings: WatchSettings,
    account: Account,
    poke: Arc<Notify>,
) {
    let mut poller = Poller::new(Arc::clone(&accounts), account.clone());
    loop {
        let wait = match AssertUnwindSafe(poller.poll(sink.as_ref()))
            .catch_unwind()
            .await
        {
            Ok(wait) => wait,
            // A bug of ours must not end the watching in silence: the account shows stale
            // with the reason, and its watch starts afresh (from the ledger), backing off
            // like any failure.
            Err(panic) => {
                let reason = panic_text(panic.as_ref());
                tracing::error!(account = %account.id, "the watcher panicked: {reason}");
                let mut restarted = Poller::new(Arc::clone(&accounts), account.clone());
                restarted.failures = poller.failures;
                restarted.stale_since = poller.stale_since;
                restarted.recorded_stale = poller.recorded_stale;
                poller = restarted;
                poller.failed(sink.as_ref(), &Error::WatcherFailed(reason))
            }
        };
        let mut next = settings.wait(poller.failures);
        if let Some(due) = poller.until_next_sign_out() {
            next = next.min(due);
        }
        tokio::select! {
            () = tokio::time::sleep(next.max(wait.unwrap_or_default())) => {}
            () = poke.notified() => {}
        }
    }
}

/// One account's watch, one poll at a time: what the watcher's task runs on its interval,
/// and what a test drives on a virtual clock.
pub struct Poller {
    accounts: Arc<Accounts>,
    account: Account,
    previous: Option<Snapshot>,
    first: bool,
    stale_since: Option<DateTime<Utc>>,
    /// What the history was told of this outage: the kind of failure, and whether it needs
    /// the person. A server that comes back empty turns "cannot reach" into "sign in
    /// again": that is recorded too, but a failure repeated poll after poll only once.
    recorded_stale: Option<(crate::error::ErrorCode, bool)>,
    failures: u32,
    /// The end of our sign-in told of (`Event::SignInEnding`), if one was.
    told_ending: Option<DateTime<Utc>>,
    /// Whether this poller applies the account's idle policy: the watching process's does;
    /// a one-off look (`look_once`, the CLI's `sessions`) only looks.
    applies_policies: bool,
}

/// How long before our sign-in ends the person is told it needs them.
pub const SIGN_IN_ENDING_NOTICE: chrono::TimeDelta = chrono::TimeDelta::days(1);

impl Poller {
    /// An account watched in an earlier run is compared with what the ledger saw then, so a
    /// sign-in made while Session Warden was not running is still news. Only an account seen
    /// for the first time is a baseline.
    pub fn new(accounts: Arc<Accounts>, account: Account) -> Self {
        accounts
            .judge()
            .set_activity_granularity(&account.id, account.dialect.activity_granularity());
        let previous = match accounts.remembered(&account) {
            Ok(Some((all, live))) => {
                let flagged = accounts.flagged(&account).unwrap_or_else(|e| {
                    tracing::warn!(account = %account.id, "cannot read the flagged sessions: {e}");
                    Vec::new()
                });
                accounts.judge().baseline(&all, &flagged);
                for id in accounts.revoked_here(&account) {
                    accounts.judge().revoked(&account.id, &id);
                }
                Some(live)
            }
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(account = %account.id, "cannot read what was seen before: {e}");
                None
            }
        };
        Self {
            accounts,
            account,
            previous,
            first: true,
            stale_since: None,
            recorded_stale: None,
            failures: 0,
            told_ending: None,
            applies_policies: true,
        }
    }

    /// How long until this account's next pending sign-out is due, when one is due later:
    /// the watcher polls then rather than at its interval, so that "sign out after 2
    /// minutes" means 2 minutes whatever the poll interval. One already due (being tried
    /// again while the server is down) does not hurry the polls: the backoff holds.
    pub fn until_next_sign_out(&self) -> Option<Duration> {
        if !self.applies_policies {
            return None;
        }
        let now = self.accounts.clock().now();
        let pending = match self.accounts.pending_sign_outs(Some(&self.account.id)) {
            Ok(pending) => pending,
            Err(e) => {
                tracing::warn!(account = %self.account.id, "cannot read the pending sign-outs: {e}");
                return None;
            }
        };
        pending
            .iter()
            .filter(|p| p.due > now)
            .map(|p| p.due - now)
            .min()
            .and_then(|left| left.to_std().ok())
    }

    /// Polls once and reports what changed to `sink`. Returns how long the server asked us
    /// to wait before the next attempt, when it did.
    pub async fn poll(&mut self, sink: &dyn EventSink) -> Option<Duration> {
        match self.look(sink).await {
            Ok(()) => None,
            Err(error) => self.failed(sink, &error),
        }
    }

    /// One poll, reported to `sink` and recorded; a failure is returned as it is, not
    /// reported (`poll` reports it).
    async fn look(&mut self, sink: &dyn EventSink) -> Result<(), Error> {
        let accounts = &self.accounts;
        let account = &self.account;
        let snapshot = accounts.snapshot(account).await?;
        self.failures = 0;
        self.recorded_stale = None;
        if self.stale_since.take().is_some() {
            let event = Event::Recovered {
                account: account.id.clone(),
            };
            accounts.record(&event);
            sink.emit(event);
        }
        let alerts = report(
            accounts,
            sink,
            self.previous.as_ref(),
            &snapshot,
            self.first,
        );
        self.first = false;
        self.previous = Some(snapshot);
        self.tell_if_sign_in_ends(sink).await;
        if self.applies_policies {
            self.apply_idle_policy(sink).await;
            self.apply_defence(sink, alerts).await;
        }
        Ok(())
    }

    /// The defence (`defence`): each alert to act on becomes a pending sign-out (or a
    /// question, with why); then every sign-out due is carried out, checked gone, and told.
    async fn apply_defence(&mut self, sink: &dyn EventSink, alerts: Vec<(Session, Finding)>) {
        for (session, finding) in alerts {
            match self.accounts.defend(&self.account, &session, &finding) {
                Ok(Some(Defended::Pending(pending))) => {
                    tracing::info!(account = %self.account.id, session = %session.id, due = %pending.due, rule = ?pending.rule, "the defence will sign a session out");
                    sink.emit(Event::SignOutPending { session, pending })
                }
                Ok(Some(Defended::Asks(why))) => {
                    tracing::info!(account = %self.account.id, session = %session.id, "the defence asks: {why}");
                    sink.emit(Event::DefenceAsks {
                        session,
                        finding,
                        why,
                    })
                }
                Ok(None) => {
                    tracing::info!(account = %self.account.id, session = %session.id, rule = ?finding.rule, "an alert to act on, only told (or pending already)");
                }
                Err(e) => {
                    tracing::warn!(account = %self.account.id, "the defence could not decide: {e}")
                }
            }
        }
        let Some(listing) = self.previous.as_ref() else {
            return;
        };
        for event in self
            .accounts
            .carry_out_sign_outs(&self.account, listing)
            .await
        {
            sink.emit(event);
        }
    }

    /// Signs out what the account's idle policy says, if one is on: each session checked
    /// gone and recorded "ended by the idle policy", and the run told once. The next
    /// listing reports them ended (recorded once, as the policy's).
    async fn apply_idle_policy(&mut self, sink: &dyn EventSink) {
        let policy = match self.accounts.idle_policy(&self.account) {
            Ok(Some(policy)) => policy,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(account = %self.account.id, "cannot read the idle policy: {e}");
                return;
            }
        };
        let Some(snapshot) = self.previous.as_ref() else {
            return;
        };
        let plan = self.accounts.idle_plan(&self.account, policy, snapshot);
        if plan.ending.is_empty() {
            return;
        }
        match self
            .accounts
            .end_sessions(&self.account, plan.ending, EndReason::IdlePolicy)
            .await
        {
            Ok(ended) if !ended.is_empty() => sink.emit(Event::IdleSignedOut {
                account: self.account.id.clone(),
                after: policy.after,
                ended,
            }),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(account = %self.account.id, "the idle policy could not run: {e}")
            }
        }
    }

    /// A day before our own sign-in ends where only the person can renew it (SecureAuth's
    /// code), tells them once: the watching must never stop unannounced.
    async fn tell_if_sign_in_ends(&mut self, sink: &dyn EventSink) {
        if self.account.dialect.signs_in_alone() {
            return;
        }
        let Some(at) = self.accounts.signed_in_until(&self.account).await else {
            return;
        };
        let now = self.accounts.clock().now();
        if self.told_ending == Some(at) || now < at - SIGN_IN_ENDING_NOTICE || now >= at {
            return;
        }
        self.told_ending = Some(at);
        if self.accounts.told_sign_in_ending(&self.account, at) {
            return;
        }
        let event = Event::SignInEnding {
            account: self.account.id.clone(),
            at,
        };
        self.accounts.record(&event);
        sink.emit(event);
    }

    /// Marks the account stale with `error` (the history keeps when it went stale, not
    /// every failed retry); returns how long the server asked us to wait, when it did,
    /// capped (`http::MAX_RETRY_AFTER_SECS`), and says when it will be asked again.
    fn failed(&mut self, sink: &dyn EventSink, error: &Error) -> Option<Duration> {
        let accounts = &self.accounts;
        let account = &self.account;
        self.failures = self.failures.saturating_add(1);
        let since = *self
            .stale_since
            .get_or_insert_with(|| accounts.clock().now());
        tracing::warn!(account = %account.id, "poll failed: {error}");
        let asked = match error {
            Error::RateLimited {
                retry_after: Some(seconds),
            } => Some(*seconds),
            _ => None,
        };
        let cap = crate::dialect::http::MAX_RETRY_AFTER_SECS;
        let wait = asked.map(|seconds| Duration::from_secs(seconds.min(cap)));
        let mut said = error.to_string();
        // When it will be asked again, in the person's time: the server may ask for years,
        // and the wait is ours.
        if let (Some(asked), Some(wait)) = (asked, wait) {
            let again = accounts.clock().now()
                + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1));
            said.push_str(&format!(
                "; Session Warden asks again after {}",
                again.with_timezone(&chrono::Local).format("%H:%M")
            ));
            if asked > cap {
                said.push_str(&format!(
                    " (it waits {} at most)",
                    crate::error::wait_words(cap)
                ));
            }
        }
        let needs_sign_in = matches!(
            error,
            Error::NeedsSignIn { .. } | Error::BadCredentials { .. } | Error::BadAdminSecret
        );
        // A saved password refused (changed, or a server that lost its data) is not a
        // passing failure: only the person can mend it, and the words say how.
        if matches!(error, Error::BadCredentials { .. } | Error::BadAdminSecret) {
            said.push_str(&format!(
                "; sign in again: {}",
                crate::error::sign_in_hint(&account.label)
            ));
        }
        let event = Event::Stale {
            account: account.id.clone(),
            since,
            needs_sign_in,
            error: said,
        };
        let kind = Some((error.code(), needs_sign_in));
        if self.recorded_stale != kind {
            self.recorded_stale = kind;
            accounts.record(&event);
        }
        // A sink that fails on this too is not allowed to end the watch.
        if std::panic::catch_unwind(AssertUnwindSafe(|| sink.emit(event))).is_err() {
            tracing::error!(account = %account.id, "the event sink panicked");
        }
        wait
    }
}

/// What a panic said, for the person: its message where it has one.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "an unexpected failure".to_owned());
    crate::dialect::server_text::clean_error(&text)
}

/// One look at an account as a watcher takes it, judged and recorded the same way, for a
/// process that lists while nothing watches the home (`warden sessions`, `warden revoke`):
/// whatever any process sees is in the history. A failure is returned, not recorded: a
/// one-off look that fails is no outage.
pub async fn look_once(accounts: &Arc<Accounts>, account: &Account) -> Result<Snapshot, Error> {
    struct Nobody;
    impl EventSink for Nobody {
        fn emit(&self, _: Event) {}
    }
    let mut poller = Poller::new(Arc::clone(accounts), account.clone());
    poller.applies_policies = false;
    poller.look(&Nobody).await?;
    poller
        .previous
        .take()
        .ok_or_else(|| Error::WatcherFailed("a look that listed nothing".into()))
}

/// `first`: the first poll of this run, which views need whatever changed. Returns the
/// alerts the defence may act on (`Finding::act`), each with its session, new ones only.
fn report(
    accounts: &Accounts,
    out: &dyn EventSink,
    previous: Option<&Snapshot>,
    current: &Snapshot,
    first: bool,
) -> Vec<(Session, Finding)> {
    // Everything reported is kept in the history first.
    let sink = &Recorded { accounts, out };
    let judge = accounts.judge();
    let Some(previous) = previous else {
        // First sight of the account: the baseline. Nothing in it is news.
        judge.baseline(current, &[]);
        sink.emit(Event::Listed {
            snapshot: current.clone(),
        });
        return Vec::new();
    };
    let mut alerts = Vec::new();
    let mut to_act_on = |session: &Session, findings: &[Finding]| {
        if let Some(finding) = findings.iter().find(|f| f.act && !f.repeat) {
            alerts.push((session.clone(), finding.clone()));
        }
    };
    let changes = diff(previous, current);
    let now = current.fetched_at;
    for session in changes.ended {
        // Revoked by a process of ours (this one or another on the home): the ledger says.
        let how = accounts
            .recorded_end(session)
            .unwrap_or(match session.expires_at {
                Some(end) if end <= now => EndReason::Expired,
                Some(_) => EndReason::RevokedElsewhere,
                None => EndReason::Vanished,
            });
        if how == EndReason::RevokedHere {
            judge.revoked(&session.account, &session.id);
        }
        sink.emit(Event::SessionEnded {
            session: session.clone(),
            how,
        });
    }
    // Our own session appears whenever we sign in again: that is not news either.
    for &session in changes.appeared.iter().filter(|s| !s.is_ours()) {
        let findings = judge.appeared(session, current, now);
        to_act_on(session, &findings);
        sink.emit(Event::SessionAppeared {
            session: session.clone(),
            findings,
        });
    }
    // A known session seen from another network or place may be a copied token.
    // Indexed: an account may list thousands of sessions.
    let mut before_by_id = previous.by_id();
    for (before, after) in &changes.renamed {
        before_by_id.insert(&after.id, before);
    }
    for session in current.sessions.iter().filter(|s| !s.is_ours()) {
        let before = before_by_id.get(&session.id).copied();
        if let Some(before) = before {
            let findings = judge.seen_again(before, session, current, now);
            if !findings.is_empty() {
                to_act_on(session, &findings);
                sink.emit(Event::Suspicious {
                    session: session.clone(),
                    findings,
                });
            }
        }
    }
    judge.learn(current, &changes.appeared);
    if changes.any || first {
        sink.emit(Event::Listed {
            snapshot: current.clone(),
        });
    }
    alerts
}

/// Records each event in the ledger, then passes it on.
struct Recorded<'a> {
    accounts: &'a Accounts,
    out: &'a dyn EventSink,
}

impl Recorded<'_> {
    fn emit(&self, event: Event) {
        self.accounts.record(&event);
        self.out.emit(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let settings = WatchSettings {
            interval: Duration::from_secs(10),
            jitter: 0.0,
            max_backoff: Duration::from_secs(60),
        };
        assert_eq!(settings.wait(0), Duration::from_secs(10));
        assert_eq!(settings.wait(1), Duration::from_secs(20));
        assert_eq!(settings.wait(2), Duration::from_secs(40));
        assert_eq!(settings.wait(3), Duration::from_secs(60));
        assert_eq!(settings.wait(40), Duration::from_secs(60));
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        let settings = WatchSettings {
            interval: Duration::from_secs(10),
            jitter: 0.1,
            max_backoff: Duration::from_secs(60),
        };
        for _ in 0..200 {
            let wait = settings.wait(0);
            assert!(
                wait >= Duration::from_secs(9) && wait <= Duration::from_secs(11),
                "{wait:?}"
            );
        }
    }
}
