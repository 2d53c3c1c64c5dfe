//! The real servers of the APIs published on a package registry, started by the tests from
//! what `cargo xtask setup` installed: Better Auth (npm, `tests/servers/better-auth`),
//! Synapse and django-allauth (PyPI, the virtualenv of `tests/servers/python`). Each
//! listens on 127.0.0.1, lives in a temp dir, and is stopped when dropped.

pub mod allauth;
pub mod better_auth;
pub mod home_assistant;
pub mod synapse;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// `tests/servers/<name>` of this checkout.
pub fn servers_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("servers")
        .join(name)
}

/// The Python of the virtualenv `cargo xtask setup` made for the real servers.
pub fn python() -> anyhow::Result<PathBuf> {
    let python = servers_dir("python")
        .join(".venv")
        .join("bin")
        .join("python");
    anyhow::ensure!(
        python.exists(),
        "{} is missing: `cargo xtask setup` installs the real servers",
        python.display()
    );
    Ok(python)
}

/// A port nothing listens on now, for servers that cannot be told to pick one (Synapse,
/// Django's runserver). Another process could take it before the server binds; on a test
/// machine that race is rare, and the server's start then fails loudly.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// A server process, killed (with its process group) when dropped; its output in a log.
pub struct Process {
    child: Child,
    pub log: PathBuf,
}

impl Process {
    pub fn spawn(mut command: Command, log: &Path) -> anyhow::Result<Process> {
        use std::os::unix::process::CommandExt;
        let out = std::fs::File::create(log)?;
        let child = command
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .process_group(0)
            .spawn()?;
        Ok(Process {
            child,
            log: log.to_path_buf(),
        })
    }

    /// The log so far, for a failure message.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `url` answers (any status), or fails with the server's output.
    pub async fn wait_for(&mut self, url: &str, within: Duration) -> anyhow::Result<()> {
        let http = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!("the server exited ({status}):\n{}", self.output());
            }
            if http.get(url).send().await.is_ok() {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                anyhow::bail!(
                    "the server did not answer within {} s:\n{}",
                    within.as_secs(),
                    self.output()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // The whole group: runserver and node may have children of their own.
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a command to completion, failing with its output.
pub fn run(mut command: Command, what: &str) -> anyhow::Result<String> {
    let out = command.stdin(Stdio::null()).output()?;
    anyhow::ensure!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
