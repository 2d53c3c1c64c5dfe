//! What the person sees of each account, decided here for every front end: its health,
//! its sessions with their flags, what watching it costs, when our sign-in ends, and the
//! tray's level. The watcher's events feed `Views`; a front end renders the `AccountView`s
//! it hands out and never edits them (each carries the revision it was made at, so of two
//! views that arrive out of order the newer is kept).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::accounts::account::{Account, AccountId};
use crate::dialect::SignInForm;
use crate::rules::{Finding, Severity};
use crate::session::{SessionId, Snapshot};
use crate::watch::defence::PendingSignOut;

/// How an account is doing, as the sidebar and the tray say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AccountView {
    pub account: Account,
    pub health: Health,
    /// The account's own level: suspicious with a flagged live session, attention when it
    /// cannot be checked, quiet otherwise (the tray's level is the worst of these).
    pub level: Level,
    /// Its state in a few words, as the window's list of accounts shows it: "3 sessions",
    /// "1 suspicious", "Cannot check since 14:02", "Needs sign-in", "Connecting…".
    pub summary: String,
    /// `None` until the first poll answers.
    pub snapshot: Option<Snapshot>,
    pub stale: Option<Stale>,
    /// Live sessions the rules flagged, with the reasons, worst first.
    pub suspicious: HashMap<SessionId, Vec<Finding>>,
    /// The defence's sign-outs not yet done, soonest first: each with its countdown and its
    /// alert, and why the last try failed when one did.
    pub sign_outs: Vec<PendingSignOut>,
    /// What watching this account costs, when it costs something (node-auth's one refresh
    /// token per user).
    pub caveat: Option<String>,
    /// What signing in to it asks (for "Sign in again"), as core says.
    pub sign_in: SignInForm,
    /// What the person must read before a sign-out is confirmed, where signing out costs
    /// more than the session (Matrix: the device's encryption keys).
    pub revoke_warning: Option<String>,
    /// Whether Rename names the session on the server, for every client (Matrix), rather
    /// than a name of ours.
    pub renames_on_server: bool,
    /// Whether a session's address is where it was last seen rather than where it signed
    /// in (allauth and Matrix rewrite it with every request).
    pub address_is_last_seen: bool,
    /// What the API keeps of its sessions, where less than a person would assume (Home
    /// Assistant: no browser, and times of renewal, not use); shown on hover.
    pub what_is_known: Option<String>,
    /// How fine "last active" is, in seconds, where coarser than a poll (Better Auth: a day).
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub activity_granularity_secs: Option<i64>,
    /// When Session Warden's own sign-in ends, where known (SecureAuth: 7 days after the
    /// code; it then needs a new one).
    pub signed_in_until: Option<DateTime<Utc>>,
    /// When this view was made, in changes (see `Views`): of two, the window keeps the newer.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub revision: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
    sign_outs: Vec<PendingSignOut>,
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

pub struct Views {
    latest: Mutex<HashMap<AccountId, Latest>>,
    /// Bumped by every change. A view carries the revision it was made at, so the window
    /// keeps the newer of two views that reach it out of order: a command's answer made
    /// before a poll finished can arrive after that poll's event.
    revisions: AtomicU64,
    /// Each change's account, for front ends that follow (`subscribe`).
    changes: tokio::sync::broadcast::Sender<AccountId>,
}

impl Default for Views {
    fn default() -> Self {
        Self {
            latest: Mutex::default(),
            revisions: AtomicU64::default(),
            // A front end that falls this far behind catches up from `view` anyway.
            changes: tokio::sync::broadcast::channel(256).0,
        }
    }
}

/// What the tray's icon says at a glance, and each account's mark in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Level {
    Quiet,
    /// Something needs a look: an account cannot be checked.
    Attention,
    /// A live session looks wrong.
    Suspicious,
}

impl Views {
    fn latest(&self) -> MutexGuard<'_, HashMap<AccountId, Latest>> {
        self.latest.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn change(&self, account: &AccountId, change: impl FnOnce(&mut Latest)) {
        {
            let mut latest = self.latest();
            let entry = latest.entry(account.clone()).or_default();
            change(entry);
            entry.revision = self.revisions.fetch_add(1, Ordering::Relaxed) + 1;
        }
        // Nobody following is fine: the views are there when someone looks.
        let _ = self.changes.send(account.clone());
    }

    /// The account of every change from now on: a front end shows `view` of it (the window
    /// gets it, the tray is rebuilt). A receiver that lags is told so and loses nothing it
    /// cannot get again from `view`.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<AccountId> {
        self.changes.subscribe()
    }

    /// What the watcher reports, as the person sees it: a listing replaces the sessions (with
    /// what our token says at it, from `accounts`), a failure shows "stale since", a sign-in or
    /// a change that raised a warning is flagged until it ends or is trusted.
    pub fn apply(&self, event: &crate::event::Event, accounts: &crate::accounts::Accounts) {
        use crate::event::Event;
        match event {
            Event::Listed { snapshot } => {
                let own = match accounts.get(&snapshot.account) {
                    Ok(account) => OwnSession {
                        signed_in_until: accounts.signed_in_until_cached(&account),
                        caveat: accounts.caveat(&account),
                    },
                    Err(_) => OwnSession::default(),
                };
                self.set_snapshot(snapshot.clone(), own);
            }
            Event::Stale {
                account,
                since,
                error,
                needs_sign_in,
            } => self.set_stale(
                account,
                Some(Stale {
                    since: *since,
                    error: error.clone(),
                    needs_sign_in: *needs_sign_in,
                }),
            ),
            Event::Recovered { account } => self.set_stale(account, None),
            Event::SessionAppeared { session, findings }
            | Event::Suspicious { session, findings } => {
                self.flag(&session.account, &session.id, findings);
            }
            Event::SessionEnded { session, .. } => self.unflag(&session.account, &session.id),
            // The defence's sign-outs as the ledger has them now (any process may cancel one).
            Event::SignOutPending { .. }
            | Event::DefenceSignedOut { .. }
            | Event::DefenceFailed { .. } => self.follow_sign_outs(event.account(), accounts),
            Event::DefenceAsks { .. } => {}
            // Told by the notification policy; the account's view shows the end all along, and the
            // sessions the idle policy ended leave with the next listing.
            Event::SignInEnding { .. } | Event::IdleSignedOut { .. } => {}
        }
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

    /// Reads the account's pending sign-outs from the ledger, and shows them when they
    /// changed (another process may have cancelled or added one).
    pub fn follow_sign_outs(&self, account: &AccountId, accounts: &crate::accounts::Accounts) {
        match accounts.pending_sign_outs(Some(account)) {
            Ok(pending) => self.show_sign_outs(account, pending),
            Err(e) => tracing::warn!(%account, "cannot read the pending sign-outs: {e}"),
        }
    }

    /// [`Views::follow_sign_outs`] for every account, in one read of the ledger: what a
    /// front end runs every few seconds to see another process's cancels.
    pub fn follow_every_sign_out(&self, accounts: &crate::accounts::Accounts) {
        let pending = match accounts.pending_sign_outs(None) {
            Ok(pending) => pending,
            Err(e) => {
                tracing::warn!("cannot read the pending sign-outs: {e}");
                return;
            }
        };
        let mut shown: Vec<AccountId> = self.latest().keys().cloned().collect();
        for p in &pending {
            if !shown.contains(&p.account) {
                shown.push(p.account.clone());
            }
        }
        for account in shown {
            let of_it = pending
                .iter()
                .filter(|p| p.account == account)
                .cloned()
                .collect();
            self.show_sign_outs(&account, of_it);
        }
    }

    /// The account's pending sign-outs, published only when they changed.
    fn show_sign_outs(&self, account: &AccountId, pending: Vec<PendingSignOut>) {
        let same = self
            .latest()
            .get(account)
            .is_some_and(|e| e.sign_outs == pending);
        if !same {
            self.change(account, |entry| entry.sign_outs = pending);
        }
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
        let suspicious = entry.map(|e| e.suspicious.clone()).unwrap_or_default();
        let (level, summary) =
            at_a_glance(health, stale.as_ref(), snapshot.as_ref(), suspicious.len());
        AccountView {
            health,
            level,
            summary,
            snapshot,
            stale,
            suspicious,
            sign_outs: entry.map(|e| e.sign_outs.clone()).unwrap_or_default(),
            caveat: entry
                .and_then(|e| e.caveat.clone())
                .or_else(|| account.dialect.caveat()),
            signed_in_until: entry.and_then(|e| e.signed_in_until),
            sign_in: account.dialect.sign_in_form(),
            revoke_warning: account.dialect.revoke_warning().map(str::to_owned),
            renames_on_server: account.dialect.renames_on_server(),
            address_is_last_seen: account.dialect.address_is_last_seen(),
            what_is_known: account.dialect.what_is_known().map(str::to_owned),
            activity_granularity_secs: account
                .dialect
                .activity_granularity()
                .map(|g| g.num_seconds()),
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
                Level::Suspicious,
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

/// One account's level and its state in a few words.
fn at_a_glance(
    health: Health,
    stale: Option<&Stale>,
    snapshot: Option<&Snapshot>,
    flagged: usize,
) -> (Level, String) {
    match health {
        Health::Connecting => (Level::Quiet, "Connecting…".into()),
        // The person's own clock: the window shows it on their desktop.
        Health::Stale => (
            Level::Attention,
            match stale {
                Some(stale) => format!(
                    "Cannot check since {}",
                    stale.since.with_timezone(&chrono::Local).format("%H:%M")
                ),
                None => "Cannot check".into(),
            },
        ),
        Health::NeedsSignIn => (Level::Attention, "Needs sign-in".into()),
        Health::Ok if flagged > 0 => (Level::Suspicious, format!("{flagged} suspicious")),
        Health::Ok => {
            let n = snapshot.map_or(0, |s| s.sessions.len());
            (
                Level::Quiet,
                format!("{n} session{}", if n == 1 { "" } else { "s" }),
            )
        }
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
            dialect: crate::dialect::DialectKind::Hectoday,
            login: "me@example.com".into(),
            added_at: Utc::now(),
        }
    }

    #[test]
    fn every_change_is_published_to_those_who_follow_and_a_look_is_not() {
        let views = Views::default();
        let mut following = views.subscribe();
        let _ = views.view(account());
        assert!(following.try_recv().is_err(), "a look changes nothing");
        views.set_stale(
            &account().id,
            Some(Stale {
                since: Utc::now(),
                error: "down".into(),
                needs_sign_in: false,
            }),
        );
        assert_eq!(following.try_recv().ok(), Some(account().id));
        views.set_stale(&account().id, None);
        assert_eq!(following.try_recv().ok(), Some(account().id));
        assert!(following.try_recv().is_err(), "one message per change");
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
