//! `cargo xtask bench footprint`: the app's cost as a person would pay it, release build,
//! on a private desktop, four accounts watched every 30 s: the CPU time its whole process
//! tree (the app and any WebKit processes) spends per hour idle in the tray, its memory
//! after that, then with the window open.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};
use warden_tests::{Desktop, wait_until};

use crate::demo::{Running, add_demo_account, start_mock};
use crate::{cargo_command, target_dir};

/// Long enough for each account to be polled four times at the interval below.
const IDLE: Duration = Duration::from_secs(120);
/// A start-up is not idling: its first polls, the IP databases mapped.
const WARM_UP: Duration = Duration::from_secs(15);
/// What a person leaves the setting at, rounded: the default is 15 s.
const POLL_SECONDS: &str = "30";
/// The window's web process settles after its first paint and list.
const WINDOW_SETTLE: Duration = Duration::from_secs(20);

/// The pid and every descendant of it, from /proc.
fn tree(root: u32) -> Vec<u32> {
    let mut all = vec![root];
    let mut i = 0;
    while i < all.len() {
        let parent = all[i];
        let children = std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children"))
            .unwrap_or_default();
        all.extend(
            children
                .split_whitespace()
                .filter_map(|c| c.parse::<u32>().ok()),
        );
        i += 1;
    }
    all
}

/// A field of a process's /proc file in kB; 0 for a process that is already gone.
fn kib(pid: u32, file: &str, field: &str) -> u64 {
    crate::bench::proc_kib(pid, file, field).unwrap_or(0)
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

/// CPU time (user + system) the tree has used so far, in seconds: fields 14 and 15 of each
/// /proc/<pid>/stat, in clock ticks (100 per second on Linux).
fn cpu_seconds(pids: &[u32]) -> f64 {
    let ticks: u64 = pids
        .iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/stat")).ok())
        .map(|stat| {
            // The command name, field 2, may hold spaces: count from the ')' that ends it.
            let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
            let fields: Vec<&str> = rest.split_whitespace().collect();
            // After ')': state is field 3, so utime (14) and stime (15) are at 11 and 12.
            let field = |i: usize| {
                fields
                    .get(i)
                    .and_then(|f| f.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            field(11) + field(12)
        })
        .sum();
    ticks as f64 / 100.0
}

fn measure(what: &str, root: u32) {
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

/// `--against DIR`: also measure the release binaries in DIR (`session-warden`, `warden`,
/// `warden-mock` of another build, e.g. an older commit built with its own target dir), one
/// after the other in the same run, so both figures see the same machine load.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let against = match args {
        [] => None,
        [flag, dir] if flag == "--against" => Some(PathBuf::from(dir)),
        _ => bail!("usage: cargo xtask bench footprint [--against DIR_OF_RELEASE_BINARIES]"),
    };
    // A private desktop, and xwininfo (the headless demo's set) to see the window appear.
    crate::setup::ensure(crate::setup::Purpose::HeadlessDemo)?;
    crate::run(cargo_command().args([
        "build",
        "--release",
        "-p",
        "session-warden",
        "-p",
        "warden-mock",
        "-p",
        "warden-cli",
    ]))?;
    println!("== this build ==");
    measure_build(&target_dir().join("release"))?;
    if let Some(dir) = against {
        println!("== against {} ==", dir.display());
        measure_build(&dir)?;
    }
    Ok(())
}

fn measure_build(binaries: &Path) -> anyhow::Result<()> {
    let release = |name: &str| binaries.join(name);
    let desktop = Desktop::start()?;
    let home = desktop.subdir("warden-home")?;
    let (_mock, root) = start_mock(
        desktop.command(release("warden-mock")),
        &["--port", "0", "--scenario", "quiet"],
    )?;
    for (dialect, label) in [
        ("hectoday", "Demo (hectoday)"),
        ("rtc", "Demo (RTC)"),
        ("node-auth", "Demo (node-auth)"),
        ("hectoday", "Demo (hectoday, again)"),
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
    measure("tray only, after idling (target: RSS ≤ 130 MiB)", pid);

    // A second launch hands over to the running one, which opens its window.
    app(&["--open"])?.status()?;
    wait_until("the window", Duration::from_secs(30), || {
        desktop.run("xwininfo", &["-name", "Session Warden"]).ok()
    })?;
    std::thread::sleep(WINDOW_SETTLE);
    measure("window open (target: PSS ≤ 300 MiB)", pid);
    drop(tray);
    Ok(())
}
