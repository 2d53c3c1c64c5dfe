//! The rules at work for the watcher: one profile per account, learned from every
//! snapshot but the flagged sessions, what the person was told already (never the same
//! notification twice), and a short memory of unfamiliar networks across accounts.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use super::{
    Context, Finding, Profile, Rule, RuleId, Severity, Thresholds, all, device_identity, evaluate,
    stored_identity, worst,
};
use crate::accounts::account::AccountId;
use crate::session::{Session, SessionId, Snapshot, network_of};

/// How long an unfamiliar network counts towards "several accounts at once".
const SHARED_WINDOW: Duration = Duration::hours(1);

/// How long a flagged session waits, still signed in and not revoked, before the account
/// takes it as normal without the person's "It's me".
const FLAGGED_FOR: Duration = Duration::days(7);

/// What the judge keeps of one account.
#[derive(Default)]
struct Memory {
    profile: Profile,
    /// Sessions that raised a warning or an alert, and when: they teach the account nothing
    /// until the person says "It's me" or they have stayed signed in for `FLAGGED_FOR`.
    flagged: HashMap<SessionId, DateTime<Utc>>,
    /// What the person was told already, and when: a rule, and the device and network (a
    /// sign-in) or the session (a change) it was about. Sign-ins of one poll are one burst,
    /// told together.
    told: HashMap<(RuleId, String), DateTime<Utc>>,
    /// See `Context::activity_slack`.
    activity_slack: chrono::TimeDelta,
}

#[derive(Default)]
struct State {
    accounts: HashMap<AccountId, Memory>,
    /// Unfamiliar networks seen lately: network → account → when.
    unfamiliar: HashMap<String, HashMap<AccountId, DateTime<Utc>>>,
}

pub struct Judge {
    rules: Vec<Box<dyn Rule>>,
    thresholds: Mutex<Thresholds>,
    state: Mutex<State>,
}

impl Default for Judge {
    fn default() -> Self {
        Judge::new(Thresholds::default())
    }
}

/// Live sessions that are the person's: not ours, not known to be over.
fn live_count(snapshot: &Snapshot, now: DateTime<Utc>) -> usize {
    snapshot
        .sessions
        .iter()
        .filter(|s| !s.is_ours() && !s.is_expired(now))
        // Tokens of scripts and integrations are not sessions of the person's.
        .filter(|s| s.device.kind != crate::session::DeviceKind::Token)
        .count()
}

/// Above this many live sessions is unusual for the account: its own normal with room to
/// grow, the configured limit as a floor.
fn crowd_limit(profile: &Profile, floor: usize, now: DateTime<Utc>) -> usize {
    let usual = profile.usual_sessions(now.date_naive());
    floor.max(usual + usual / 2)
}

impl Judge {
    pub fn new(thresholds: Thresholds) -> Self {
        Judge {
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

    /// First sight of an account: everything in it is its normal, except sessions the
    /// history says were flagged (`flagged`, with when) and not yet taken as normal.
    pub fn baseline(&self, snapshot: &Snapshot, flagged: &[(SessionId, DateTime<Utc>)]) {
        let mut state = self.state();
        let watch = state.accounts.entry(snapshot.account.clone()).or_default();
        let now = snapshot.fetched_at;
        for (id, at) in flagged {
            if now - *at < FLAGGED_FOR {
                watch.flagged.insert(id.clone(), *at);
            }
        }
        for session in &snapshot.sessions {
            if !watch.flagged.contains_key(&session.id) || watch.profile.trusts(session) {
                watch.profile.learn(session, true);
            }
        }
        let live = live_count(snapshot, now);
        watch.profile.count_sessions(now.date_naive(), live);
    }

    /// How precisely `account`'s API records activity (`DialectKind::activity_granularity`):
    /// the travel rule allows for it.
    pub fn set_activity_granularity(
        &self,
        account: &AccountId,
        granularity: Option<chrono::TimeDelta>,
    ) {
        let mut state = self.state();
        state
            .accounts
            .entry(account.clone())
            .or_default()
            .activity_slack = granularity.unwrap_or_default();
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

    /// The findings for a known session seen again, when it changed address or place.
    pub fn seen_again(
        &self,
        before: &Session,
        after: &Session,
        snapshot: &Snapshot,
        now: DateTime<Utc>,
    ) -> Vec<Finding> {
        // Most sessions come back from where they were: compare the text before parsing.
        if before.location == after.location && before.ip == after.ip {
            return Vec::new();
        }
        // An address learnt for the first time is judged as a sign-in is: Matrix records a
        // device's address only from its first request after signing in, so that is when
        // its network, operator and place are first known.
        let previous = before.ip.is_some().then_some(before);
        self.examine(after, previous, snapshot, now)
    }

    fn examine(
        &self,
        session: &Session,
        previous: Option<&Session>,
        snapshot: &Snapshot,
        now: DateTime<Utc>,
    ) -> Vec<Finding> {
        // Only the session we hold is exempt: a user agent that names us is a claim, and a
        // stranger could make it.
        if session.is_ours() {
            return Vec::new();
        }
        let thresholds = self.thresholds();
        let mut state = self.state();
        let State {
            accounts,
            unfamiliar,
        } = &mut *state;
        let account = &snapshot.account;
        let watch = accounts.entry(account.clone()).or_default();
        let elsewhere = match (&session.ip, previous) {
            (Some(ip), None) if !watch.profile.knows_network(session) => match network_of(ip) {
                Some(network) => {
                    let seen = unfamiliar.entry(network).or_default();
                    seen.retain(|_, at| now - *at < SHARED_WINDOW);
                    seen.insert(account.clone(), now);
                    seen.len() - 1
                }
                None => 0,
            },
            _ => 0,
        };
        unfamiliar.retain(|_, seen| seen.values().any(|at| now - *at < SHARED_WINDOW));
        // The count is news once, when a sign-in takes it past the account's normal; while
        // it is above, nothing to count (a burst of a thousand sign-ins is counted once).
        let crowd = if previous.is_none() && !watch.profile.crowded {
            let live = live_count(snapshot, now);
            let limit = crowd_limit(&watch.profile, thresholds.max_sessions, now);
            watch.profile.crowded = live > limit;
            watch.profile.crowded.then_some((live, limit))
        } else {
            None
        };
        // The rules are cheap and pure: they run under the lock, on the profile in place.
        let ctx = Context {
            activity_slack: watch.activity_slack,
            profile: &watch.profile,
            snapshot,
            previous,
            elsewhere,
            thresholds: &thresholds,
            now,
            crowd,
        };
        let mut findings = evaluate(&self.rules, session, &ctx);
        let subject = match previous {
            Some(_) => session.id.to_string(),
            None => format!(
                "{}@{}",
                device_identity(session),
                session.network_key().unwrap_or_default()
            ),
        };
        for finding in findings
            .iter_mut()
            .filter(|f| f.severity >= Severity::Warning && f.rule != RuleId::TooManySessions)
        {
            let first = *watch
                .told
                .entry((finding.rule, subject.clone()))
                .or_insert(now);
            finding.repeat = first < now;
        }
        if worst(&findings) >= Some(Severity::Warning) && !watch.profile.trusts(session) {
            watch.flagged.entry(session.id.clone()).or_insert(now);
        }
        findings
    }

    /// Remembers the snapshot as normal (after its findings were reported); `new` are the
    /// sessions that signed in since the last one. Flagged sessions are left out until the
    /// person trusted them or they have stayed a week.
    pub fn learn(&self, snapshot: &Snapshot, new: &[&Session]) {
        let mut state = self.state();
        let watch = state.accounts.entry(snapshot.account.clone()).or_default();
        let now = snapshot.fetched_at;
        for session in &snapshot.sessions {
            if let Some(since) = watch.flagged.get(&session.id).copied() {
                if now - since < FLAGGED_FOR && !watch.profile.trusts(session) {
                    continue;
                }
                watch.flagged.remove(&session.id);
            }
            let is_new = new.iter().any(|n| n.id == session.id);
            watch.profile.learn(session, is_new);
        }
        let live = live_count(snapshot, now);
        if live <= crowd_limit(&watch.profile, self.thresholds().max_sessions, now) {
            watch.profile.crowded = false;
        }
        watch.profile.count_sessions(now.date_naive(), live);
    }

    /// "It's me": the device is the person's; it raises nothing from now on but signs that
    /// its token is used elsewhere.
    pub fn trust(&self, account: &AccountId, session: &Session) {
        let mut state = self.state();
        let watch = state.accounts.entry(account.clone()).or_default();
        watch.flagged.remove(&session.id);
        watch.profile.trust(session);
    }

    /// A device the person trusted before (from the ledger).
    pub fn trust_device(&self, account: &AccountId, device: &str) {
        self.state()
            .accounts
            .entry(account.clone())
            .or_default()
            .profile
            .trusted
            .insert(&stored_identity(device));
    }

    /// Whether the session's device is one the person trusted ("It's me").
    pub fn trusts(&self, account: &AccountId, session: &Session) -> bool {
        self.state()
            .accounts
            .get(account)
            .is_some_and(|watch| watch.profile.trusts(session))
    }

    /// A session revoked through Session Warden (`Profile::forget_sightings`).
    pub fn revoked(&self, account: &AccountId, session: &SessionId) {
        if let Some(watch) = self.state().accounts.get_mut(account) {
            watch.profile.forget_sightings(session.as_str());
        }
    }

    pub fn forget(&self, account: &AccountId) {
        self.state().accounts.remove(account);
    }
}
