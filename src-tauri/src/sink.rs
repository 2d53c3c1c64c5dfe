//! The engine's events, seen by the desktop: the window and the tray follow them, the user
//! is notified of what matters.

use std::sync::Arc;

use tauri::{AppHandle, Manager};
use warden_core::{Accounts, Event, EventSink};

use crate::notify::Notifications;
use crate::state::Views;

pub struct AppSink {
    app: AppHandle,
    accounts: Arc<Accounts>,
    views: Arc<Views>,
}

impl AppSink {
    pub fn new(app: AppHandle, accounts: Arc<Accounts>, views: Arc<Views>) -> Self {
        Self {
            app,
            accounts,
            views,
        }
    }

    /// Notifications: what is news, told (the window and the tray follow `Views`).
    fn notify(&self, event: &Event) {
        let Ok(account) = self.accounts.get(event.account()) else {
            return; // removed while the poll was in flight
        };
        if let Some(notifications) = self.app.try_state::<Notifications>() {
            notifications.event(event, &account);
        }
    }
}

impl EventSink for AppSink {
    fn emit(&self, event: Event) {
        // Core decides what the person sees; the window and the tray follow its changes
        // (`Views::subscribe`, in `lib.rs`), the notifications are told here.
        self.views.apply(&event, &self.accounts);
        self.notify(&event);
    }
}
