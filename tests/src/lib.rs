//! Harness for the cross-process tests: a private desktop (Xvfb, D-Bus, an unlocked
//! gnome-keyring, a notification daemon) started per test, waiting on conditions, and
//! WebDriver through tauri-driver. `cargo xtask demo` reuses the desktop when no display
//! is available.
#![forbid(unsafe_code)]

pub mod desktop;
pub mod driver;
pub mod wait;

pub use desktop::Desktop;
pub use wait::wait_until;
