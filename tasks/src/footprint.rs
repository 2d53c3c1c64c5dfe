//! `cargo xtask bench footprint`: the app's cost as a person would pay it, release build,
//! on a private desktop, four accounts watched every 30 s: the CPU time its whole process
//! tree (the app and any WebKit processes) spends per hour idle in the tray, its memory
//! after that, then with the window open.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::Context;
use warden_tests::{Desktop, wait_until};

use crate::mock::{self, Banner, Running, add_demo_account};
use crate::procfs::{self, cpu_seconds, tree};

/// Long enough for each account to be polled four times at the interval below.
const IDLE: Duration = Duration::from_secs(120);
/// A start-up is not idling: its first polls, the IP databases mapped.
const WARM_UP: Duration = Duration::from_secs(15);
/// What a person leaves the setting at, rounded: the default is 15 s.
const POLL_SECONDS: &str = "30";
/// The window's web process settles after its first paint and list.
const WINDOW_SETTLE: Duration = Duration::from_secs(20);

/// A field of a process's /proc file in kB; 0 for a process that is already gone.
fn kib(pid: u32, file: &str, field: &str) -> u64 {
    procfs::kib(pid, file, field).unwrap_or(0)
}

fn names(pids: &[u32]) -> String {
    pids.iter()
        .map(|p| {
            let name = std::fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default();
            format!("{} {} MiB", name.trim(), kib(*p, "status", "VmRSS:") / 1024)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn report(what: &str, root: u32) {
    let pids = tree(root);
    let rss: u64 = pids.iter().map(|p| kib(*p, "status", "VmRSS:")).sum();
    let pss: u64 = pids.iter().map(|p| kib(*p, "smaps_rollup", "Pss:")).sum();
    println!(
        "{what}: {} processes, RSS {:.1} MiB, PSS {:.1} MiB  ({})",
        pids.len(),
        rss as f64 / 1024.0,
        pss as f64 / 1024.0,
        names(&pids)
    );
}

/// Measures the release binaries in `binaries` (`session-warden`, `warden`, `warden-mock`).
pub fn measure(binaries: &Path) -> anyhow::Result<()> {
    let release = |name: &str| binaries.join(name);
    let desktop = Desktop::start()?;
    let home = desktop.subdir("warden-home")?;
    let (_mock, root) = mock::start(
        desktop.command(release("warden-mock")),
        &["--port", "0", "--scenario", "quiet"],
        Banner::Hide,
    )?;
    for (dialect, label) in [
        ("hectoday", "Demo (hectoday)"),
        ("rtc", "Demo (RTC)"),
        ("node-auth", "Demo (node-auth)"),
        // One account once: a second copy of the same one is refused.
        ("allauth", "Demo (allauth)"),
    ] {
        add_demo_account(
            desktop.command(release("warden")),
            &root,
            dialect,
            label,
            &home,
        )?;
    }
    let app = |args: &[&str]| -> anyhow::Result<Command> {
        let mut command = desktop.command(release("session-warden"));
        command
            .args(args)
            .env("WARDEN_HOME", &home)
            .env("WARDEN_POLL_SECONDS", POLL_SECONDS);
        Ok(command)
    };
    let tray = Running(app(&[])?.spawn().context("cannot start session-warden")?);
    let pid = tray.0.id();
    std::thread::sleep(WARM_UP);
    let before = cpu_seconds(&tree(pid));
    println!("idling {} s in the tray…", IDLE.as_secs());
    std::thread::sleep(IDLE);
    let used = cpu_seconds(&tree(pid)) - before;
    println!(
        "CPU time idle in the tray, four accounts polled every {POLL_SECONDS} s: {:.1} s per hour \
         ({used:.2} s over {} s)",
        used * 3600.0 / IDLE.as_secs_f64(),
        IDLE.as_secs()
    );
    report("tray only, after idling (target: RSS ≤ 130 MiB)", pid);

    // A second launch hands over to the running one, which opens its window.
    app(&["--open"])?.status()?;
    wait_until("the window", Duration::from_secs(30), || {
        desktop.run("xwininfo", &["-name", "Session Warden"]).ok()
    })?;
    std::thread::sleep(WINDOW_SETTLE);
    report("window open (target: PSS ≤ 300 MiB)", pid);
    drop(tray);
    Ok(())
}
