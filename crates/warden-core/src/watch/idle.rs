//! The idle policy: sessions not used for a while are signed out on their own, on any API
//! ("terminate old sessions if inactive for…"). Off by default; set per account, kept in
//! the ledger so every process on a home applies the same one; applied by the process that
//! watches. It never ends our own session, a trusted ("It's me") device unless the person
//! said so, or a session whose last activity the API does not give.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::dialect::DialectKind;
use crate::error::{Error, Result};
use crate::session::Session;

/// How long unused before a session is signed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum IdleAfter {
    #[serde(rename = "1w")]
    Week,
    #[serde(rename = "1m")]
    Month,
    #[serde(rename = "3m")]
    ThreeMonths,
    #[serde(rename = "6m")]
    SixMonths,
    #[serde(rename = "1y")]
    Year,
}

impl IdleAfter {
    pub const ALL: [IdleAfter; 5] = [
        IdleAfter::Week,
        IdleAfter::Month,
        IdleAfter::ThreeMonths,
        IdleAfter::SixMonths,
        IdleAfter::Year,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IdleAfter::Week => "1w",
            IdleAfter::Month => "1m",
            IdleAfter::ThreeMonths => "3m",
            IdleAfter::SixMonths => "6m",
            IdleAfter::Year => "1y",
        }
    }

    /// "a week", "a month", "3 months"…
    pub fn words(self) -> &'static str {
        match self {
            IdleAfter::Week => "a week",
            IdleAfter::Month => "a month",
            IdleAfter::ThreeMonths => "3 months",
            IdleAfter::SixMonths => "6 months",
            IdleAfter::Year => "a year",
        }
    }

    /// Months are 30 days and a year 365: "not used for a month" is a person's month.
    pub fn duration(self) -> TimeDelta {
        TimeDelta::days(match self {
            IdleAfter::Week => 7,
            IdleAfter::Month => 30,
            IdleAfter::ThreeMonths => 90,
            IdleAfter::SixMonths => 180,
            IdleAfter::Year => 365,
        })
    }
}

impl std::str::FromStr for IdleAfter {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        IdleAfter::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "{s:?} is not an idle time; one of {}",
                    IdleAfter::ALL.map(IdleAfter::as_str).join(", ")
                ))
            })
    }
}

/// An account's idle policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct IdlePolicy {
    pub after: IdleAfter,
    /// Trusted ("It's me") devices too; by default they are spared.
    pub include_trusted: bool,
}

/// What the policy would do to an account's sessions now: what it ends and what it spares
/// that a person might expect it to end, with why.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct IdlePlan {
    /// Not used for longer than the policy allows: signed out when it runs.
    pub ending: Vec<Session>,
    /// Idle as long, but trusted ("It's me"), and the policy spares trusted devices.
    pub spared_trusted: Vec<Session>,
    /// The API gives no last activity for these: the policy cannot tell, and does not guess.
    pub unknown_activity: Vec<Session>,
    /// What the person should know of this API's activity times (Better Auth: to the day).
    pub note: Option<String>,
}

/// What `policy` ends of `sessions` at `now`. `trusted` says whether a session's device is
/// trusted. Our own sessions (this one and earlier ones) are never ended.
pub fn plan(
    policy: IdlePolicy,
    dialect: DialectKind,
    sessions: &[Session],
    trusted: impl Fn(&Session) -> bool,
    now: DateTime<Utc>,
) -> IdlePlan {
    let mut plan = IdlePlan::default();
    let limit = policy.after.duration();
    // Better Auth's activity moves once a day: a session is idle "for over a week" only
    // when a week and that day have passed, so a day's use never counts as idle.
    let slack = dialect.activity_granularity().unwrap_or_default();
    for session in sessions.iter().filter(|s| !s.is_ours()) {
        let Some(active) = session.last_active_at else {
            plan.unknown_activity.push(session.clone());
            continue;
        };
        let idle = now.signed_duration_since(active);
        if idle <= limit + slack {
            continue;
        }
        if trusted(session) && !policy.include_trusted {
            plan.spared_trusted.push(session.clone());
        } else {
            plan.ending.push(session.clone());
        }
    }
    plan.note = match (
        dialect.activity_granularity(),
        plan.unknown_activity.is_empty(),
    ) {
        (Some(_), _) => Some(format!(
            "{} tells when a session was last used only to the day: the policy waits that \
             day longer before it signs one out.",
            dialect.title()
        )),
        (None, false) => Some(format!(
            "{} gives no last activity for {} session{}: the policy leaves {} alone rather \
             than guess.",
            dialect.title(),
            plan.unknown_activity.len(),
            if plan.unknown_activity.len() == 1 {
                ""
            } else {
                "s"
            },
            if plan.unknown_activity.len() == 1 {
                "it"
            } else {
                "them"
            },
        )),
        (None, true) => None,
    };
    plan
}

/// The notification of one run: "Signed out 2 sessions idle for over a month".
pub fn summary(count: usize, after: IdleAfter) -> String {
    format!(
        "Signed out {count} session{} idle for over {}",
        if count == 1 { "" } else { "s" },
        after.words()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::account::AccountId;

    fn session(id: &str, idle_days: Option<i64>, now: DateTime<Utc>) -> Session {
        let mut session = Session::bare(&AccountId::from_stored("acc".into()), id, id);
        session.last_active_at = idle_days.map(|d| now - TimeDelta::days(d));
        session
    }

    #[test]
    fn a_week_ends_what_is_idle_longer_and_spares_ours_the_trusted_and_the_unknown() {
        let now = Utc::now();
        let mut ours = session("ours", Some(30), now);
        ours.is_current = true;
        let sessions = vec![
            ours,
            session("old", Some(8), now),
            session("recent", Some(6), now),
            session("trusted", Some(40), now),
            session("silent", None, now),
        ];
        let policy = IdlePolicy {
            after: IdleAfter::Week,
            include_trusted: false,
        };
        let trusted = |s: &Session| s.device.label == "trusted";
        let plan = plan(policy, DialectKind::Hectoday, &sessions, trusted, now);
        let names = |v: &[Session]| v.iter().map(|s| s.device.label.clone()).collect::<Vec<_>>();
        assert_eq!(names(&plan.ending), ["old"]);
        assert_eq!(names(&plan.spared_trusted), ["trusted"]);
        assert_eq!(names(&plan.unknown_activity), ["silent"]);
        assert!(plan.note.is_some_and(|n| n.contains("rather than guess")));
        let all = IdlePolicy {
            include_trusted: true,
            ..policy
        };
        let plan = super::plan(all, DialectKind::Hectoday, &sessions, trusted, now);
        assert_eq!(names(&plan.ending), ["old", "trusted"]);
    }

    #[test]
    fn better_auths_day_grained_activity_waits_a_day_longer_and_says_so() {
        let now = Utc::now();
        let sessions = vec![session("a", Some(8), now), session("b", Some(9), now)];
        let policy = IdlePolicy {
            after: IdleAfter::Week,
            include_trusted: false,
        };
        let plan = plan(policy, DialectKind::BetterAuth, &sessions, |_| false, now);
        assert_eq!(plan.ending.len(), 1, "8 days is within a week and a day");
        assert!(plan.note.is_some_and(|n| n.contains("to the day")));
    }

    #[test]
    fn idle_times_read_and_refuse() {
        assert_eq!("3m".parse::<IdleAfter>().ok(), Some(IdleAfter::ThreeMonths));
        assert!("2w".parse::<IdleAfter>().is_err());
        assert_eq!(
            summary(2, IdleAfter::Month),
            "Signed out 2 sessions idle for over a month"
        );
    }
}
