//! The defence: what Session Warden does on its own when an alert says a session cannot be
//! the person's (`Finding::act`: a copied cookie used abroad while their devices are in use
//! at home, one session in two places no one travels between, a session moved to a server's
//! network). Per account, kept in the ledger so every process on a home applies the same
//! one, and applied only by the process that watches:
//! - **Tell me**: a notification, as for any alert;
//! - **Sign out after a short wait** (the default for new accounts): a notification with a
//!   countdown, [It's me] and [Sign out now]; when nobody answers, the session is revoked
//!   and checked gone;
//! - **Sign out at once**.
//!
//! Safe by construction: never our own session; never on a warning or a notice; at most
//! `MAX_PER_HOUR` automatic sign-outs per account per hour (a runaway rule or a hostile
//! server cannot sign the person out everywhere), past which it asks; never on an API where
//! signing out costs more than the session (Matrix: the device's encryption keys), where it
//! asks and says why.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::dialect::DialectKind;
use crate::rules::{Finding, RuleId, Severity};
use crate::session::{Session, SessionId};

/// The wait of "Sign out after a short wait" unless the person picks another: long enough
/// to read a notification and say "It's me", short enough that an intruder's access ends
/// within minutes.
pub const DEFAULT_WAIT: TimeDelta = TimeDelta::minutes(2);

/// The shortest and longest wait a person may set.
pub const WAIT_RANGE: (TimeDelta, TimeDelta) = (TimeDelta::seconds(10), TimeDelta::hours(24));

/// Automatic sign-outs per account in any hour, past which Session Warden asks.
pub const MAX_PER_HOUR: usize = 3;

/// What Session Warden does when an alert says a session is surely not the person's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "kebab-case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Defence {
    /// Tell me: a notification, as for any alert; the person revokes.
    Tell,
    /// Sign out after a short wait, in which the person can say "It's me" or sign out at
    /// once.
    #[serde(rename_all = "camelCase")]
    Wait {
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        seconds: i64,
    },
    /// Sign out at once.
    AtOnce,
}

impl Default for Defence {
    /// New accounts sign out after a short wait: the alerts it acts on held on a month of
    /// real IP data without one false alarm, and the wait leaves the person a way back.
    fn default() -> Self {
        Defence::Wait {
            seconds: DEFAULT_WAIT.num_seconds(),
        }
    }
}

impl Defence {
    /// A wait of `wait`, within `WAIT_RANGE`, or why not.
    pub fn wait(wait: TimeDelta) -> Result<Defence, String> {
        let (least, most) = WAIT_RANGE;
        if wait < least || wait > most {
            return Err(format!(
                "the wait must be between {} and {}",
                span(least),
                span(most)
            ));
        }
        Ok(Defence::Wait {
            seconds: wait.num_seconds(),
        })
    }

    /// How long before a session is signed out, when it is.
    pub fn delay(self) -> Option<TimeDelta> {
        match self {
            Defence::Tell => None,
            Defence::Wait { seconds } => Some(TimeDelta::seconds(seconds)),
            Defence::AtOnce => Some(TimeDelta::zero()),
        }
    }

    /// Its name, as the window's choice and the CLI say it.
    pub fn title(self) -> String {
        match self {
            Defence::Tell => "Tell me".into(),
            Defence::Wait { seconds } => {
                format!("Sign out after {}", span(TimeDelta::seconds(seconds)))
            }
            Defence::AtOnce => "Sign out at once".into(),
        }
    }

    /// What it does, in a sentence, beside the choice.
    pub fn explained(self) -> String {
        match self {
            Defence::Tell => "A session that is surely not yours is notified; you decide. \
                              It keeps working until you revoke it."
                .into(),
            Defence::Wait { seconds } => format!(
                "A session that is surely not yours is signed out after {}, unless you say \
                 \"It's me\" first. Warnings are only told.",
                span(TimeDelta::seconds(seconds))
            ),
            Defence::AtOnce => "A session that is surely not yours is signed out as soon as it \
                                is seen, and you are told. Warnings are only told."
                .into(),
        }
    }

    /// As the ledger keeps it: a mode and, for a wait, its seconds.
    pub fn to_stored(self) -> (&'static str, Option<i64>) {
        match self {
            Defence::Tell => ("tell", None),
            Defence::Wait { seconds } => ("wait", Some(seconds)),
            Defence::AtOnce => ("at-once", None),
        }
    }

    /// From the ledger; `None` for what this version does not know (a newer one wrote it).
    pub fn from_stored(mode: &str, seconds: Option<i64>) -> Option<Defence> {
        match (mode, seconds) {
            ("tell", _) => Some(Defence::Tell),
            ("wait", Some(seconds)) => Defence::wait(TimeDelta::seconds(seconds)).ok(),
            ("at-once", _) => Some(Defence::AtOnce),
            _ => None,
        }
    }
}

/// One choice of an account's defence as the window offers it, in core's words.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DefenceChoice {
    pub defence: Defence,
    pub title: String,
    pub explained: String,
    pub chosen: bool,
}

impl DefenceChoice {
    /// The three choices, `current` among them (a wait keeps its length).
    pub fn all(current: Defence) -> Vec<DefenceChoice> {
        let wait = match current {
            Defence::Wait { .. } => current,
            _ => Defence::default(),
        };
        [Defence::Tell, wait, Defence::AtOnce]
            .into_iter()
            .map(|defence| DefenceChoice {
                defence,
                title: defence.title(),
                explained: defence.explained(),
                chosen: defence == current,
            })
            .collect()
    }
}

/// "2 minutes", "30 seconds", "1 hour".
pub fn span(span: TimeDelta) -> String {
    let seconds = span.num_seconds().max(0);
    let (n, unit) = if seconds % 3600 == 0 && seconds >= 3600 {
        (seconds / 3600, "hour")
    } else if seconds % 60 == 0 && seconds >= 60 {
        (seconds / 60, "minute")
    } else {
        (seconds, "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// A sign-out Session Warden decided on and has not yet carried out (or could not yet:
/// the server was down), as every process on the home sees it in the ledger.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PendingSignOut {
    pub account: crate::accounts::account::AccountId,
    pub session: SessionId,
    /// The device, with where it is: "Chrome on Windows (São Paulo, BR)".
    pub device: String,
    pub rule: RuleId,
    /// The alert's reason, in its rule's words.
    pub reason: String,
    pub since: DateTime<Utc>,
    /// When the wait runs out; the watcher polls the account then (not only at its
    /// interval) and signs it out.
    pub due: DateTime<Utc>,
    /// Why the last attempt failed, when one did (the server is down): tried again at each
    /// poll.
    pub last_error: Option<String>,
}

impl PendingSignOut {
    /// "Chrome on Windows (São Paulo, BR)", as the countdown names the session.
    pub fn device_words(session: &Session) -> String {
        match session.location_shown.as_deref().or(session.ip.as_deref()) {
            Some(place) => format!("{} ({place})", session.device.label),
            None => session.device.label.clone(),
        }
    }
}

/// What an actionable alert comes to, on one account.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Told only: the person chose "Tell me", or the alert is not one to act on.
    Tell,
    /// Told, with why Session Warden does not sign it out on its own.
    Ask(String),
    /// Signed out when `due` comes (now, for "at once").
    SignOut { due: DateTime<Utc> },
}

/// What to do about `finding` on `session`, with the account's `defence` on `dialect`, when
/// Session Warden already signed out `recent` sessions of the account in the last hour (and
/// has as many more pending).
pub fn decide(
    defence: Defence,
    dialect: DialectKind,
    session: &Session,
    finding: &Finding,
    recent: usize,
    now: DateTime<Utc>,
) -> Decision {
    if !finding.act || finding.severity != Severity::Alert || session.is_ours() {
        return Decision::Tell;
    }
    let Some(delay) = defence.delay() else {
        return Decision::Tell;
    };
    if let Some(warning) = dialect.revoke_warning() {
        return Decision::Ask(format!(
            "Session Warden does not sign it out on its own on {}: {warning}",
            dialect.title()
        ));
    }
    if recent >= MAX_PER_HOUR {
        return Decision::Ask(format!(
            "Session Warden has signed out {recent} sessions of this account on its own in \
             the last hour; past {MAX_PER_HOUR}, it asks you"
        ));
    }
    Decision::SignOut { due: now + delay }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::account::AccountId;

    fn session(ours: bool) -> Session {
        let mut session = Session::bare(
            &AccountId::from_stored("acc".into()),
            "s1",
            "Chrome on Windows",
        );
        session.is_current = ours;
        session
    }

    fn alert(act: bool) -> Finding {
        Finding {
            rule: RuleId::ImpossibleTravel,
            severity: Severity::Alert,
            reason: "Impossible travel".into(),
            repeat: false,
            act,
        }
    }

    fn now() -> DateTime<Utc> {
        "2026-12-06T12:00:00Z".parse().expect("a time")
    }

    #[test]
    fn only_an_alert_to_act_on_is_signed_out_and_never_our_own_session() {
        let wait = Defence::default();
        let hectoday = DialectKind::Hectoday;
        assert_eq!(
            decide(wait, hectoday, &session(false), &alert(true), 0, now()),
            Decision::SignOut {
                due: now() + DEFAULT_WAIT
            }
        );
        assert_eq!(
            decide(wait, hectoday, &session(false), &alert(false), 0, now()),
            Decision::Tell,
            "an alert its rule does not act on"
        );
        let mut warning = alert(true);
        warning.severity = Severity::Warning;
        assert_eq!(
            decide(wait, hectoday, &session(false), &warning, 0, now()),
            Decision::Tell,
            "a warning"
        );
        assert_eq!(
            decide(wait, hectoday, &session(true), &alert(true), 0, now()),
            Decision::Tell,
            "our own session"
        );
        assert_eq!(
            decide(
                Defence::Tell,
                hectoday,
                &session(false),
                &alert(true),
                0,
                now()
            ),
            Decision::Tell
        );
        assert_eq!(
            decide(
                Defence::AtOnce,
                hectoday,
                &session(false),
                &alert(true),
                0,
                now()
            ),
            Decision::SignOut { due: now() }
        );
    }

    #[test]
    fn past_the_hour_s_limit_and_on_matrix_it_asks_and_says_why() {
        let at_once = Defence::AtOnce;
        let limited = decide(
            at_once,
            DialectKind::Hectoday,
            &session(false),
            &alert(true),
            MAX_PER_HOUR,
            now(),
        );
        assert!(
            matches!(&limited, Decision::Ask(why) if why.contains("in the last hour")),
            "{limited:?}"
        );
        let just_under = decide(
            at_once,
            DialectKind::Hectoday,
            &session(false),
            &alert(true),
            MAX_PER_HOUR - 1,
            now(),
        );
        assert!(matches!(just_under, Decision::SignOut { .. }));
        let matrix = decide(
            at_once,
            DialectKind::Matrix,
            &session(false),
            &alert(true),
            0,
            now(),
        );
        assert!(
            matches!(&matrix, Decision::Ask(why) if why.contains("encryption")),
            "{matrix:?}"
        );
    }

    #[test]
    fn the_setting_keeps_in_the_ledger_s_words_and_refuses_a_silly_wait() {
        for defence in [Defence::Tell, Defence::default(), Defence::AtOnce] {
            let (mode, seconds) = defence.to_stored();
            assert_eq!(Defence::from_stored(mode, seconds), Some(defence));
        }
        assert_eq!(Defence::from_stored("retaliate", None), None);
        assert!(Defence::wait(TimeDelta::seconds(1)).is_err());
        assert!(Defence::wait(TimeDelta::days(2)).is_err());
        assert_eq!(Defence::default().title(), "Sign out after 2 minutes");
        assert_eq!(span(TimeDelta::seconds(30)), "30 seconds");
        assert_eq!(span(TimeDelta::hours(1)), "1 hour");
    }
}
