//! Notifications on the desktop: what core's policy publishes (`warden_core::tell::notification`),
//! shown by `warden-notify` with their actions ([Revoke], [It's me], a click that opens the
//! window on the session), each action done as the window would do it.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tauri::{AppHandle, Manager};
use warden_core::tell::notification::{Notification, NotificationAction, NotificationPolicy};
use warden_core::{AccountId, Event, SessionId};

use crate::actions;
use crate::state::AppState;
use crate::window::Focus;

pub struct Notifications {
    app: AppHandle,
    policy: Arc<NotificationPolicy>,
}

impl Notifications {
    /// The policy, and the task that shows what it publishes.
    pub fn new(app: AppHandle) -> Self {
        let runtime = tauri::async_runtime::handle().inner().clone();
        let (policy, mut published) = NotificationPolicy::new(runtime);
        let shown = app.clone();
        tauri::async_runtime::spawn(async move {
            while let Some(notification) = published.recv().await {
                show(&shown, notification);
            }
        });
        Self { app, policy }
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

    /// Hands `event` (on `account`) to the policy, which publishes what it tells when due.
    pub fn event(&self, event: &Event, account: &warden_core::Account) {
        let settings = self.app.state::<AppState>().settings.get().notifications();
        let hour = chrono::Timelike::hour(&chrono::Local::now()) as u8;
        self.policy
            .tell(event, account, &settings, self.now(), hour);
    }

    /// Runs an action started outside the window (tray, notification): its outcome is told
    /// in a notification, since there may be no window to show it.
    pub fn spawn_reported<F>(what: String, action: F)
    where
        F: std::future::Future<Output = warden_core::Result<String>> + Send + 'static,
    {
        tauri::async_runtime::spawn(async move {
            let (summary, body) = match action.await {
                Ok(done) => (done, String::new()),
                Err(e) => (format!("Could not {what}"), e.to_string()),
            };
            tauri::async_runtime::spawn_blocking(move || warden_notify::tell(&summary, &body));
        });
    }
}

/// Shows one published notification; the action the person picks is carried out here.
fn show(app: &AppHandle, notification: Notification) {
    let app = app.clone();
    let account = notification.account.clone();
    let (session, device) = notification.session.clone().unzip();
    warden_notify::show(&notification, move |action| match (action, session) {
        (NotificationAction::Revoke, Some(session)) => {
            let app2 = app.clone();
            let device = device.unwrap_or_default();
            Notifications::spawn_reported("revoke the session".into(), async move {
                actions::revoke(&app2, &account, &session).await?;
                Ok(format!("Signed out {device}"))
            });
        }
        (NotificationAction::Trust, Some(session)) => {
            let app2 = app.clone();
            let device = device.unwrap_or_default();
            Notifications::spawn_reported("trust the device".into(), async move {
                actions::trust(&app2, &account, &session).await?;
                Ok(format!("{device} is trusted now"))
            });
        }
        (NotificationAction::SignOutNow, Some(session)) => {
            if let Err(e) = actions::sign_out_now(&app, &account, &session) {
                tracing::warn!(%account, "cannot sign out now: {e}");
            }
        }
        (NotificationAction::Open, session) => open_on(&app, account, session),
        _ => {}
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
