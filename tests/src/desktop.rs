//! A private desktop session: its own X display (Xvfb), its own D-Bus session bus, an
//! unlocked gnome-keyring (Secret Service) and a notification daemon (dunst). Every file
//! lives in a temp dir; every process dies with the `Desktop`. Nothing touches the real
//! home directory or the user's own session.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::wait::wait_until;

const START_TIMEOUT: Duration = Duration::from_secs(20);
pub const KEYRING_PASSWORD: &str = "test-keyring-password";

pub struct Desktop {
    dir: tempfile::TempDir,
    display: String,
    bus: String,
    /// Started in order, killed in reverse.
    children: Vec<(&'static str, Child)>,
}

impl Desktop {
    pub fn start() -> anyhow::Result<Desktop> {
        let dir = tempfile::Builder::new()
            .prefix("warden-desktop-")
            .tempdir()?;
        for sub in ["home", "data", "config", "cache", "run"] {
            std::fs::create_dir_all(dir.path().join(sub))?;
        }
        set_private(&dir.path().join("run"))?;
        let mut desktop = Desktop {
            dir,
            display: String::new(),
            bus: String::new(),
            children: Vec::new(),
        };

        // Xvfb picks a free display and writes its number to the fd we name (its stdout).
        let (xvfb, line) = spawn_reading_first_line(
            Command::new("Xvfb").args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ]),
            "Xvfb",
        )?;
        desktop.children.push(("Xvfb", xvfb));
        desktop.display = format!(":{}", line.trim());

        let bus_path = desktop.dir.path().join("bus");
        let (dbus, line) = spawn_reading_first_line(
            Command::new("dbus-daemon").args([
                "--session".to_owned(),
                "--nofork".to_owned(),
                "--print-address=1".to_owned(),
                format!("--address=unix:path={}", bus_path.display()),
            ]),
            "dbus-daemon",
        )?;
        desktop.children.push(("dbus-daemon", dbus));
        desktop.bus = line.trim().to_owned();

        let mut keyring = desktop
            .command("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start gnome-keyring-daemon (is gnome-keyring installed?)")?;
        if let Some(mut stdin) = keyring.stdin.take() {
            use std::io::Write;
            stdin.write_all(KEYRING_PASSWORD.as_bytes())?;
        }
        desktop.children.push(("gnome-keyring-daemon", keyring));
        desktop.wait_for_bus_name("org.freedesktop.secrets")?;

        let dunst = desktop
            .command("dunst")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start dunst (is dunst installed?)")?;
        desktop.children.push(("dunst", dunst));
        desktop.wait_for_bus_name("org.freedesktop.Notifications")?;
        Ok(desktop)
    }

    /// The temp dir everything of this desktop lives in.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// A fresh directory under the desktop's root.
    pub fn subdir(&self, name: &str) -> anyhow::Result<PathBuf> {
        let dir = self.root().join(name);
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    /// The environment a program needs to live on this desktop (and nowhere else).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let at = |sub: &str| self.root().join(sub).display().to_string();
        vec![
            ("DISPLAY", self.display.clone()),
            ("DBUS_SESSION_BUS_ADDRESS", self.bus.clone()),
            ("HOME", at("home")),
            ("XDG_DATA_HOME", at("data")),
            ("XDG_CONFIG_HOME", at("config")),
            ("XDG_CACHE_HOME", at("cache")),
            ("XDG_RUNTIME_DIR", at("run")),
            ("WAYLAND_DISPLAY", String::new()),
            ("GDK_BACKEND", "x11".into()),
        ]
    }

    /// `program` on this desktop, under the loosest umask desktops ship (Debian's and
    /// Ubuntu's 002, group-writable): a file Session Warden leaves open to others shows as
    /// such (`crate::open_to_others`). `exec` keeps the program's pid the child's.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new("sh");
        command
            .args(["-c", "umask 002 && exec \"$0\" \"$@\""])
            .arg(program)
            .envs(self.env());
        command
    }

    /// Runs a program on this desktop and returns its stdout; fails on a non-zero exit.
    pub fn run(&self, program: &str, args: &[&str]) -> anyhow::Result<String> {
        let output = self
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("cannot run {program}"))?;
        if !output.status.success() {
            bail!(
                "{program} {args:?} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// [`Desktop::run`], typing `stdin` (`secret-tool store` reads the secret so).
    pub fn run_with_stdin(
        &self,
        program: &str,
        args: &[&str],
        stdin: &str,
    ) -> anyhow::Result<String> {
        use std::io::Write;
        let mut child = self
            .command(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot run {program}"))?;
        child
            .stdin
            .take()
            .context("no stdin")?
            .write_all(stdin.as_bytes())?;
        let output = child.wait_with_output()?;
        if !output.status.success() {
            bail!(
                "{program} {args:?} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    fn wait_for_bus_name(&self, name: &str) -> anyhow::Result<()> {
        let arg = format!("string:{name}");
        wait_until(&format!("{name} on the session bus"), START_TIMEOUT, || {
            let out = self
                .run(
                    "dbus-send",
                    &[
                        "--session",
                        "--dest=org.freedesktop.DBus",
                        "--print-reply",
                        "/org/freedesktop/DBus",
                        "org.freedesktop.DBus.NameHasOwner",
                        &arg,
                    ],
                )
                .ok()?;
            out.contains("boolean true").then_some(())
        })
    }

    /// Starts recording every `Notify` call on this desktop's bus.
    pub fn watch_notifications(&self) -> anyhow::Result<Notifications> {
        let mut child = self
            .command("dbus-monitor")
            .args([
                "--session",
                "interface='org.freedesktop.Notifications',member='Notify'",
                // The replies too: a Notify's reply carries the id its actions are sent with.
                "type='method_return'",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start dbus-monitor")?;
        let stdout = child.stdout.take().context("dbus-monitor has no stdout")?;
        let seen = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&seen);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let mut seen = sink.lock().unwrap_or_else(|p| p.into_inner());
                seen.push_str(&line);
                seen.push('\n');
            }
        });
        // dbus-monitor gives up its bus name (NameLost) the moment it becomes a monitor; a
        // Notify sent before that would be missed, so wait for it.
        wait_until("dbus-monitor to listen", START_TIMEOUT, || {
            let seen = seen.lock().unwrap_or_else(|p| p.into_inner());
            seen.contains("member=NameLost").then_some(())
        })?;
        Ok(Notifications { child, seen })
    }
}

/// The `Notify` calls seen on a desktop's bus, as dbus-monitor prints them.
pub struct Notifications {
    child: Child,
    seen: Arc<Mutex<String>>,
}

impl Notifications {
    pub fn text(&self) -> String {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Waits for a `Notify` call whose arguments mention every one of `needles`.
    pub fn wait_for(&self, needles: &[&str], timeout: Duration) -> anyhow::Result<String> {
        wait_until(
            &format!("a notification mentioning {needles:?}"),
            timeout,
            || {
                let text = self.text();
                text.split("method call")
                    .filter(|call| call.contains("member=Notify"))
                    .find(|call| needles.iter().all(|n| call.contains(n)))
                    .map(str::to_owned)
            },
        )
    }
}

impl Notifications {
    /// The id the notification server gave the `Notify` call that mentions every one of
    /// `needles`: what an `ActionInvoked` signal for it must carry.
    pub fn id_of(&self, needles: &[&str], timeout: Duration) -> anyhow::Result<u32> {
        let call = self.wait_for(needles, timeout)?;
        let serial = field(&call, "serial=").context("a Notify call without a serial")?;
        // Serials are per connection: the reply is the one sent back to the caller.
        let sender = call
            .split("sender=")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .context("a Notify call without a sender")?;
        let to_sender = format!("destination={sender} ");
        wait_until("the notification server's reply", timeout, || {
            let text = self.text();
            let reply = text.split("method return").find(|r| {
                r.contains(&to_sender)
                    && field(r, "reply_serial=").as_deref() == Some(serial.as_str())
            })?;
            let id = reply.split("uint32 ").nth(1)?;
            id.split_whitespace().next()?.parse().ok()
        })
    }
}

/// The value after `key` in a dbus-monitor header line (`serial=7`).
fn field(text: &str, key: &str) -> Option<String> {
    let at = text.find(key)? + key.len();
    Some(
        text[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect(),
    )
}

impl Drop for Notifications {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        for (_, child) in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn set_private(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    Ok(())
}

/// Spawns a daemon that announces readiness by printing one line, and returns that line.
fn spawn_reading_first_line(command: &mut Command, name: &str) -> anyhow::Result<(Child, String)> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {name} (is it installed?)"))?;
    let stdout: ChildStdout = child.stdout.take().context("no stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let _ = tx.send(reader.read_line(&mut line).map(|_| line));
        // Keep draining so the daemon never blocks on a full pipe.
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    match rx.recv_timeout(START_TIMEOUT) {
        Ok(Ok(line)) if !line.trim().is_empty() => Ok((child, line)),
        _ => {
            let _ = child.kill();
            bail!("{name} did not start within {START_TIMEOUT:?}")
        }
    }
}
