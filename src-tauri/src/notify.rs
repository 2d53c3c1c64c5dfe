//! Notifications with actions: [Revoke] and [It's me] on a new or suspicious session, a
//! click on the body opens the window on it. A burst (a script signing in ten times) is
//! one notification, not ten. Pause and quiet hours hold back all but alerts.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use notify_rust::{Hint, Notification, Timeout, Urgency};
use serde::Serialize;
use tauri::{AppHandle, Manager};
use warden_core::rules::{Finding, Severity, worst};
use warden_core::{AccountId, Event, Notice, Outages, Session, SessionId};

use crate::actions;
use crate::settings::AppSettings;
use crate::state::AppState;

/// Events this close together are one notification.
const COALESCE: Duration = Duration::from_millis(1500);

/// Action keys, as the notification server sends them back.
const REVOKE: &str = "revoke";
const TRUST: &str = "trust";
const OPEN: &str = "default";

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[derive(ts_rs::TS)]
pub struct Focus {
    pub account: AccountId,
    pub session: Option<SessionId>,
}

struct Pending {
    account: AccountId,
    session: SessionId,
    device: String,
    notice: Notice,
    severity: Option<Severity>,
}

pub struct Notifications {
    app: AppHandle,
    pending: Mutex<Vec<Pending>>,
    paused_until: Mutex<Option<DateTime<Utc>>>,
    outages: Outages,
}

impl Notifications {
    pub fn new(app: AppHandle) -> Self {
        Self {
            app,
            pending: Mutex::new(Vec::new()),
            paused_until: Mutex::new(None),
            outages: Outages::default(),
        }
    }

    pub fn pause_for(&self, duration: chrono::Duration) {
        *self.paused_until.lock().unwrap_or_else(|p| p.into_inner()) = Some(Utc::now() + duration);
    }

    pub fn resume(&self) {
        *self.paused_until.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    pub fn paused_until(&self) -> Option<DateTime<Utc>> {
        let mut paused = self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        if paused.is_some_and(|until| until <= Utc::now()) {
            *paused = None;
        }
        *paused
    }

    /// Whether a notification of this severity may interrupt now.
    fn allowed(&self, severity: Option<Severity>) -> bool {
        let settings = self.app.state::<AppState>().settings.get();
        let hour = chrono::Timelike::hour(&chrono::Local::now()) as u8;
        may_interrupt(severity, &settings, self.paused_until().is_some(), hour)
    }

    /// A new or suspicious session: shown after a short wait, with any that follow it.
    pub fn session(&self, session: &Session, findings: &[Finding], notice: Notice) {
        let severity = worst(findings);
        if !self.allowed(severity) {
            tracing::info!(account = %session.account, "notification held back (paused or quiet hours)");
            return;
        }
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending.push(Pending {
            account: session.account.clone(),
            session: session.id.clone(),
            device: session.device.label.clone(),
            notice,
            severity,
        });
        if pending.len() == 1 {
            let app = self.app.clone();
            std::thread::spawn(move || {
                std::thread::sleep(COALESCE);
                app.state::<AppState>().notifications.flush();
            });
        }
    }

    fn flush(&self) {
        let batch: Vec<Pending> =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        match batch.as_slice() {
            [] => {}
            [one] => self.show_one(one),
            many => self.show_many(many),
        }
    }

    fn show_one(&self, p: &Pending) {
        let mut n = base(&p.notice.summary, &p.notice.body, p.severity);
        n.action(OPEN, "Open")
            .action(REVOKE, "Revoke")
            .action(TRUST, "It's me");
        let app = self.app.clone();
        let (account, session, device) = (p.account.clone(), p.session.clone(), p.device.clone());
        show_and_wait(n, move |action| match action {
            REVOKE => {
                let app2 = app.clone();
                actions::spawn_reported(&app, "revoke the session".into(), async move {
                    actions::revoke(&app2, &account, &session).await?;
                    Ok(format!("Signed out {device}"))
                });
            }
            TRUST => {
                let app2 = app.clone();
                actions::spawn_reported(&app, "trust the device".into(), async move {
                    actions::trust(&app2, &account, &session).await?;
                    Ok(format!("{device} is trusted now"))
                });
            }
            OPEN => open_on(&app, account, Some(session)),
            _ => {}
        });
    }

    fn show_many(&self, batch: &[Pending]) {
        let severity = batch.iter().filter_map(|p| p.severity).max();
        let suspicious = batch
            .iter()
            .filter(|p| p.severity >= Some(Severity::Warning))
            .count();
        let summary = if suspicious > 0 {
            format!("{} sign-ins, {suspicious} suspicious", batch.len())
        } else {
            format!("{} new sign-ins", batch.len())
        };
        let mut body: Vec<String> = batch
            .iter()
            .take(5)
            .map(|p| format!("• {}", p.notice.body.lines().next().unwrap_or_default()))
            .collect();
        if batch.len() > 5 {
            body.push(format!("…and {} more", batch.len() - 5));
        }
        let mut n = base(&summary, &body.join("\n"), severity);
        n.action(OPEN, "Review");
        let app = self.app.clone();
        let account = batch[0].account.clone();
        show_and_wait(n, move |action| {
            if action == OPEN {
                open_on(&app, account, None);
            }
        });
    }

    /// An account that cannot be watched (or can again): told once per outage, by
    /// `Outages`; a click opens the window on the account, where it can be signed in again.
    /// `now`: the engine's clock, never the wall clock read here.
    pub fn outage(&self, event: &Event, label: &str, now: chrono::DateTime<Utc>) {
        let Some(notice) = self.outages.notice(event, label, now) else {
            return;
        };
        if !self.allowed(Some(Severity::Warning)) {
            tracing::info!(account = %event.account(), "notification held back (paused or quiet hours)");
            return;
        }
        let mut n = base(&notice.summary, &notice.body, Some(Severity::Warning));
        n.action(OPEN, "Open");
        let app = self.app.clone();
        let account = event.account().clone();
        show_and_wait(n, move |action| {
            if action == OPEN {
                open_on(&app, account, None);
            }
        });
    }

    /// The outcome of an action taken from outside the window.
    pub fn tell(&self, summary: &str, body: &str) {
        let shown = base(summary, body, None)
            .timeout(Timeout::Milliseconds(5000))
            .show();
        if let Err(e) = shown {
            tracing::warn!("could not show a notification: {e}");
        }
    }
}

/// Whether a notification of `severity` may interrupt at local `hour`: the highest severity
/// always does; anything else not when notifications are off, paused, or in quiet hours.
fn may_interrupt(
    severity: Option<Severity>,
    settings: &AppSettings,
    paused: bool,
    hour: u8,
) -> bool {
    if severity == Some(Severity::Alert) {
        return true;
    }
    settings.notifications && !paused && !settings.quiet_hours.is_some_and(|q| q.contains(hour))
}

fn base(summary: &str, body: &str, severity: Option<Severity>) -> Notification {
    let mut n = Notification::new();
    n.appname("Session Warden")
        .summary(summary)
        .body(&warden_core::notice::desktop_body(body))
        .icon("security-high")
        .hint(Hint::Category("network.security".into()))
        .urgency(match severity {
            Some(Severity::Alert) => Urgency::Critical,
            Some(Severity::Warning) => Urgency::Normal,
            _ => Urgency::Low,
        });
    n
}

/// Shows the notification and waits, on its own thread, for the action the person picks
/// (or its closing). A desktop without actions simply never calls back.
fn show_and_wait(n: Notification, on_action: impl FnOnce(&str) + Send + 'static) {
    std::thread::spawn(move || match n.show() {
        Ok(handle) => {
            let mut on_action = Some(on_action);
            handle.wait_for_action(|action| {
                if let Some(f) = on_action.take() {
                    f(action);
                }
            });
        }
        Err(e) => tracing::warn!("could not show a notification: {e}"),
    });
}

fn open_on(app: &AppHandle, account: AccountId, session: Option<SessionId>) {
    let app = app.clone();
    let _ = app.clone().run_on_main_thread(move || {
        if let Err(e) = crate::window::open(&app, Some(&Focus { account, session })) {
            tracing::error!("cannot open the window: {e}");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::QuietHours;

    #[test]
    fn pause_quiet_hours_and_the_switch_hold_back_all_but_alerts() {
        let on = AppSettings::default();
        let night = AppSettings {
            quiet_hours: Some(QuietHours { from: 22, to: 7 }),
            ..AppSettings::default()
        };
        let off = AppSettings {
            notifications: false,
            ..AppSettings::default()
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
}
