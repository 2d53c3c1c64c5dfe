//! What the shell keeps between events: the engine, the watcher, and the latest view of
//! each account, so a window (or the tray menu) built later shows everything at once.

use std::sync::Arc;

use warden_core::watch::Watcher;
use warden_core::{Accounts, Home};

use crate::prompt::WindowPrompt;
use crate::settings::SettingsStore;

pub struct AppState {
    pub home: Home,
    pub accounts: Arc<Accounts>,
    pub watcher: Watcher,
    pub views: Arc<Views>,
    pub prompt: Arc<WindowPrompt>,
    pub settings: SettingsStore,
    /// The home's `WatchLock`, once this process holds it (until then another process
    /// polls, and the watcher is on standby).
    pub watch_lock: std::sync::Mutex<Option<warden_core::watch::locks::WatchLock>>,
}

// What the person sees of each account is core's (`warden_core::tell::views`); the shell renders it.
pub use warden_core::tell::views::{AccountView, Level, Stale, Views};
