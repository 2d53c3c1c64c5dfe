//! The engine's events, seen by the desktop: the window and the tray follow them, the user
//! is notified of what matters.

use std::sync::Arc;

use tauri::{AppHandle, Manager};
use warden_core::{Accounts, Event, EventSink, Notice};

use crate::state::{AppState, OwnSession, Stale, Views};

/// The event the window listens to: one account's new view.
pub const ACCOUNT_CHANGED: &str = "warden://account-changed";

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

    fn publish(&self, event: &Event) {
        let Ok(account) = self.accounts.find(event.account().as_str()) else {
            return; // removed while the poll was in flight
        };
        if let Some(state) = self.app.try_state::<AppState>() {
            if let (
                Some(notice),
                Event::SessionAppeared { session, findings }
                | Event::Suspicious { session, findings },
            ) = (
                Notice::for_event_with(event, &account.label, state.settings.get().every_sign_in),
                event,
            ) {
                state.notifications.session(session, findings, notice);
            }
            // Outages decides which events (a stale or a recovered account) are news.
            state
                .notifications
                .outage(event, &account.label, self.accounts.clock().now());
        }
        crate::actions::show(&self.app, account);
    }
}

impl EventSink for AppSink {
    fn emit(&self, event: Event) {
        match &event {
            Event::Listed { snapshot } => {
                let own = match self.accounts.find(snapshot.account.as_str()) {
                    Ok(account) => OwnSession {
                        signed_in_until: self.accounts.signed_in_until_cached(&account),
                        caveat: self.accounts.caveat(&account),
                    },
                    Err(_) => OwnSession::default(),
                };
                self.views.set_snapshot(snapshot.clone(), own);
            }
            Event::Stale {
                account,
                since,
                error,
                needs_sign_in,
            } => self.views.set_stale(
                account,
                Some(Stale {
                    since: *since,
                    error: error.clone(),
                    needs_sign_in: *needs_sign_in,
                }),
            ),
            Event::Recovered { account } => self.views.set_stale(account, None),
            Event::SessionAppeared { session, findings }
            | Event::Suspicious { session, findings } => {
                self.views.flag(&session.account, &session.id, findings);
            }
            Event::SessionEnded { session, .. } => {
                self.views.unflag(&session.account, &session.id);
            }
            // Told by `Outages` in `publish`; the account's view shows the end all along.
            Event::SignInEnding { .. } => {}
        }
        self.publish(&event);
    }
}
