//! `cargo xtask bench footprint`: the app's memory as a person would pay it, release build,
//! on a private desktop: the whole process tree (the app and any WebKit processes) after
//! 60 s idle in the tray with one account watched, then with the window open.

use std::process::Command;
use std::time::Duration;

use anyhow::Context;
use warden_tests::{Desktop, wait_until};

use crate::demo::{Running, add_demo_account, start_mock};
use crate::{cargo_command, target_dir};

const IDLE: Duration = Duration::from_secs(60);
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

pub fn run() -> anyhow::Result<()> {
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
    let release = |name: &str| target_dir().join("release").join(name);
    let desktop = Desktop::start()?;
    let home = desktop.subdir("warden-home")?;
    let (_mock, root) = start_mock(
        desktop.command(release("warden-mock")),
        &["--port", "0", "--scenario", "quiet"],
    )?;
    add_demo_account(
        desktop.command(release("warden")),
        &root,
        "hectoday",
        "Demo (hectoday)",
        &home,
    )?;
    let app = |args: &[&str]| -> anyhow::Result<Command> {
        let mut command = desktop.command(release("session-warden"));
        command.args(args).env("WARDEN_HOME", &home);
        Ok(command)
    };
    let tray = Running(app(&[])?.spawn().context("cannot start session-warden")?);
    let pid = tray.0.id();
    println!("idling {} s in the tray…", IDLE.as_secs());
    std::thread::sleep(IDLE);
    measure("tray only, after 60 s idle (target: RSS ≤ 130 MiB)", pid);

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
