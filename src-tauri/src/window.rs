//! The main window, created on first open and destroyed on close, so a tray that runs all
//! day does not keep a web process alive.

use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};

pub const MAIN: &str = "main";

pub fn open<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    if let Some(window) = app.get_webview_window(MAIN) {
        window.unminimize()?;
        window.show()?;
        return window.set_focus();
    }
    WebviewWindowBuilder::new(app, MAIN, WebviewUrl::App("index.html".into()))
        .title("Session Warden")
        .inner_size(1040.0, 640.0)
        .min_inner_size(640.0, 400.0)
        .build()?;
    Ok(())
}
