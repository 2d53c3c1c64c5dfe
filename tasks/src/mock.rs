//! Starting the programs a task runs: `warden-mock` (its URL read from its banner), the
//! demo account added through `warden`, and a child that is stopped when dropped.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, bail};

/// Kills a child when dropped, so an error midway leaves nothing running.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Whether the mock's banner (every API with its demo credentials) is shown to the person.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Banner {
    Show,
    Hide,
}

/// Starts `warden-mock` (`mock`, a command for its binary) with `args`; returns it and its
/// root URL, without the trailing slash.
pub fn start(
    mut mock: Command,
    args: &[&str],
    banner: Banner,
) -> anyhow::Result<(Running, String)> {
    // In a process group of its own, so a Ctrl-C in the terminal leaves it to us: it must
    // still answer when the demo account signs out on the way out.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut mock, 0);
    let mut mock = Running(
        mock.args(args)
            .stdout(Stdio::piped())
            .stderr(if banner == Banner::Show {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .spawn()
            .context("cannot start warden-mock")?,
    );
    let mut lines = BufReader::new(mock.0.stdout.take().context("no stdout")?).lines();
    // `warden-mock listening on http://127.0.0.1:PORT/`: the first line is for scripts.
    let first = lines.next().context("warden-mock printed nothing")??;
    let root = first
        .rsplit(' ')
        .next()
        .filter(|url| url.starts_with("http://"))
        .with_context(|| format!("unexpected first line from warden-mock: {first}"))?
        .trim_end_matches('/')
        .to_owned();
    if banner == Banner::Show {
        println!("{first}");
        for line in lines.by_ref() {
            let line = line?;
            println!("{line}");
            if line.contains("control API") {
                break;
            }
        }
    }
    // Keep draining, so the mock never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Ok((mock, root))
}

/// Adds the demo user's account on the mock (`root`) through the CLI (`warden`, a command
/// for its binary), into the home `home`: `dialect` names the API and the path it is under.
pub fn add_demo_account(
    mut warden: Command,
    root: &str,
    dialect: &str,
    label: &str,
    home: &Path,
) -> anyhow::Result<()> {
    let mut add = warden
        .args([
            "accounts",
            "add",
            "--url",
            &format!("{root}/{dialect}"),
            "--dialect",
            dialect,
            "--login",
            dialect
                .parse()
                .map_or(warden_mock::DEMO_LOGIN, warden_mock::demo_login),
            "--label",
            label,
            "--password-stdin",
        ])
        .env("WARDEN_HOME", home)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .context("cannot start warden")?;
    add.stdin
        .take()
        .context("no stdin")?
        .write_all(format!("{}\n", warden_mock::DEMO_PASSWORD).as_bytes())?;
    if !add.wait()?.success() {
        bail!("could not add the demo account {label}");
    }
    Ok(())
}
