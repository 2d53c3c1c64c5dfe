//! Notifications on the desktop: the alerts core's policy decides on (`warden_core::alert`),
//! shown with their actions ([Revoke], [It's me], a click that opens the window on the
//! session), each action done as the window would do it.

use chrono::{DateTime, Utc};
use notify_rust::{Hint, Notification, Timeout, Urgency};
use tauri::{AppHandle, Manager};
use warden_core::alert::{Alert, AlertAction, AlertPolicy, COALESCE, Told};
use warden_core::rules::Severity;
use warden_core::{AccountId, Event, SessionId};

use crate::actions;
use crate::state::AppState;
use crate::window::Focus;

pub struct Notifications {
    app: AppHandle,
    policy: AlertPolicy,
}

impl Notifications {
    pub fn new(app: AppHandle) -> Self {
        Self {
            app,
            policy: AlertPolicy::default(),
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.app.state::<AppState>().accounts.clock().now()
    }

    pub fn pause_for(&self, duration: chrono::Duration) {
        self.policy.pause_until(self.now() + duration);
    }

    pub fn resume(&self) {
        self.policy.resume();
    }

    pub fn paused_until(&self) -> Option<DateTime<Utc>> {
        self.policy.paused_until(self.now())
    }

    /// What `event` (on `account`) tells the person, as the policy decides: at once, after a
    /// burst of sign-ins has had `COALESCE` to gather, or nothing.
    pub fn event(&self, event: &Event, account: &warden_core::Account) {
        let settings = self.app.state::<AppState>().settings.get().alerts();
        let hour = chrono::Timelike::hour(&chrono::Local::now()) as u8;
        match self
            .policy
            .on_event(event, account, &settings, self.now(), hour)
        {
            Told::Nothing => {}
            Told::Now(alert) => self.show(alert),
            Told::AfterBurst => {
                let app = self.app.clone();
                std::thread::spawn(move || {
                    std::thread::sleep(COALESCE);
                    let notifications = app.state::<Notifications>();
                    if let Some(alert) = notifications.policy.take_burst() {
                        notifications.show(alert);
                    }
                });
            }
        }
    }

    fn show(&self, alert: Alert) {
        let mut n = base(&alert.summary, &alert.body, alert.severity);
        for action in &alert.actions {
            let (key, label) = action.key_and_label();
            n.action(key, label);
        }
        let app = self.app.clone();
        let account = alert.account;
        let (session, device) = alert.session.unzip();
        show_and_wait(n, move |key| {
            let action = [AlertAction::Open, AlertAction::Revoke, AlertAction::Trust]
                .into_iter()
                .find(|a| a.key_and_label().0 == key);
            match (action, session) {
                (Some(AlertAction::Revoke), Some(session)) => {
                    let app2 = app.clone();
                    let device = device.unwrap_or_default();
                    Notifications::spawn_reported(&app, "revoke the session".into(), async move {
                        actions::revoke(&app2, &account, &session).await?;
                        Ok(format!("Signed out {device}"))
                    });
                }
                (Some(AlertAction::Trust), Some(session)) => {
                    let app2 = app.clone();
                    let device = device.unwrap_or_default();
                    Notifications::spawn_reported(&app, "trust the device".into(), async move {
                        actions::trust(&app2, &account, &session).await?;
                        Ok(format!("{device} is trusted now"))
                    });
                }
                (Some(AlertAction::Open), session) => open_on(&app, account, session),
                _ => {}
            }
        });
    }

    /// Runs an action started outside the window (tray, notification): its outcome is told
    /// in a notification, since there may be no window to show it.
    pub fn spawn_reported<F>(app: &AppHandle, what: String, action: F)
    where
        F: std::future::Future<Output = warden_core::Result<String>> + Send + 'static,
    {
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            let (summary, body) = match action.await {
                Ok(done) => (done, String::new()),
                Err(e) => (format!("Could not {what}"), e.to_string()),
            };
            app.state::<Notifications>().tell(&summary, &body);
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
