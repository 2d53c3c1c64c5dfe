//! The rules at work for the watcher: one profile per account, learned from every
//! snapshot, and a short memory of unfamiliar networks across accounts.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use super::{Context, Finding, Profile, Rule, Thresholds, all, evaluate};
use crate::account::AccountId;
use crate::session::{Session, Snapshot, network_of};

/// How long an unfamiliar network counts towards "several accounts at once".
const SHARED_WINDOW: Duration = Duration::hours(1);

#[derive(Default)]
struct State {
    profiles: HashMap<AccountId, Profile>,
    /// Unfamiliar networks seen lately: network → account → when.
    unfamiliar: HashMap<String, HashMap<AccountId, DateTime<Utc>>>,
}

pub struct Detector {
    rules: Vec<Box<dyn Rule>>,
    thresholds: Mutex<Thresholds>,
    state: Mutex<State>,
}

impl Default for Detector {
    fn default() -> Self {
        Detector::new(Thresholds::default())
    }
}

impl Detector {
    pub fn new(thresholds: Thresholds) -> Self {
        Detector {
            rules: all(),
            thresholds: Mutex::new(thresholds),
            state: Mutex::default(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn thresholds(&self) -> Thresholds {
        self.thresholds
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn set_thresholds(&self, thresholds: Thresholds) {
        *self.thresholds.lock().unwrap_or_else(|p| p.into_inner()) = thresholds;
    }

    /// First sight of an account: everything in it is its normal.
    pub fn baseline(&self, snapshot: &Snapshot) {
        let mut state = self.state();
        let profile = state.profiles.entry(snapshot.account.clone()).or_default();
        for session in &snapshot.sessions {
            profile.learn(session, true);
        }
    }

    /// The findings for a session that just appeared in `snapshot`.
    pub fn appeared(
        &self,
        session: &Session,
        snapshot: &Snapshot,
        now: DateTime<Utc>,
    ) -> Vec<Finding> {
        self.examine(session, None, snapshot, now)
    }

    /// The findings for a known session seen again, when it changed network or place.
    pub fn seen_again(
        &self,
        before: &Session,
        after: &Session,
        snapshot: &Snapshot,
        now: DateTime<Utc>,
    ) -> Vec<Finding> {
        // Most sessions come back from where they were: compare the text before parsing.
        let moved = before.location != after.location
            || (before.ip != after.ip
                && before.ip.as_deref().map(network_of) != after.ip.as_deref().map(network_of));
        if !moved {
            return Vec::new();
        }
        self.examine(after, Some(before), snapshot, now)
    }

    fn examine(
        &self,
        session: &Session,
        previous: Option<&Session>,
        snapshot: &Snapshot,
        now: DateTime<Utc>,
    ) -> Vec<Finding> {
        if session.is_current {
            return Vec::new();
        }
        let thresholds = self.thresholds();
        let mut state = self.state();
        let State {
            profiles,
            unfamiliar,
        } = &mut *state;
        let account = &snapshot.account;
        let profile = profiles.entry(account.clone()).or_default();
        let elsewhere = match (&session.ip, previous) {
            (Some(ip), None) if !profile.knows_network(ip) => {
                let seen = unfamiliar.entry(network_of(ip)).or_default();
                seen.retain(|_, at| now - *at < SHARED_WINDOW);
                seen.insert(account.clone(), now);
                seen.len() - 1
            }
            _ => 0,
        };
        unfamiliar.retain(|_, seen| seen.values().any(|at| now - *at < SHARED_WINDOW));
        // The rules are cheap and pure: they run under the lock, on the profile in place.
        let ctx = Context {
            profile,
            snapshot,
            previous,
            elsewhere,
            thresholds: &thresholds,
            now,
        };
        evaluate(&self.rules, session, &ctx)
    }

    /// Remembers the snapshot as normal (after its findings were reported); `new` are the
    /// sessions that signed in since the last one.
    pub fn learn(&self, snapshot: &Snapshot, new: &[&Session]) {
        let mut state = self.state();
        let profile = state.profiles.entry(snapshot.account.clone()).or_default();
        for session in &snapshot.sessions {
            let is_new = new.iter().any(|n| n.id == session.id);
            profile.learn(session, is_new);
        }
    }

    /// "It's me": the device is the person's; it raises nothing from now on but signs that
    /// its token is used elsewhere.
    pub fn trust(&self, account: &AccountId, session: &Session) {
        self.state()
            .profiles
            .entry(account.clone())
            .or_default()
            .trust(session);
    }

    /// A device the person trusted before (from the ledger).
    pub fn trust_device(&self, account: &AccountId, device: &str) {
        self.state()
            .profiles
            .entry(account.clone())
            .or_default()
            .trusted
            .insert(device);
    }

    pub fn forget(&self, account: &AccountId) {
        self.state().profiles.remove(account);
    }
}
