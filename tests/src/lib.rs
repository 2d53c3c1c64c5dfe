//! Harness for the cross-process tests: a private desktop (Xvfb, D-Bus, an unlocked
//! gnome-keyring, a notification daemon) started per test, the mock's control API, waiting
//! on conditions, and WebDriver through tauri-driver. The demo and the footprint bench
//! (`warden-tasks`) reuse the desktop when no display is available.
#![forbid(unsafe_code)]

pub mod a11y;
pub mod cli;
pub mod demo;
pub mod desktop;
pub mod driver;
pub mod hostile;
mod hostile_apis;
pub mod mock;
pub mod real;
pub mod tray;
pub mod ui;
pub mod wait;

use std::path::{Path, PathBuf};

pub use desktop::Desktop;
pub use wait::wait_until;

/// A binary of the workspace: `$<env>` when set (by `cargo xtask test`), else the debug build.
pub fn workspace_binary(env: &str, name: &str) -> anyhow::Result<PathBuf> {
    let path = match std::env::var_os(env) {
        Some(path) => PathBuf::from(path),
        None => std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(
                || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
                PathBuf::from,
            )
            .join("debug")
            .join(name),
    };
    anyhow::ensure!(
        path.exists(),
        "{} is missing: run the cross-process tests with `cargo xtask test`",
        path.display()
    );
    Ok(path)
}

/// Every file under `dir` whose bytes contain `needle`: where a secret must never be.
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if std::fs::read(&path)
                .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
            {
                found.push(path);
            }
        }
    }
    found
}

/// Everything under `dir` (itself included) that another local user could open: a
/// directory not 0700, a file not 0600. Session Warden's home must give none.
pub fn open_to_others(dir: &Path) -> Vec<(PathBuf, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut open = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o777;
        let wanted = if meta.is_dir() { 0o700 } else { 0o600 };
        if mode != wanted {
            open.push((path.clone(), mode));
        }
        if meta.is_dir() {
            stack.extend(
                std::fs::read_dir(&path)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|e| e.path()),
            );
        }
    }
    open
}
