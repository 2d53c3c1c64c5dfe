//! The main window, created on first open and destroyed on close, so a tray that runs all
//! day does not keep a web process alive.

use tauri::{AppHandle, Emitter, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};

use serde::Serialize;
use warden_core::tell::views::AccountView;
use warden_core::{AccountId, SessionId};

use crate::demo::DemoMode;

pub const MAIN: &str = "main";
/// The window listens for this: one account's new view.
pub const ACCOUNT_CHANGED: &str = "warden://account-changed";
/// The window listens for this: an account another process removed (its id).
pub const ACCOUNT_REMOVED: &str = "warden://account-removed";
/// An open window listens for this to show the session a notification was about.
pub const FOCUS_SESSION: &str = "warden://focus-session";

/// What the window is opened on: an account, and a session in it (a notification's).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[derive(ts_rs::TS)]
pub struct Focus {
    pub account: AccountId,
    pub session: Option<SessionId>,
}

/// Hands the window (if open) an account's new view; it shows what core sends.
pub fn show<R: Runtime>(app: &AppHandle<R>, view: &AccountView) {
    if let Err(e) = app.emit(ACCOUNT_CHANGED, view) {
        tracing::warn!("could not update the window: {e}");
    }
}

/// Tells the window an account is gone (another process removed it).
pub fn removed<R: Runtime>(app: &AppHandle<R>, account: &warden_core::AccountId) {
    if let Err(e) = app.emit(ACCOUNT_REMOVED, account) {
        tracing::warn!("could not update the window: {e}");
    }
}

/// Opens (or raises) the window; `focus` selects an account and session in it. A new
/// window reads it from its URL, since it cannot hear an event before its script runs.
pub fn open<R: Runtime>(app: &AppHandle<R>, focus: Option<&Focus>) -> tauri::Result<()> {
    if let Some(window) = app.get_webview_window(MAIN) {
        window.unminimize()?;
        window.show()?;
        if let Some(focus) = focus {
            window.emit(FOCUS_SESSION, focus)?;
        }
        return window.set_focus();
    }
    let mut page = String::from("index.html");
    if let Some(focus) = focus {
        page.push_str(&format!("#account={}", focus.account));
        if let Some(session) = &focus.session {
            page.push_str(&format!("&session={session}"));
        }
    }
    let window = WebviewWindowBuilder::new(app, MAIN, WebviewUrl::App(page.into()))
        .title(title(app))
        .inner_size(1200.0, 700.0)
        .min_inner_size(720.0, 440.0)
        .build()?;
    lighten(&window);
    Ok(())
}

fn title<R: Runtime>(app: &AppHandle<R>) -> &'static str {
    match app.try_state::<DemoMode>() {
        Some(mode) if mode.info().is_some() => "Session Warden — Demo",
        _ => "Session Warden",
    }
}

/// One small page needs no GPU layers: rendering without them keeps the window's web process
/// ~80 MiB smaller (`cargo xtask bench footprint`: PSS 230 instead of 309 MiB). WebKit's
/// cache models and the `OnDemand` policy were measured too and changed nothing.
#[cfg(target_os = "linux")]
fn lighten<R: Runtime>(window: &tauri::WebviewWindow<R>) {
    let done = window.with_webview(|webview| {
        use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
        let view = webview.inner();
        if let Some(settings) = WebViewExt::settings(&view) {
            settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        }
    });
    if let Err(e) = done {
        tracing::warn!("cannot tune the window's web view: {e}");
    }
}

#[cfg(not(target_os = "linux"))]
fn lighten<R: Runtime>(_: &tauri::WebviewWindow<R>) {}
