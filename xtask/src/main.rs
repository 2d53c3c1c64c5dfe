//! `cargo xtask`: the project's own set-up, demo and test commands.
//!
//! It is what installs the system's libraries, so it builds without any: nothing in its own
//! dependency tree links one (`tests/toolchain_only.rs` fails the moment something does).
//! What needs the project's crates runs after the set-up, as `warden-tasks`, a program of the
//! workspace built and started from here.
//!
//! - `cargo xtask demo`: installs what is missing, builds, starts `warden-mock` with a demo
//!   user and devices, and opens Session Warden on it.
//! - `cargo xtask test`: the same set-up, then formatting, lints and every test, the
//!   end-to-end ones included (each starts its own private desktop).
//! - `cargo xtask bundle`: the Debian package (`target/package/session-warden_*.deb`), with
//!   Tauri's bundler.
//! - `cargo xtask screenshots`: reruns the end-to-end test, saving its pictures in docs/.
//! - `cargo xtask bench mock`: the mock server's throughput and memory, release build.
//! - `cargo xtask bench footprint [--against DIR]`: the app's CPU per hour idle and its
//!   memory in the tray and with its window open; with `--against`, another build's too.
#![forbid(unsafe_code)]

mod bench;
mod bundle;
mod geoip;
mod setup;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().map(String::as_str).unwrap_or("help");
    match task {
        "setup" => setup::ensure(setup::Purpose::Test),
        "demo" => demo(),
        "bundle" => bundle::run().map(drop),
        "test" => test(),
        "screenshots" => screenshots(),
        "bench" => bench::run(
            args.get(1).map(String::as_str),
            args.get(2..).unwrap_or(&[]),
        ),
        "help" | "--help" | "-h" => {
            println!(
                "usage: cargo xtask <demo | test | bundle | setup | screenshots | bench mock|footprint>"
            );
            Ok(())
        }
        other => bail!("unknown task {other:?}; try `cargo xtask help`"),
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_absolute() {
                dir
            } else {
                workspace_root().join(dir)
            }
        })
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// The debug build of one of the workspace's binaries.
fn binary(name: &str) -> PathBuf {
    target_dir().join("debug").join(name)
}

/// The cargo that runs us (`$CARGO`), so a pinned toolchain stays pinned.
fn cargo_command() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn cargo(args: &[&str]) -> anyhow::Result<()> {
    run(cargo_command().args(args))
}

fn run(command: &mut Command) -> anyhow::Result<()> {
    let shown = format!("{command:?}");
    let status = command
        .current_dir(workspace_root())
        .status()
        .with_context(|| format!("cannot run {shown}"))?;
    if !status.success() {
        bail!("{shown} failed ({status})");
    }
    Ok(())
}

/// `warden-tasks`, built first: what needs the project's own crates.
fn task() -> anyhow::Result<Command> {
    cargo(&["build", "--package", "warden-tasks"])?;
    let mut task = Command::new(binary("warden-tasks"));
    task.current_dir(workspace_root());
    Ok(task)
}

/// Runs `warden-tasks` with `args`, in place of this process where the system allows it, so
/// a Ctrl-C in the terminal reaches the task alone and it can clean up.
fn exec_task<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> anyhow::Result<()> {
    let mut task = task()?;
    task.args(args);
    #[cfg(unix)]
    {
        let error = std::os::unix::process::CommandExt::exec(&mut task);
        bail!("cannot run warden-tasks: {error}")
    }
    #[cfg(not(unix))]
    run(&mut task)
}

/// Whether the person has a desktop to show the app on.
fn has_display() -> bool {
    let set = |var| std::env::var_os(var).is_some_and(|v| !v.is_empty());
    (set("DISPLAY") || set("WAYLAND_DISPLAY")) && set("DBUS_SESSION_BUS_ADDRESS")
}

/// Session Warden against the bundled mock server, with a demo account already added; on a
/// private virtual desktop where there is no display.
fn demo() -> anyhow::Result<()> {
    let private_desktop = !has_display();
    setup::ensure(if private_desktop {
        setup::Purpose::HeadlessDemo
    } else {
        setup::Purpose::Demo
    })?;
    build_binaries()?;
    if private_desktop {
        println!("xtask: no display here: running on a private virtual desktop (Xvfb)");
    }
    let mut args = vec![
        "demo".into(),
        "--binaries".into(),
        target_dir().join("debug").into_os_string(),
        "--out".into(),
        target_dir().join("demo").into_os_string(),
    ];
    if private_desktop {
        args.push("--private-desktop".into());
    }
    exec_task(&args)
}

/// Every binary the demo and the end-to-end tests run.
fn build_binaries() -> anyhow::Result<()> {
    cargo(&[
        "build",
        "--package",
        "session-warden",
        "--package",
        "warden-mock",
        "--package",
        "warden-cli",
    ])
}

fn test() -> anyhow::Result<()> {
    setup::ensure(setup::Purpose::Test)?;
    cargo(&["fmt", "--all", "--", "--check"])?;
    // The window's script against the IPC types generated from Rust.
    run(
        Command::new(workspace_root().join("typecheck/node_modules/.bin/tsc")).args([
            "--noEmit",
            "-p",
            "typecheck",
        ]),
    )?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])?;
    build_binaries()?;
    let mut tests = cargo_command();
    tests
        .args(["test", "--workspace", "--all-targets"])
        .env("WARDEN_APP", binary("session-warden"))
        .env("WARDEN_CLI", binary("warden"));
    // The Debian package, which `tests/tests/package.rs` installs, uses and removes. Installing
    // is system-wide: as root only, as the set-up's apt-get is; the test says so otherwise.
    if setup::is_root() {
        tests.env("WARDEN_DEB", bundle::run()?);
    }
    run(&mut tests)
}

fn screenshots() -> anyhow::Result<()> {
    setup::ensure(setup::Purpose::Test)?;
    build_binaries()?;
    let docs = workspace_root().join("docs/screenshots");
    run(cargo_command()
        .args([
            "test",
            "--package",
            "warden-tests",
            "--test",
            "desktop_app",
            "--test",
            "desktop_flows",
        ])
        .env("WARDEN_APP", binary("session-warden"))
        .env("WARDEN_SCREENSHOTS_DIR", &docs))?;
    println!("screenshots saved in {}", docs.display());
    Ok(())
}
