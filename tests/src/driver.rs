//! The real window, driven over WebDriver: tauri-driver in front of WebKitWebDriver,
//! which starts the app on the test's private desktop.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use anyhow::Context;
use fantoccini::{Client, ClientBuilder};

use crate::desktop::Desktop;
use crate::wait::wait_until;

pub struct Driver {
    child: Child,
    port: u16,
    /// Where the app logs: its last lines say why a launch failed.
    log: PathBuf,
}

/// How long an app may take to open its window (a cold start of a debug build on a busy
/// machine takes seconds; an app that stopped at start never does).
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(90);

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Driver {
    /// Starts tauri-driver on the desktop; the app it launches inherits `env` and logs to
    /// `log` (a file under the desktop's root, so tests can check it for secrets).
    pub fn start(desktop: &Desktop, env: &[(&str, String)], log: &Path) -> anyhow::Result<Driver> {
        let port = free_port()?;
        let native = free_port()?;
        let log_path = log.to_owned();
        let log = std::fs::File::create(log)?;
        let child = desktop
            .command("tauri-driver")
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native.to_string(),
            ])
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            // Its own process group: WebKitWebDriver and the app die with it, even when a
            // test fails before closing its session.
            .process_group(0)
            .spawn()
            .context("cannot start tauri-driver (cargo xtask test installs it)")?;
        // tauri-driver listens before the WebKitWebDriver it spawned does, and forwards a
        // new-session request to a closed port as "connection refused": wait for both.
        for (what, port) in [("tauri-driver", port), ("WebKitWebDriver", native)] {
            wait_until(
                &format!("{what} to listen"),
                Duration::from_secs(20),
                || std::net::TcpStream::connect(("127.0.0.1", port)).ok(),
            )?;
        }
        Ok(Driver {
            child,
            port,
            log: log_path,
        })
    }

    /// Launches the app with `args` and returns a WebDriver session on its window.
    pub async fn launch(&self, app: &Path, args: &[&str]) -> anyhow::Result<Client> {
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "wry".into());
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": app, "args": args }),
        );
        let mut builder = ClientBuilder::rustls().context("TLS set-up")?;
        let url = format!("http://127.0.0.1:{}", self.port);
        let connect = builder.capabilities(caps).connect(&url);
        // WebKitWebDriver waits for a window forever when the app stops before it opens one.
        match tokio::time::timeout(LAUNCH_TIMEOUT, connect).await {
            Ok(client) => client.context("cannot open a WebDriver session on the app"),
            Err(_) => anyhow::bail!(
                "the app opened no window within {LAUNCH_TIMEOUT:?}; the end of its log:\n{}",
                self.log_tail()
            ),
        }
    }

    /// The app's last log lines, for a failure's message.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log
            .lines()
            // Neither debug chatter nor a backtrace's frames: the panic's own line stays.
            .filter(|l| !l.contains(" DEBUG ") && !l.contains(" TRACE ") && !l.starts_with(' '))
            .collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = std::process::Command::new("kill")
            .args(["-TERM", "--", &group])
            .status();
        let _ = wait_until("the app to exit", Duration::from_secs(5), || {
            std::process::Command::new("kill")
                .args(["-0", "--", &group])
                .stderr(Stdio::null())
                .status()
                .ok()
                .filter(|s| !s.success())
        });
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
    }
}
