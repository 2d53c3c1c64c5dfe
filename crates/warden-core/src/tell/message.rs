//! What a person is told about an event, in a notification or a status line (shown on the
//! desktop by `warden-notify`).

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};

use crate::accounts::account::AccountId;
use crate::event::Event;
use crate::rules::{Finding, Severity};
use crate::session::{Session, Snapshot};

/// A notification's text. No secret ever goes in here: only labels, devices and addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub summary: String,
    pub body: String,
}

impl Message {
    /// The message for an event worth interrupting the person for, if it is one: a sign-in
    /// or a change that raised a warning or an alert not told before. A plain new sign-in
    /// (a known device from a known network) is history only.
    pub fn for_event(event: &Event, account_label: &str) -> Option<Message> {
        Self::for_event_with(event, account_label, false)
    }

    /// [`Message::for_event`], telling also of every plain new sign-in when `every_sign_in`
    /// (a setting, off by default).
    pub fn for_event_with(
        event: &Event,
        account_label: &str,
        every_sign_in: bool,
    ) -> Option<Message> {
        let news = |findings: &[Finding]| {
            findings
                .iter()
                .any(|f| f.severity >= Severity::Warning && !f.repeat)
        };
        match event {
            Event::SessionAppeared { session, findings } => {
                let summary = if news(findings) {
                    format!("Suspicious sign-in on {account_label}")
                } else if every_sign_in && findings.iter().all(|f| f.severity < Severity::Warning) {
                    format!("New sign-in on {account_label}")
                } else {
                    return None;
                };
                Some(Message {
                    summary,
                    body: body(session, findings),
                })
            }
            Event::Suspicious { session, findings } if news(findings) => Some(Message {
                summary: format!("Suspicious activity on {account_label}"),
                body: body(session, findings),
            }),
            _ => None,
        }
    }

    /// What the defence tells (`watch::defence`), at `now`: the countdown of a pending
    /// sign-out, a sign-out done, one that failed, or why it asks instead. `None` for any
    /// other event, and for a sign-out due at once (told when it is done).
    pub fn for_defence(event: &Event, label: &str, now: DateTime<Utc>) -> Option<Message> {
        use crate::watch::defence::span;
        match event {
            Event::SignOutPending { pending, .. } if pending.due > now => Some(Message {
                // The wait as chosen: told the moment it starts.
                summary: format!(
                    "Signing out {} in {}",
                    pending.device,
                    span(pending.due - pending.since)
                ),
                body: format!(
                    "{}.\nOn {label}. If it is you, say \"It's me\" and nothing is signed out.",
                    pending.reason.trim_end_matches('.')
                ),
            }),
            Event::DefenceSignedOut { pending, note, .. } => Some(Message {
                summary: format!("Signed out {}", pending.device),
                body: format!(
                    "{}.\nOn {label}: Session Warden signed it out and saw it gone.{}",
                    pending.reason.trim_end_matches('.'),
                    note.as_deref()
                        .map(|n| format!("\n{}.", sentence(n.trim_end_matches('.'))))
                        .unwrap_or_default()
                ),
            }),
            Event::DefenceFailed { pending, error } => Some(Message {
                summary: format!("Could not sign out {}", pending.device),
                body: format!(
                    "{}.\nOn {label}. Session Warden tries again at each check; you can also \
                     end it in the service's own settings.",
                    sentence(error.trim_end_matches('.'))
                ),
            }),
            Event::DefenceAsks {
                session,
                finding,
                why,
            } => Some(Message {
                summary: format!("Suspicious activity on {label}"),
                body: format!(
                    "{}\n{}.",
                    body(session, std::slice::from_ref(finding)),
                    sentence(why.trim_end_matches('.'))
                ),
            }),
            _ => None,
        }
    }
}

/// What trusting a device ("It's me") does, as every front end says it: a trusted device is
/// not flagged as new or unusual, but impossible travel and a copied cookie still are.
pub const TRUSTED: &str = "nothing is flagged for it unless its session is used from elsewhere";

/// How long an account may go unchecked before the person is told: a server's blip is not
/// news, but an hour of not watching is.
pub const OUTAGE_NOTICE_AFTER: TimeDelta = TimeDelta::minutes(10);

/// Tells the person, once per outage, that an account is not being watched — at once when
/// it needs them to sign in again (nothing else will fix it), after `OUTAGE_NOTICE_AFTER`
/// when its server cannot be checked — and that it is watched again, when they were told.
#[derive(Debug, Default)]
pub struct Outages {
    /// Per account: the outage told of (its start), and whether as one needing a sign-in.
    told: Mutex<HashMap<AccountId, (DateTime<Utc>, bool)>>,
}

impl Outages {
    pub fn message(&self, event: &Event, label: &str, now: DateTime<Utc>) -> Option<Message> {
        let mut told = self.told.lock().unwrap_or_else(|p| p.into_inner());
        match event {
            Event::Stale {
                account,
                since,
                error,
                needs_sign_in,
            } => {
                let before = told.get(account).filter(|(start, _)| start == since);
                let due = match before {
                    // Told already; again only when it came to need the person.
                    Some((_, sign_in)) => *needs_sign_in && !sign_in,
                    None => *needs_sign_in || now - *since >= OUTAGE_NOTICE_AFTER,
                };
                if !due {
                    return None;
                }
                told.insert(account.clone(), (*since, *needs_sign_in));
                Some(if *needs_sign_in {
                    Message {
                        summary: format!("Sign in again to keep watching {label}"),
                        body: {
                            // The error may already say where (a code is needed); a
                            // rejected password does not.
                            let said = sentence(error.trim_end_matches('.'));
                            let hint = if error.contains("warden accounts login") {
                                String::new()
                            } else {
                                format!("\n{}.", crate::error::sign_in_hint(label))
                            };
                            format!(
                                "{said}.{hint}\nUntil then, new sign-ins on {label} go unnoticed."
                            )
                        },
                    }
                } else {
                    Message {
                        summary: format!("Cannot check {label}"),
                        body: format!(
                            "Not since {}: {}.\nSession Warden keeps trying, and will \
                             report what happened meanwhile.",
                            since.with_timezone(&chrono::Local).format("%H:%M"),
                            error.trim_end_matches('.')
                        ),
                    }
                })
            }
            Event::IdleSignedOut { after, ended, .. } => Some(Message {
                summary: crate::watch::idle::summary(ended.len(), *after),
                body: format!(
                    "On {label}: {}.",
                    ended
                        .iter()
                        .map(|s| match &s.ip {
                            Some(ip) => format!("{} ({ip})", s.device.label),
                            None => s.device.label.clone(),
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
            Event::SignInEnding { at, .. } => Some(Message {
                summary: format!("{label} will need a new code"),
                body: format!(
                    "Session Warden's sign-in on {label} ends {} (SecureAuth signs a device in \
                     for 7 days). {} before then, and watching goes on without a gap.",
                    at.with_timezone(&chrono::Local)
                        .format("on %a %-d %b at %H:%M"),
                    crate::error::sign_in_hint(label)
                ),
            }),
            // Any answer ends it, including the first of a watch restarted after the
            // person signed in again (which starts afresh, with no `Recovered`).
            Event::Recovered { account }
            | Event::Listed {
                snapshot: Snapshot { account, .. },
            } => told.remove(account).map(|_| Message {
                summary: format!("{label} is watched again"),
                body: "Session Warden can check its sessions again.".into(),
            }),
            _ => None,
        }
    }
}

/// The engine's messages are written to follow a colon; alone, they start a sentence.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// "Firefox on Linux, 203.0.113.7 (São Paulo, BR)", then why it looks wrong, then what to do.
fn body(session: &Session, findings: &[Finding]) -> String {
    let mut text = session.device.label.clone();
    if let Some(ip) = &session.ip {
        text.push_str(&format!(", {ip}"));
    }
    if let Some(place) = session.whereabouts() {
        text.push_str(&format!(" ({place})"));
    }
    text.push('.');
    for finding in findings.iter().filter(|f| f.severity >= Severity::Warning) {
        text.push_str(&format!("\n• {}", finding.reason));
    }
    text.push_str("\nNot you? Revoke it in Session Warden.");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stale(since: DateTime<Utc>, needs_sign_in: bool) -> Event {
        Event::Stale {
            account: AccountId::from_stored("a".into()),
            since,
            error: "cannot reach https://example.com/: connection refused".into(),
            needs_sign_in,
        }
    }

    #[test]
    fn an_outage_is_told_once_when_it_lasts_and_its_end_when_it_was_told() {
        let outages = Outages::default();
        let start = DateTime::from_timestamp(1_800_000_000, 0).expect("a time");
        let at = |minutes| start + TimeDelta::minutes(minutes);
        let told = |event: &Event, minutes| outages.message(event, "Work", at(minutes));
        let blip = stale(start, false);
        assert_eq!(told(&blip, 1), None, "a short outage is not news");
        let notice = told(&blip, 10).expect("ten minutes unchecked is");
        assert_eq!(notice.summary, "Cannot check Work");
        assert!(
            notice.body.contains("connection refused"),
            "{}",
            notice.body
        );
        assert_eq!(told(&blip, 11), None, "once per outage");
        let recovered = Event::Recovered {
            account: AccountId::from_stored("a".into()),
        };
        assert_eq!(
            told(&recovered, 12).map(|n| n.summary),
            Some("Work is watched again".into())
        );
        assert_eq!(told(&recovered, 13), None, "only when the outage was told");
        // Next outage: short, and never told, so its end is not news either.
        assert_eq!(told(&stale(at(20), false), 21), None);
        assert_eq!(told(&recovered, 22), None);
    }

    #[test]
    fn an_account_that_needs_the_person_says_so_at_once() {
        let outages = Outages::default();
        let start = DateTime::from_timestamp(1_800_000_000, 0).expect("a time");
        let told = |event: &Event| outages.message(event, "Phone", start);
        let notice = told(&stale(start, true)).expect("told at once");
        assert_eq!(notice.summary, "Sign in again to keep watching Phone");
        assert!(notice.body.starts_with("Cannot reach"), "{}", notice.body);
        assert!(
            notice.body.contains("Sign in again in the window")
                && notice.body.contains("`warden accounts login \"Phone\"`"),
            "says where to sign in again, in both front ends: {}",
            notice.body
        );
        assert_eq!(told(&stale(start, true)), None, "once");
        // An unreachable server told of, which then asks for the person: told again.
        let outages = Outages::default();
        let later = start + OUTAGE_NOTICE_AFTER;
        assert!(
            outages
                .message(&stale(start, false), "Phone", later)
                .is_some()
        );
        assert!(
            outages
                .message(&stale(start, true), "Phone", later)
                .is_some()
        );
    }
}
