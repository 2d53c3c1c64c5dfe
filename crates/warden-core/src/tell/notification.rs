//! The notification policy: what interrupts the person, when, and with which actions, decided
//! here once for every front end (the app's notifications, `warden watch --notify`). A new or
//! suspicious sign-in is told with [Revoke] and [It's me] (a click opens the window on it);
//! a burst of them within `COALESCE` is one notification; notifications off, a pause or quiet
//! hours hold back everything but alerts; outages and a sign-in about to end are told as
//! `Outages` decides. The policy publishes finished `Notification`s on a channel, as `Views`
//! publishes views: a front end shows what it receives and carries out its actions, nothing
//! more (the showing is `warden-notify`'s, so core does no desktop I/O).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::accounts::account::AccountId;
use crate::event::Event;
use crate::rules::{Severity, worst};
use crate::session::SessionId;
use crate::tell::message::{Message, Outages};

/// Sign-ins this close together are one notification.
pub const COALESCE: Duration = Duration::from_millis(1500);

/// From `from` (inclusive) to `to` (exclusive), local time; may wrap past midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct QuietHours {
    pub from: u8,
    pub to: u8,
}

impl QuietHours {
    pub fn contains(&self, hour: u8) -> bool {
        if self.from <= self.to {
            (self.from..self.to).contains(&hour)
        } else {
            hour >= self.from || hour < self.to
        }
    }
}

/// The person's say in what interrupts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotificationSettings {
    pub notifications: bool,
    pub quiet_hours: Option<QuietHours>,
    /// Tell of every new sign-in, a known device's from a known network too.
    pub every_sign_in: bool,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        Self {
            notifications: true,
            quiet_hours: None,
            every_sign_in: false,
        }
    }
}

/// Whether a notification of `severity` may interrupt at local `hour`: an alert always does;
/// anything else not when notifications are off, paused, or in quiet hours.
pub fn may_interrupt(
    severity: Option<Severity>,
    settings: &NotificationSettings,
    paused: bool,
    hour: u8,
) -> bool {
    if severity == Some(Severity::Alert) {
        return true;
    }
    settings.notifications && !paused && !settings.quiet_hours.is_some_and(|q| q.contains(hour))
}

/// What the person can do from a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationAction {
    /// A click on its body: the window, on the account (and session).
    Open,
    Revoke,
    Trust,
    /// A pending sign-out of the defence's, now rather than when its wait runs out.
    SignOutNow,
}

impl NotificationAction {
    pub const ALL: [NotificationAction; 4] = [
        NotificationAction::Open,
        NotificationAction::Revoke,
        NotificationAction::Trust,
        NotificationAction::SignOutNow,
    ];

    /// The key a notification server sends back, and the button's words.
    pub fn key_and_label(self) -> (&'static str, &'static str) {
        match self {
            NotificationAction::Open => ("default", "Open"),
            NotificationAction::Revoke => ("revoke", "Revoke"),
            NotificationAction::Trust => ("trust", "It's me"),
            NotificationAction::SignOutNow => ("sign-out-now", "Sign out now"),
        }
    }
}

/// One notification to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub summary: String,
    pub body: String,
    pub severity: Option<Severity>,
    pub account: AccountId,
    /// The session it is about, with its device's name (for "Signed out …").
    pub session: Option<(SessionId, String)>,
    pub actions: Vec<NotificationAction>,
    /// Notifications with one tag replace each other on the desktop: a pending sign-out's
    /// countdown becomes "Signed out …" (or why it could not be), not a second notification.
    pub tag: Option<String>,
}

struct Pending {
    account: AccountId,
    session: SessionId,
    device: String,
    message: Message,
    severity: Option<Severity>,
    /// Revoke straight from the notification, unless signing out costs more than the
    /// session (a Matrix device's encryption keys): then the window, which says so first.
    revoke_offered: bool,
}

/// The policy's memory: sign-ins waiting to be told together, the pause, the outages told;
/// and where its finished notifications go.
pub struct NotificationPolicy {
    pending: Mutex<Vec<Pending>>,
    paused_until: Mutex<Option<DateTime<Utc>>>,
    outages: Outages,
    published: mpsc::UnboundedSender<Notification>,
    /// Where a burst waits for the sign-ins that follow its first.
    runtime: tokio::runtime::Handle,
}

/// What an event asks of the policy: nothing, a notification now, or a wait of `COALESCE` before
/// `NotificationPolicy::take_burst` (a sign-in, which others may follow).
#[derive(Debug, PartialEq, Eq)]
enum Told {
    Nothing,
    Now(Notification),
    AfterBurst,
}

impl NotificationPolicy {
    /// A policy, and the notifications it will publish: each to be shown as it arrives. Bursts
    /// wait on `runtime`.
    pub fn new(
        runtime: tokio::runtime::Handle,
    ) -> (
        Arc<NotificationPolicy>,
        mpsc::UnboundedReceiver<Notification>,
    ) {
        let (published, notifications) = mpsc::unbounded_channel();
        let policy = NotificationPolicy {
            pending: Mutex::default(),
            paused_until: Mutex::default(),
            outages: Outages::default(),
            published,
            runtime,
        };
        (Arc::new(policy), notifications)
    }

    /// Takes `event` (on `account`) into account at `now` and the local `hour`: what it asks
    /// to tell is published at once, or `COALESCE` later with the sign-ins that followed it.
    pub fn tell(
        self: &Arc<Self>,
        event: &Event,
        account: &crate::Account,
        settings: &NotificationSettings,
        now: DateTime<Utc>,
        hour: u8,
    ) {
        match self.on_event(event, account, settings, now, hour) {
            Told::Nothing => {}
            Told::Now(notification) => self.publish(notification),
            Told::AfterBurst => {
                let policy = Arc::clone(self);
                self.runtime.spawn(async move {
                    tokio::time::sleep(COALESCE).await;
                    if let Some(notification) = policy.take_burst() {
                        policy.publish(notification);
                    }
                });
            }
        }
    }

    fn publish(&self, notification: Notification) {
        // Nobody listening: the front end is shutting down.
        let _ = self.published.send(notification);
    }

    pub fn pause_until(&self, until: DateTime<Utc>) {
        *self.paused_until.lock().unwrap_or_else(|p| p.into_inner()) = Some(until);
    }

    pub fn resume(&self) {
        *self.paused_until.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Until when notifications are paused (alerts excepted), if they are at `now`.
    pub fn paused_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut paused = self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        if paused.is_some_and(|until| until <= now) {
            *paused = None;
        }
        *paused
    }

    /// What `event` (on `account`) asks of the policy, at `now` and the local `hour`.
    fn on_event(
        &self,
        event: &Event,
        account: &crate::Account,
        settings: &NotificationSettings,
        now: DateTime<Utc>,
        hour: u8,
    ) -> Told {
        let paused = self.paused_until(now).is_some();
        match event {
            Event::SignOutPending { .. }
            | Event::DefenceSignedOut { .. }
            | Event::DefenceFailed { .. }
            | Event::DefenceAsks { .. } => self.defence(event, account, now),
            Event::SessionAppeared { session, findings }
            | Event::Suspicious { session, findings } => {
                let label = account.label.as_str();
                let Some(message) = Message::for_event_with(event, label, settings.every_sign_in)
                else {
                    return Told::Nothing;
                };
                let severity = worst(findings);
                if !may_interrupt(severity, settings, paused, hour) {
                    tracing::info!(account = %session.account, "notification held back (paused or quiet hours)");
                    return Told::Nothing;
                }
                let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
                pending.push(Pending {
                    account: session.account.clone(),
                    session: session.id.clone(),
                    device: session.device.label.clone(),
                    message,
                    severity,
                    revoke_offered: account.dialect.revoke_warning().is_none(),
                });
                if pending.len() == 1 {
                    Told::AfterBurst
                } else {
                    Told::Nothing
                }
            }
            _ => match self.outages.message(event, &account.label, now) {
                Some(message) if may_interrupt(Some(Severity::Warning), settings, paused, hour) => {
                    Told::Now(Notification {
                        summary: message.summary,
                        body: message.body,
                        severity: Some(Severity::Warning),
                        account: event.account().clone(),
                        session: None,
                        actions: vec![NotificationAction::Open],
                        tag: None,
                    })
                }
                Some(_) => {
                    tracing::info!(account = %event.account(), "notification held back (paused or quiet hours)");
                    Told::Nothing
                }
                None => Told::Nothing,
            },
        }
    }

    /// The sign-ins gathered since the first of a burst, as one notification: the one sign-in with
    /// Revoke and It's me, or a summary of several that opens the window.
    fn take_burst(&self) -> Option<Notification> {
        let batch: Vec<Pending> =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        match batch.as_slice() {
            [] => None,
            [one] => Some(Notification {
                summary: one.message.summary.clone(),
                body: one.message.body.clone(),
                severity: one.severity,
                account: one.account.clone(),
                session: Some((one.session.clone(), one.device.clone())),
                actions: if one.revoke_offered {
                    vec![
                        NotificationAction::Open,
                        NotificationAction::Revoke,
                        NotificationAction::Trust,
                    ]
                } else {
                    vec![NotificationAction::Open, NotificationAction::Trust]
                },
                tag: None,
            }),
            many => {
                let severity = many.iter().filter_map(|p| p.severity).max();
                let suspicious = many
                    .iter()
                    .filter(|p| p.severity >= Some(Severity::Warning))
                    .count();
                let summary = if suspicious > 0 {
                    format!("{} sign-ins, {suspicious} suspicious", many.len())
                } else {
                    format!("{} new sign-ins", many.len())
                };
                let mut body: Vec<String> = many
                    .iter()
                    .take(5)
                    .map(|p| format!("• {}", p.message.body.lines().next().unwrap_or_default()))
                    .collect();
                if many.len() > 5 {
                    body.push(format!("…and {} more", many.len() - 5));
                }
                Some(Notification {
                    summary,
                    body: body.join("\n"),
                    severity,
                    account: many[0].account.clone(),
                    session: None,
                    actions: vec![NotificationAction::Open],
                    tag: None,
                })
            }
        }
    }

    /// What the defence tells, in place of the alert's own notification for that session
    /// (dropped from the burst it waits in: one notification per intrusion, not two). An
    /// alert always interrupts, paused or not.
    fn defence(&self, event: &Event, account: &crate::Account, now: DateTime<Utc>) -> Told {
        let (session, device) = match event {
            Event::SignOutPending { session, .. }
            | Event::DefenceSignedOut { session, .. }
            | Event::DefenceAsks { session, .. } => {
                (session.id.clone(), session.device.label.clone())
            }
            Event::DefenceFailed { pending, .. } => {
                (pending.session.clone(), pending.device.clone())
            }
            _ => return Told::Nothing,
        };
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|p| p.session != session);
        let Some(message) = Message::for_defence(event, &account.label, now) else {
            return Told::Nothing;
        };
        let revoke_offered = account.dialect.revoke_warning().is_none();
        let actions = match event {
            Event::SignOutPending { .. } => vec![
                NotificationAction::Open,
                NotificationAction::Trust,
                NotificationAction::SignOutNow,
            ],
            Event::DefenceSignedOut { .. } => vec![NotificationAction::Open],
            Event::DefenceAsks { .. } if revoke_offered => vec![
                NotificationAction::Open,
                NotificationAction::Revoke,
                NotificationAction::Trust,
            ],
            _ => vec![NotificationAction::Open, NotificationAction::Trust],
        };
        Told::Now(Notification {
            summary: message.summary,
            body: message.body,
            severity: Some(Severity::Alert),
            account: account.id.clone(),
            tag: Some(format!("sign-out:{}/{}", account.id, session)),
            session: Some((session, device)),
            actions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(dialect: crate::DialectKind) -> crate::Account {
        crate::Account {
            id: crate::AccountId::from_stored("a".into()),
            label: "Chat".into(),
            base_url: "https://example.com/".parse().expect("a URL"),
            dialect,
            login: "me".into(),
            added_at: Utc::now(),
        }
    }

    /// A new sign-in on `account` from `ip`.
    fn new_sign_in(account: &crate::Account, ip: &str) -> Event {
        let mut session = crate::Session::bare(&account.id, ip, "Element on Android");
        session.ip = Some(ip.into());
        Event::SessionAppeared {
            session,
            findings: Vec::new(),
        }
    }

    const EVERY_SIGN_IN: NotificationSettings = NotificationSettings {
        notifications: true,
        quiet_hours: None,
        every_sign_in: true,
    };

    /// A new sign-in on an account of `dialect`: the notification the policy gives for it.
    fn notification_on(dialect: crate::DialectKind) -> Option<Notification> {
        let account = account(dialect);
        let event = new_sign_in(&account, "198.51.100.1");
        let (policy, _published) = policy();
        let told = policy.on_event(&event, &account, &EVERY_SIGN_IN, Utc::now(), 12);
        assert!(matches!(told, Told::AfterBurst), "{dialect}");
        policy.take_burst()
    }

    /// Three sign-ins within `COALESCE` are published as one notification, once.
    #[tokio::test]
    async fn a_burst_is_published_as_one_notification() {
        let account = account(crate::DialectKind::Hectoday);
        let (policy, mut published) = policy();
        for ip in ["198.51.100.1", "198.51.100.2", "198.51.100.3"] {
            let event = new_sign_in(&account, ip);
            policy.tell(&event, &account, &EVERY_SIGN_IN, Utc::now(), 12);
        }
        let notification = tokio::time::timeout(COALESCE * 10, published.recv())
            .await
            .expect("published within the wait")
            .expect("a notification");
        assert_eq!(notification.summary, "3 new sign-ins");
        assert_eq!(notification.actions, vec![NotificationAction::Open]);
        assert!(published.try_recv().is_err(), "told once");
    }

    fn policy() -> (
        Arc<NotificationPolicy>,
        mpsc::UnboundedReceiver<Notification>,
    ) {
        // A runtime of its own, kept for the test's whole run.
        static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
        let runtime = RUNTIME.get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_time()
                .build()
                .expect("a runtime")
        });
        NotificationPolicy::new(runtime.handle().clone())
    }

    #[test]
    fn a_sign_in_offers_revoke_unless_signing_out_costs_more_than_the_session() {
        let hectoday = notification_on(crate::DialectKind::Hectoday).expect("a notification");
        assert!(hectoday.actions.contains(&NotificationAction::Revoke));
        // A Matrix device's encryption keys go with it: the window says so first.
        let matrix = notification_on(crate::DialectKind::Matrix).expect("a notification");
        assert_eq!(
            matrix.actions,
            vec![NotificationAction::Open, NotificationAction::Trust]
        );
    }

    #[test]
    fn pause_quiet_hours_and_the_switch_hold_back_all_but_alerts() {
        let on = NotificationSettings::default();
        let night = NotificationSettings {
            quiet_hours: Some(QuietHours { from: 22, to: 7 }),
            ..NotificationSettings::default()
        };
        let off = NotificationSettings {
            notifications: false,
            ..NotificationSettings::default()
        };
        let cases = [
            // (severity, settings, paused, hour, interrupts)
            (Some(Severity::Warning), &on, false, 12, true),
            (None, &on, false, 12, true),
            (Some(Severity::Warning), &on, true, 12, false),
            (Some(Severity::Alert), &on, true, 12, true),
            (Some(Severity::Warning), &night, false, 23, false),
            (Some(Severity::Warning), &night, false, 12, true),
            (Some(Severity::Alert), &night, false, 3, true),
            (Some(Severity::Warning), &off, false, 12, false),
            (Some(Severity::Alert), &off, false, 12, true),
        ];
        for (severity, settings, paused, hour, expected) in cases {
            assert_eq!(
                may_interrupt(severity, settings, paused, hour),
                expected,
                "{severity:?} paused={paused} at {hour}h with {settings:?}"
            );
        }
    }

    #[test]
    fn quiet_hours_may_wrap_past_midnight() {
        let night = QuietHours { from: 22, to: 7 };
        assert!(night.contains(23) && night.contains(0) && night.contains(6));
        assert!(!night.contains(7) && !night.contains(12));
        let lunch = QuietHours { from: 12, to: 14 };
        assert!(lunch.contains(12) && !lunch.contains(14));
    }

    #[test]
    fn a_pause_ends_by_itself() {
        let (policy, _published) = policy();
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        policy.pause_until(now + chrono::TimeDelta::hours(1));
        assert!(policy.paused_until(now).is_some());
        assert_eq!(policy.paused_until(now + chrono::TimeDelta::hours(2)), None);
    }
}
