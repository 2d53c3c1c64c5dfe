//! What the shell keeps between events: the engine, the watcher, and the latest view of
//! each account, so a window opened later shows everything at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use serde::Serialize;
use warden_core::watch::Watcher;
use warden_core::{Account, AccountId, Accounts, Snapshot};

pub struct AppState {
    pub accounts: Arc<Accounts>,
    pub watcher: Watcher,
    pub views: Arc<Views>,
}

/// One account as the window shows it. Carries no secret: it crosses IPC.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    pub account: Account,
    /// `None` until the first poll answers.
    pub snapshot: Option<Snapshot>,
    pub stale: Option<Stale>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stale {
    pub since: DateTime<Utc>,
    pub error: String,
}

#[derive(Default)]
struct Latest {
    snapshot: Option<Snapshot>,
    stale: Option<Stale>,
}

#[derive(Default)]
pub struct Views {
    latest: Mutex<HashMap<AccountId, Latest>>,
}

impl Views {
    fn latest(&self) -> MutexGuard<'_, HashMap<AccountId, Latest>> {
        self.latest.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set_snapshot(&self, snapshot: Snapshot) {
        let mut latest = self.latest();
        let entry = latest.entry(snapshot.account.clone()).or_default();
        entry.snapshot = Some(snapshot);
        entry.stale = None;
    }

    pub fn set_stale(&self, account: &AccountId, stale: Option<Stale>) {
        self.latest().entry(account.clone()).or_default().stale = stale;
    }

    pub fn view(&self, account: Account) -> AccountView {
        let latest = self.latest();
        let entry = latest.get(&account.id);
        AccountView {
            snapshot: entry.and_then(|e| e.snapshot.clone()),
            stale: entry.and_then(|e| e.stale.clone()),
            account,
        }
    }
}
