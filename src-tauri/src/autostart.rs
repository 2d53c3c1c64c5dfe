//! "Start at login". On Linux this is an entry in `$XDG_CONFIG_HOME/autostart` (the XDG
//! Autostart spec), written here: the autostart plugin's Linux backend ignores
//! `XDG_CONFIG_HOME` and fails when `~/.config` does not exist yet. Elsewhere the plugin
//! does the platform's own thing (a launch agent, the registry).

use tauri::AppHandle;
use warden_core::{Error, Result};

pub fn set(app: &AppHandle, enabled: bool) -> Result<()> {
    imp::set(app, enabled)
        .map_err(|e| Error::InvalidInput(format!("cannot change start at login: {e}")))
}

#[cfg(target_os = "linux")]
mod imp {
    use std::path::PathBuf;

    use tauri::AppHandle;

    const ENTRY: &str = "session-warden.desktop";

    fn entry() -> std::io::Result<PathBuf> {
        let dirs = directories::BaseDirs::new()
            .ok_or_else(|| std::io::Error::other("no home directory"))?;
        Ok(dirs.config_dir().join("autostart").join(ENTRY))
    }

    pub fn set(_: &AppHandle, enabled: bool) -> std::io::Result<()> {
        let path = entry()?;
        if !enabled {
            return match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            };
        }
        let exe = std::env::current_exe()?;
        // Desktop-entry quoting: the path in double quotes, with `"`, `` ` ``, `$`, `\` escaped.
        let mut quoted = String::from("\"");
        for c in exe.display().to_string().chars() {
            if matches!(c, '"' | '`' | '$' | '\\') {
                quoted.push('\\');
            }
            quoted.push(c);
        }
        quoted.push('"');
        let text = format!(
            "[Desktop Entry]\nType=Application\nName=Session Warden\n\
             Comment=Watches the login sessions of your accounts\nExec={quoted}\n\
             Icon=security-high\nTerminal=false\nX-GNOME-Autostart-enabled=true\n"
        );
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, text)
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use tauri::AppHandle;
    use tauri_plugin_autostart::ManagerExt;

    pub fn set(app: &AppHandle, enabled: bool) -> Result<(), tauri_plugin_autostart::Error> {
        let autolaunch = app.autolaunch();
        if enabled {
            autolaunch.enable()
        } else {
            autolaunch.disable()
        }
    }
}
