//! What the shell keeps between events: the engine, the watcher, and the latest view of
//! each account, so a window (or the tray menu) built later shows everything at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use serde::Serialize;
use warden_core::rules::{Finding, Severity};
use warden_core::watch::Watcher;
use warden_core::{Account, AccountId, Accounts, Home, SessionId, Snapshot};

use crate::notify::Notifications;
use crate::prompt::WindowPrompt;
use crate::settings::SettingsStore;

pub struct AppState {
    pub home: Home,
    pub accounts: Arc<Accounts>,
    pub watcher: Watcher,
    pub views: Arc<Views>,
    pub notifications: Arc<Notifications>,
    pub prompt: Arc<WindowPrompt>,
    pub settings: SettingsStore,
    /// The home's `WatchLock`, once this process holds it (until then another process
    /// polls, and the watcher is on standby).
    pub watch_lock: std::sync::Mutex<Option<warden_core::watch_lock::WatchLock>>,
}

/// How an account is doing, as the sidebar and the tray say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[derive(ts_rs::TS)]
pub enum Health {
    /// Not answered yet.
    Connecting,
    Ok,
    /// Polls fail; it retries by itself.
    Stale,
    /// Polls cannot resume without the person (a changed password, a one-time code).
    NeedsSignIn,
}

/// One account as the window shows it. Carries no secret: it crosses IPC.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[derive(ts_rs::TS)]
pub struct AccountView {
    pub account: Account,
    pub health: Health,
    /// `None` until the first poll answers.
    pub snapshot: Option<Snapshot>,
    pub stale: Option<Stale>,
    /// Live sessions the rules flagged, with the reasons, worst first.
    pub suspicious: HashMap<SessionId, Vec<Finding>>,
    /// What watching this account costs, when it costs something (node-auth's one refresh
    /// token per user).
    pub caveat: Option<String>,
    /// What signing in to it asks (for "Sign in again"), as core says.
    pub sign_in: warden_core::SignInForm,
    /// When Session Warden's own sign-in ends, where known (SecureAuth: 7 days after the
    /// code; it then needs a new one).
    pub signed_in_until: Option<DateTime<Utc>>,
    /// When this view was made, in changes (see `Views`): of two, the window keeps the newer.
    #[ts(type = "number")]
    pub revision: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[derive(ts_rs::TS)]
pub struct Stale {
    pub since: DateTime<Utc>,
    pub error: String,
    pub needs_sign_in: bool,
}

#[derive(Default)]
struct Latest {
    snapshot: Option<Snapshot>,
    signed_in_until: Option<DateTime<Utc>>,
    /// The account's caveat with the server's own figures, once known from a poll.
    caveat: Option<String>,
    stale: Option<Stale>,
    suspicious: HashMap<SessionId, Vec<Finding>>,
    revision: u64,
}

/// What the token Session Warden holds on an account tells, as of a poll.
#[derive(Debug, Default)]
pub struct OwnSession {
    /// When it ends (SecureAuth's 7 days).
    pub signed_in_until: Option<DateTime<Utc>>,
    /// What watching costs, with the server's own figures (node-auth's access tokens).
    pub caveat: Option<String>,
}

#[derive(Default)]
pub struct Views {
    latest: Mutex<HashMap<AccountId, Latest>>,
    /// Bumped by every change. A view carries the revision it was made at, so the window
    /// keeps the newer of two views that reach it out of order: a command's answer made
    /// before a poll finished can arrive after that poll's event.
    revisions: AtomicU64,
}

/// What the tray's icon says at a glance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Quiet,
    /// Something needs a look: an account cannot be checked.
    Attention,
    /// A live session looks wrong.
    Alert,
}

impl Views {
    fn latest(&self) -> MutexGuard<'_, HashMap<AccountId, Latest>> {
        self.latest.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn change(&self, account: &AccountId, change: impl FnOnce(&mut Latest)) {
        let mut latest = self.latest();
        let entry = latest.entry(account.clone()).or_default();
        change(entry);
        entry.revision = self.revisions.fetch_add(1, Ordering::Relaxed) + 1;
    }

    /// A new listing, with what the account's token says at it (`OwnSession`); flags of
    /// sessions no longer in it are dropped.
    pub fn set_snapshot(&self, snapshot: Snapshot, own: OwnSession) {
        self.change(&snapshot.account.clone(), |entry| {
            entry.suspicious.retain(|id, _| snapshot.get(id).is_some());
            entry.snapshot = Some(snapshot);
            entry.stale = None;
            entry.signed_in_until = own.signed_in_until;
            entry.caveat = own.caveat;
        });
    }

    pub fn set_stale(&self, account: &AccountId, stale: Option<Stale>) {
        self.change(account, |entry| entry.stale = stale);
    }

    /// Remembers why a live session looks wrong (warnings and worse only).
    pub fn flag(&self, account: &AccountId, session: &SessionId, findings: &[Finding]) {
        let serious: Vec<Finding> = findings
            .iter()
            .filter(|f| f.severity >= Severity::Warning)
            .cloned()
            .collect();
        if !serious.is_empty() {
            self.change(account, |entry| {
                entry.suspicious.insert(session.clone(), serious);
            });
        }
    }

    /// The person dealt with it: trusted it, or it ended.
    pub fn unflag(&self, account: &AccountId, session: &SessionId) {
        self.change(account, |entry| {
            entry.suspicious.remove(session);
        });
    }

    pub fn forget(&self, account: &AccountId) {
        self.latest().remove(account);
    }

    pub fn view(&self, account: Account) -> AccountView {
        let latest = self.latest();
        let entry = latest.get(&account.id);
        let stale = entry.and_then(|e| e.stale.clone());
        let snapshot = entry.and_then(|e| e.snapshot.clone());
        let health = match (&stale, &snapshot) {
            (Some(s), _) if s.needs_sign_in => Health::NeedsSignIn,
            (Some(_), _) => Health::Stale,
            (None, None) => Health::Connecting,
            (None, Some(_)) => Health::Ok,
        };
        AccountView {
            health,
            snapshot,
            stale,
            suspicious: entry.map(|e| e.suspicious.clone()).unwrap_or_default(),
            caveat: entry
                .and_then(|e| e.caveat.clone())
                .or_else(|| account.dialect.caveat()),
            signed_in_until: entry.and_then(|e| e.signed_in_until),
            sign_in: account.dialect.sign_in_form(),
            revision: entry.map_or(0, |e| e.revision),
            account,
        }
    }

    /// The tray's level, and its tooltip: the worst of all accounts, in a line.
    pub fn summary(views: &[AccountView]) -> (Level, String) {
        let flagged: usize = views.iter().map(|v| v.suspicious.len()).sum();
        let troubled: Vec<&str> = views
            .iter()
            .filter(|v| matches!(v.health, Health::Stale | Health::NeedsSignIn))
            .map(|v| v.account.label.as_str())
            .collect();
        let sessions: usize = views
            .iter()
            .filter_map(|v| v.snapshot.as_ref())
            .map(|s| s.sessions.len())
            .sum();
        if views.is_empty() {
            return (Level::Quiet, "Session Warden: no accounts yet".into());
        }
        if flagged > 0 {
            let s = if flagged == 1 { "" } else { "s" };
            return (
                Level::Alert,
                format!("Session Warden: {flagged} suspicious session{s}"),
            );
        }
        if !troubled.is_empty() {
            return (
                Level::Attention,
                format!("Session Warden: cannot check {}", troubled.join(", ")),
            );
        }
        let (a, s) = (views.len(), sessions);
        (
            Level::Quiet,
            format!(
                "Session Warden: all quiet · {a} account{} · {s} session{}",
                if a == 1 { "" } else { "s" },
                if s == 1 { "" } else { "s" }
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> Account {
        Account {
            id: AccountId::from_stored("a".into()),
            label: "Work".into(),
            base_url: "https://example.com/".parse().expect("a URL"),
            dialect: warden_core::DialectKind::Hectoday,
            login: "me@example.com".into(),
            added_at: Utc::now(),
        }
    }

    #[test]
    fn every_change_makes_a_newer_view_and_a_look_does_not() {
        let views = Views::default();
        let first = views.view(account());
        assert_eq!(first.revision, 0);
        let stale = Stale {
            since: Utc::now(),
            error: "cannot reach".into(),
            needs_sign_in: true,
        };
        views.set_stale(&account().id, Some(stale));
        let needs_sign_in = views.view(account());
        assert!(needs_sign_in.revision > first.revision);
        assert_eq!(
            views.view(account()).revision,
            needs_sign_in.revision,
            "looking changes nothing"
        );
        views.set_snapshot(
            Snapshot {
                account: account().id,
                sessions: Vec::new(),
                fetched_at: Utc::now(),
            },
            OwnSession::default(),
        );
        let ok = views.view(account());
        assert!(matches!(ok.health, Health::Ok));
        assert!(
            ok.revision > needs_sign_in.revision,
            "the window keeps this one over the older 'needs sign-in'"
        );
    }
}
