//! `session-warden --demo`: try Session Warden before trusting it with a password. It starts
//! the bundled mock server (`warden-mock`, installed beside the app), adds the mock's made-up
//! demo accounts (a web service and a Home Assistant) in a home of its own under the app's
//! data directory, keeps the demo password in memory only (never in the keyring), and
//! removes that home when it quits. The person's own accounts, keyring entries and history
//! are never opened.
//!
//! A demo that is killed cannot clean up after itself: its mock goes with it (the mock stops
//! when its standard input closes), and the next demo removes the home it left (one whose
//! watch lock nobody holds).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

use warden_core::watch::locks::WatchLock;
use warden_core::{DialectKind, Home, NewAccount, Secret};

/// The mock's demo user, as `warden-mock` prints it in its banner.
const PASSWORD: &str = "demo-password";

/// The demo's accounts: where on the mock, how, as whom, and their labels.
/// RTC Collector is the mock's web API that says where each device is, so the demo
/// scenario's stranger from another continent shows as what it is; Home Assistant shows
/// what a home server's tokens look like, and a long-lived token made as a way back in.
const ACCOUNTS: [(&str, DialectKind, &str, &str); 2] = [
    (
        "/rtc",
        DialectKind::Rtc,
        "demo@example.com",
        "Demo (RTC Collector)",
    ),
    (
        "/home-assistant",
        DialectKind::HomeAssistant,
        "demo",
        "Demo home (Home Assistant)",
    ),
];

/// What the window and the tray say about a demo: that it is one, and what it watches.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct DemoInfo {
    /// The bundled mock server's address.
    pub server: String,
    /// The labels of the made-up accounts it watches.
    pub accounts: Vec<String>,
}

/// Managed app state: in demo mode, what the window, the tray and the settings say and
/// allow, and the running demo itself, dropped (the mock stopped, the home removed) when the
/// app exits.
pub struct DemoMode {
    info: Option<DemoInfo>,
    running: std::sync::Mutex<Option<Demo>>,
}

impl DemoMode {
    pub fn new(demo: Option<Demo>) -> Self {
        DemoMode {
            info: demo.as_ref().map(|d| d.info.clone()),
            running: std::sync::Mutex::new(demo),
        }
    }

    /// `Some` in demo mode.
    pub fn info(&self) -> Option<&DemoInfo> {
        self.info.as_ref()
    }

    pub fn stop(&self) {
        drop(
            self.running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take(),
        );
    }
}

/// A running demo: the mock server and the demo's home, both gone when this is dropped.
pub struct Demo {
    mock: Child,
    /// Held open: the mock stops when it closes.
    _lifeline: Option<ChildStdin>,
    home: Home,
    /// The home's watch lock, taken at once so no other demo takes this home for abandoned;
    /// handed to the watcher (`take_lock`).
    lock: Option<WatchLock>,
    pub info: DemoInfo,
}

impl Demo {
    /// Starts the mock and makes the demo's home under `data` (the app's own home).
    pub fn start(data: &Home) -> Result<Demo, String> {
        let homes = data.root().join("demo");
        remove_abandoned(&homes);
        let home = Home::at(homes.join(std::process::id().to_string()));
        // A previous process with our pid (a reboot later) may have left one behind.
        let _ = std::fs::remove_dir_all(home.root());
        home.ensure()
            .map_err(|e| format!("cannot make the demo's home: {e}"))?;
        let lock = match WatchLock::try_acquire(&home, "Session Warden demo", chrono::Utc::now()) {
            Ok(Ok(lock)) => lock,
            Ok(Err(holder)) => return Err(format!("{holder} holds the demo's home")),
            Err(e) => return Err(format!("cannot lock the demo's home: {e}")),
        };

        let program = mock_program();
        let mut mock = Command::new(&program)
            .args(["--port", "0", "--scenario", "demo", "--stop-on-stdin-eof"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start the demo's mock server {}: {e}",
                    program.display()
                )
            })?;
        let lifeline = mock.stdin.take();
        let server = match read_address(&mut mock) {
            Ok(server) => server,
            Err(e) => {
                let _ = mock.kill();
                let _ = mock.wait();
                let _ = std::fs::remove_dir_all(home.root());
                return Err(e);
            }
        };
        tracing::info!(%server, home = %home.root().display(), "demo mode");
        Ok(Demo {
            mock,
            _lifeline: lifeline,
            home,
            lock: Some(lock),
            info: DemoInfo {
                server,
                accounts: ACCOUNTS
                    .iter()
                    .map(|(_, _, _, label)| (*label).to_owned())
                    .collect(),
            },
        })
    }

    pub fn home(&self) -> &Home {
        &self.home
    }

    /// The demo home's watch lock, for the process that watches it: this one.
    pub fn take_lock(&mut self) -> Option<WatchLock> {
        self.lock.take()
    }

    /// The demo accounts, on the mock's APIs.
    pub fn accounts(&self) -> Vec<(NewAccount, Secret)> {
        ACCOUNTS
            .iter()
            .map(|(path, dialect, login, label)| {
                (
                    NewAccount {
                        url: format!("{}{path}", self.info.server),
                        dialect: *dialect,
                        login: (*login).into(),
                        label: Some((*label).into()),
                    },
                    Secret::new(PASSWORD),
                )
            })
            .collect()
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.mock.kill();
        let _ = self.mock.wait();
        match std::fs::remove_dir_all(self.home.root()) {
            Ok(()) => tracing::info!("the demo's files are removed"),
            Err(e) => tracing::warn!(
                "cannot remove the demo's files in {}: {e}",
                self.home.root().display()
            ),
        }
    }
}

/// `warden-mock` beside our own executable (`/usr/bin` once installed, the target
/// directory in a build), else wherever `PATH` finds it.
fn mock_program() -> PathBuf {
    std::env::current_exe()
        .ok()
        .map(|exe| exe.with_file_name("warden-mock"))
        .filter(|path| path.exists())
        .unwrap_or_else(|| PathBuf::from("warden-mock"))
}

/// The mock prints `warden-mock listening on http://127.0.0.1:PORT/` first; the rest of its
/// banner (and anything after) is drained so it never blocks on a full pipe.
fn read_address(mock: &mut Child) -> Result<String, String> {
    let stdout = mock
        .stdout
        .take()
        .ok_or("the demo's mock server has no output")?;
    let mut lines = BufReader::new(stdout).lines();
    let first = lines
        .next()
        .and_then(Result::ok)
        .ok_or("the demo's mock server stopped before it listened")?;
    let server = first
        .rsplit(' ')
        .next()
        .filter(|url| url.starts_with("http://127.0.0.1:"))
        .map(|url| url.trim_end_matches('/').to_owned())
        .ok_or_else(|| format!("unexpected first line from the mock server: {first:?}"))?;
    std::thread::spawn(move || lines.for_each(drop));
    Ok(server)
}

/// Removes the homes of demos that ended without cleaning up: a home's watch lock is held
/// by its running demo, and let go by the kernel when it ends, however it ends.
fn remove_abandoned(homes: &Path) {
    let Ok(entries) = std::fs::read_dir(homes) else {
        return;
    };
    for entry in entries.flatten() {
        let home = Home::at(entry.path());
        let abandoned = matches!(
            WatchLock::try_acquire(&home, "Session Warden demo", chrono::Utc::now()),
            Ok(Ok(_))
        );
        if abandoned {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
