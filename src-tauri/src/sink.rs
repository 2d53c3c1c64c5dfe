//! The engine's events, seen by the desktop: the window follows them, the user is
//! notified of what matters.

use std::sync::Arc;

use tauri::{AppHandle, Emitter};
use warden_core::{Accounts, Event, EventSink, Notice, Notifier};

use crate::state::{Stale, Views};

/// The event the window listens to: one account's new view.
pub const ACCOUNT_CHANGED: &str = "warden://account-changed";

pub struct AppSink {
    app: AppHandle,
    accounts: Arc<Accounts>,
    views: Arc<Views>,
    notifier: Arc<dyn Notifier>,
}

impl AppSink {
    pub fn new(
        app: AppHandle,
        accounts: Arc<Accounts>,
        views: Arc<Views>,
        notifier: Arc<dyn Notifier>,
    ) -> Self {
        Self {
            app,
            accounts,
            views,
            notifier,
        }
    }

    fn publish(&self, event: &Event) {
        let Ok(account) = self.accounts.find(event.account().as_str()) else {
            return; // removed while the poll was in flight
        };
        if let Some(notice) = Notice::for_event(event, &account.label) {
            let notifier = Arc::clone(&self.notifier);
            // Showing a notification is a D-Bus round trip: keep it off the watcher's task.
            tauri::async_runtime::spawn_blocking(move || notifier.notify(&notice));
        }
        let view = self.views.view(account);
        if let Err(e) = self.app.emit(ACCOUNT_CHANGED, &view) {
            tracing::warn!("could not update the window: {e}");
        }
    }
}

impl EventSink for AppSink {
    fn emit(&self, event: Event) {
        match &event {
            Event::Refreshed { snapshot } => self.views.set_snapshot(snapshot.clone()),
            Event::Stale {
                account,
                since,
                error,
            } => self.views.set_stale(
                account,
                Some(Stale {
                    since: *since,
                    error: error.clone(),
                }),
            ),
            Event::Recovered { account } => self.views.set_stale(account, None),
            Event::SessionAppeared { .. }
            | Event::Suspicious { .. }
            | Event::SessionEnded { .. } => {}
        }
        self.publish(&event);
    }
}
