//! `warden` as a person runs it: a real process on a private desktop (its own D-Bus and
//! keyring), on a home of its own; and `warden watch --json`, followed line by line.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use crate::{Desktop, workspace_binary};

pub struct Warden {
    pub desktop: Desktop,
    pub home: PathBuf,
    pub binary: PathBuf,
}

impl Warden {
    pub fn start() -> anyhow::Result<Warden> {
        let desktop = Desktop::start()?;
        let home = desktop.subdir("warden-home")?;
        Ok(Warden {
            binary: workspace_binary("WARDEN_CLI", "warden")?,
            desktop,
            home,
        })
    }

    /// Runs `warden args`, typing `stdin`.
    pub fn run(&self, args: &[&str], stdin: &str) -> anyhow::Result<Output> {
        self.run_with(args, stdin, &[])
    }

    /// [`Warden::run`] with more environment (`WARDEN_LOG`…).
    pub fn run_with(
        &self,
        args: &[&str],
        stdin: &str,
        env: &[(&str, &str)],
    ) -> anyhow::Result<Output> {
        let mut child = self
            .desktop
            .command(&self.binary)
            .args(args)
            .env("WARDEN_HOME", &self.home)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        child
            .stdin
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stdin"))?
            .write_all(stdin.as_bytes())?;
        Ok(child.wait_with_output()?)
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = self.run(args, "")?;
        anyhow::ensure!(
            out.status.success(),
            "warden {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8(out.stdout)?)
    }

    /// Everything the keyring holds for Session Warden, as `secret-tool` lists it.
    pub fn keyring_entries(&self) -> String {
        self.desktop
            .run(
                "secret-tool",
                &["search", "--all", "service", "session-warden"],
            )
            .unwrap_or_default()
    }

    pub fn keyring(&self, account: &str, kind: &str) -> Option<String> {
        self.desktop
            .run(
                "secret-tool",
                &[
                    "lookup",
                    "service",
                    "session-warden",
                    "username",
                    &format!("{account}/{kind}"),
                ],
            )
            .ok()
            .filter(|s| !s.is_empty())
    }

    /// `warden sessions --json`.
    pub fn sessions(&self) -> anyhow::Result<Vec<serde_json::Value>> {
        Ok(serde_json::from_str(&self.ok(&["sessions", "--json"])?)?)
    }
}

/// A `warden watch --json` of a home, with its stdout and stderr as lines.
pub struct Watching {
    child: std::process::Child,
    pub out: Receiver<String>,
    pub err: Receiver<String>,
}

impl Watching {
    /// `warden watch --json --interval 1`, and `more` arguments.
    pub fn start(warden: &Warden, more: &[&str]) -> anyhow::Result<Watching> {
        Self::start_with(warden, more, &[])
    }

    /// [`Watching::start`] with more environment.
    pub fn start_with(
        warden: &Warden,
        more: &[&str],
        env: &[(&str, &str)],
    ) -> anyhow::Result<Watching> {
        let mut child = warden
            .desktop
            .command(&warden.binary)
            .args(["watch", "--json", "--interval", "1"])
            .args(more)
            .env("WARDEN_HOME", &warden.home)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let lines = |stream: Box<dyn std::io::Read + Send>| {
            let (tx, rx) = std::sync::mpsc::channel::<String>();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
            rx
        };
        let out = lines(Box::new(
            child
                .stdout
                .take()
                .ok_or_else(|| anyhow::anyhow!("no stdout"))?,
        ));
        let err = lines(Box::new(
            child
                .stderr
                .take()
                .ok_or_else(|| anyhow::anyhow!("no stderr"))?,
        ));
        Ok(Watching { child, out, err })
    }

    /// The next line (of `out` or `err`) holding every needle, within 20 s.
    pub fn next(lines: &Receiver<String>, needles: &[&str]) -> anyhow::Result<String> {
        Self::next_within(lines, needles, Duration::from_secs(20))
    }

    pub fn next_within(
        lines: &Receiver<String>,
        needles: &[&str],
        within: Duration,
    ) -> anyhow::Result<String> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = lines.recv_timeout(left).map_err(|_| {
                anyhow::anyhow!("no line with {needles:?} within {} s", within.as_secs())
            })?;
            if needles.iter().all(|n| line.contains(n)) {
                return Ok(line);
            }
        }
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
