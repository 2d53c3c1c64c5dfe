//! `session-warden`: the desktop shell. A thin layer over warden-core: it builds the
//! engine, turns its events into window updates and notifications, and maps clicks back
//! to engine calls. Everything it does is reachable from core without a desktop.
//!
//! Its modules import downwards only:
//! `lib` → `commands` → `tray` → `sink` → `notify` → `actions` → `state` → `settings`,
//! `prompt`, `autostart`; `window` (opening the window, handing it views) and `demo` (the
//! `--demo` mode: the bundled mock, a home of its own) stand alone, and `args` (the command
//! line) is plain clap, shared with the manual page (warden-tasks). Core decides
//! what the person sees (`warden_core::tell::views`) and what interrupts them
//! (`warden_core::tell::notification`); here, `sink` feeds both with the watcher's events, `lib`'s
//! `follow_views` hands each changed view to the window and rebuilds the tray, and `notify`
//! shows the alerts and carries out their actions.
#![forbid(unsafe_code)]

mod actions;
mod args;
mod autostart;
#[cfg(test)]
mod bindings;
mod commands;
mod demo;
mod notify;
mod prompt;
mod settings;
mod sink;
mod state;
mod tray;
mod window;

use std::sync::Arc;
use std::time::Duration;

use tauri::{Manager, RunEvent};
use warden_core::watch::locks::{Holder, WatchLock};
use warden_core::watch::{WatchSettings, Watcher};
use warden_core::{Accounts, CredentialStore, GeoIp, Home, KeyringStore, MemoryStore, SystemClock};

pub use crate::args::Args;

use crate::notify::Notifications;
use crate::prompt::WindowPrompt;
use crate::settings::SettingsStore;
use crate::sink::AppSink;
use crate::state::{AppState, Views};

/// The window and the tray follow what core decides the person sees: each changed account's
/// view goes to the window, and the tray is rebuilt from all of them.
fn follow_views(app: tauri::AppHandle) {
    let mut changes = app.state::<AppState>().views.subscribe();
    tauri::async_runtime::spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            let state = app.state::<AppState>();
            let changed = match changes.recv().await {
                Ok(id) => state.accounts.get(&id).into_iter().collect(),
                // Fell behind: every account's latest view says it all.
                Err(RecvError::Lagged(_)) => state.accounts.list().unwrap_or_default(),
                Err(RecvError::Closed) => return,
            };
            for account in changed {
                window::show(&app, &state.views.view(account));
            }
            tray::rebuild(&app);
        }
    });
}

/// Accounts another process added (`warden accounts add`) are watched and shown within
/// seconds; those it removed leave the window and the tray; so do its cancelled sign-outs.
fn follow_ledger(app: tauri::AppHandle) {
    tauri::async_runtime::spawn(async move {
        // Not at once: the accounts of the start are being watched this moment.
        let every = warden_core::watch::FOLLOW_LEDGER_EVERY;
        let mut every = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        loop {
            every.tick().await;
            let state = app.state::<AppState>();
            let changed = match state.watcher.follow_ledger() {
                Ok(changed) => changed,
                Err(e) => {
                    tracing::warn!("cannot read the accounts: {e}");
                    continue;
                }
            };
            // A sign-out another process cancelled (`warden defence --cancel`) leaves the
            // window and the tray; the views publish only what changed.
            state.views.follow_every_sign_out(&state.accounts);
            if changed.is_empty() {
                continue;
            }
            for account in changed.added {
                window::show(&app, &state.views.view(account));
            }
            for account in changed.removed {
                state.views.forget(&account.id);
                window::removed(&app, &account.id);
            }
            tray::rebuild(&app);
        }
    });
}

/// While another process holds the home's `WatchLock`: each account says who watches it,
/// and the lock is asked for again every few seconds; once held, this process polls.
fn stand_by(app: tauri::AppHandle, holder: Holder, accounts: &[warden_core::Account]) {
    tracing::info!("{holder} is watching this home; standing by");
    let state = app.state::<AppState>();
    let now = state.accounts.clock().now();
    for account in accounts {
        state.views.set_stale(
            &account.id,
            Some(state::Stale {
                since: now,
                error: format!(
                    "{holder} is watching this home and keeps the history; Session Warden \
                     takes over when it stops"
                ),
                needs_sign_in: false,
            }),
        );
    }
    tray::rebuild(&app);
    tauri::async_runtime::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(3)).await;
            let state = app.state::<AppState>();
            let now = state.accounts.clock().now();
            match WatchLock::try_acquire(&state.home, "Session Warden", now) {
                Ok(Ok(lock)) => {
                    *state.watch_lock.lock().unwrap_or_else(|p| p.into_inner()) = Some(lock);
                    state.watcher.set_standby(false);
                    tracing::info!("the other process stopped; watching from here");
                    return;
                }
                Ok(Err(_)) => {}
                Err(e) => tracing::warn!("cannot ask for the watch lock: {e}"),
            }
        }
    });
}

/// How often the demo polls its mock: things happen within seconds.
const DEMO_POLL: Duration = Duration::from_secs(5);

pub fn run(args: Args) {
    tracing_subscriber::fmt()
        .with_env_filter(warden_core::log_filter(
            "session_warden_lib=info,warden_core=info",
        ))
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never into a log file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let demo_mode = args.demo;
    // A demo is asked for to be seen: its window opens at once.
    let open_at_start = args.open || demo_mode;

    let builder = tauri::Builder::default();
    #[cfg(not(target_os = "linux"))]
    let builder = builder.plugin(tauri_plugin_autostart::init(
        tauri_plugin_autostart::MacosLauncher::LaunchAgent,
        None,
    ));
    // A second launch (from the menu, or autostart racing a manual start) opens the running
    // one's window instead of starting another watcher. A demo is not that app: it runs
    // beside it, and several demos beside each other, each with its own home.
    let builder = if demo_mode {
        builder
    } else {
        builder.plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            if let Err(e) = window::open(app, None) {
                tracing::error!("cannot open the window: {e}");
            }
        }))
    };
    let app = builder
        .invoke_handler(tauri::generate_handler![
            commands::accounts,
            commands::detect_dialect,
            commands::dialect_caveat,
            commands::transport_warning,
            commands::sign_in_form,
            commands::words,
            commands::idle_policy,
            commands::idle_preview,
            commands::set_idle_policy,
            commands::defence,
            commands::set_defence,
            commands::default_defence,
            commands::set_default_defence,
            commands::sign_out_now,
            commands::add_account,
            commands::submit_code,
            commands::cancel_code,
            commands::sign_in_again,
            commands::test_account,
            commands::remove_account,
            commands::revoke_session,
            commands::sign_out_others,
            commands::trust_session,
            commands::set_label,
            commands::history,
            commands::export_history,
            commands::settings,
            commands::save_settings,
            commands::demo,
        ])
        .setup(move |app| {
            let mut demo = if demo_mode {
                Some(demo::Demo::start(&Home::from_env()?)?)
            } else {
                None
            };
            let home = match &demo {
                Some(demo) => demo.home().clone(),
                None => Home::from_env()?,
            };
            // The demo's password is made up and lives in memory only: a demo never writes
            // to the person's keyring.
            let secrets: Arc<dyn CredentialStore> = match demo {
                Some(_) => Arc::new(MemoryStore::default()),
                None => Arc::new(KeyringStore::new()),
            };
            let settings = SettingsStore::open(&home);
            let ip_database = settings.get().ip_database.map(std::path::PathBuf::from);
            let accounts = Arc::new(
                Accounts::open(&home, secrets, Arc::new(SystemClock))?
                    .with_geoip(Arc::new(GeoIp::discover(ip_database.as_deref()))),
            );
            // The person started the demo, so its accounts are signed in to as theirs (Home
            // Assistant is never signed in to by Session Warden alone); none asks a code.
            let person: Arc<dyn warden_core::CodePrompt> = Arc::new(warden_core::PasswordOnly);
            for (account, password) in demo.iter().flat_map(demo::Demo::accounts) {
                let label = account.label.clone().unwrap_or_default();
                tauri::async_runtime::block_on(accounts.add_with(account, password, &person))
                    .map_err(|e| format!("cannot add the demo account {label}: {e}"))?;
            }
            let views = Arc::new(Views::default());
            let sink = AppSink::new(
                app.handle().clone(),
                Arc::clone(&accounts),
                Arc::clone(&views),
            );
            let interval = settings::poll_override().unwrap_or(if demo.is_some() {
                DEMO_POLL
            } else {
                Duration::from_secs(settings.get().poll_seconds.into())
            });
            let watcher = Watcher::new(
                Arc::clone(&accounts),
                Arc::new(sink),
                WatchSettings {
                    interval,
                    ..WatchSettings::default()
                },
                tauri::async_runtime::handle().inner().clone(),
            );
            let accounts_now = accounts.list()?;
            // One process polls a home: while `warden watch` (or another app) does, this one
            // stands by, says so on each account, and takes over when it stops.
            let lock = match demo.as_mut().and_then(demo::Demo::take_lock) {
                Some(lock) => Ok(lock),
                None => WatchLock::try_acquire(&home, "Session Warden", accounts.clock().now())?,
            };
            let holder = lock.as_ref().err().cloned();
            watcher.set_standby(holder.is_some());
            app.manage(demo::DemoMode::new(demo));
            app.manage(tray::Shown::default());
            app.manage(Notifications::new(app.handle().clone()));
            app.manage(AppState {
                home: home.clone(),
                accounts,
                watcher,
                views,
                prompt: Arc::new(WindowPrompt::new(app.handle().clone())),
                settings,
                watch_lock: std::sync::Mutex::new(lock.ok()),
            });
            tray::create(app.handle())?;
            follow_views(app.handle().clone());
            follow_ledger(app.handle().clone());
            // Watching starts once the state it reports into exists.
            let state = app.state::<AppState>();
            for account in &accounts_now {
                state.watcher.watch(account.clone());
            }
            if let Some(holder) = holder {
                stand_by(app.handle().clone(), holder, &accounts_now);
            }
            if open_at_start {
                window::open(app.handle(), None)?;
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
    app.run(|app, event| match event {
        // Closing the window destroys it (an idle tray stays light) but does not quit:
        // only the tray's Quit does, through `exit(0)`, which carries a code.
        RunEvent::ExitRequested {
            code: None, api, ..
        } => api.prevent_exit(),
        // A demo leaves nothing behind: its mock stops and its home goes.
        RunEvent::Exit => {
            if let Some(demo) = app.try_state::<demo::DemoMode>() {
                demo.stop();
            }
        }
        _ => {}
    });
}
