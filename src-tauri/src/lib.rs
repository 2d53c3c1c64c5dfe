//! `session-warden`: the desktop shell. A thin layer over warden-core: it builds the
//! engine, turns its events into window updates and notifications, and maps clicks back
//! to engine calls. Everything it does is reachable from core without a desktop.
#![forbid(unsafe_code)]

mod commands;
mod sink;
mod state;
mod tray;
mod window;

use std::sync::Arc;
use std::time::Duration;

use tauri::{Manager, RunEvent};
use warden_core::watch::{WatchSettings, Watcher};
use warden_core::{Accounts, DesktopNotifier, Home, KeyringStore, SystemClock};

use crate::sink::AppSink;
use crate::state::{AppState, Views};

/// Seconds between polls; tests and the demo shorten it.
const POLL_ENV: &str = "WARDEN_POLL_SECONDS";

fn poll_interval() -> Duration {
    std::env::var(POLL_ENV)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map_or(WatchSettings::default().interval, Duration::from_secs_f64)
}

pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WARDEN_LOG")
                .unwrap_or_else(|_| "session_warden_lib=info,warden_core=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let open_at_start = std::env::args().any(|a| a == "--open");

    let app = tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![
            commands::accounts,
            commands::add_account,
            commands::revoke_session,
        ])
        .setup(move |app| {
            let home = Home::from_env()?;
            let accounts = Arc::new(Accounts::open(
                &home,
                Arc::new(KeyringStore::new()),
                Arc::new(SystemClock),
            )?);
            let views = Arc::new(Views::default());
            let sink = AppSink::new(
                app.handle().clone(),
                Arc::clone(&accounts),
                Arc::clone(&views),
                Arc::new(DesktopNotifier),
            );
            let watcher = Watcher::new(
                Arc::clone(&accounts),
                Arc::new(sink),
                WatchSettings {
                    interval: poll_interval(),
                    ..WatchSettings::default()
                },
                tauri::async_runtime::handle().inner().clone(),
            );
            for account in accounts.list()? {
                watcher.watch(account);
            }
            app.manage(AppState {
                accounts,
                watcher,
                views,
            });
            tray::create(app.handle())?;
            if open_at_start {
                window::open(app.handle())?;
            }
            tracing::info!(home = %home.root().display(), "Session Warden is running in the tray");
            Ok(())
        })
        .build(tauri::generate_context!());

    let app = match app {
        Ok(app) => app,
        Err(e) => {
            eprintln!("session-warden: cannot start: {e}");
            std::process::exit(1);
        }
    };
    app.run(|_, event| {
        // Closing the window destroys it (an idle tray stays light) but does not quit:
        // only the tray's Quit does, through `exit(0)`, which carries a code.
        if let RunEvent::ExitRequested {
            code: None, api, ..
        } = event
        {
            api.prevent_exit();
        }
    });
}
