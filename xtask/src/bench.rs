//! `cargo xtask bench mock|footprint`: builds the release binaries, installs what the
//! measurement needs, then runs it (`warden-tasks`, which starts the programs and measures
//! them from outside, as a person's machine would run them).
//!
//! - `mock`: the mock server's list requests per second for a user with 100 sessions (wrk on
//!   loopback), and its memory holding 100,000 sessions.
//! - `footprint [--against DIR]`: the app's CPU per hour idle and its memory in the tray and
//!   with its window open, four accounts watched; with `--against`, another build's release
//!   binaries measured after these in the same run.
//!
//! The engine's own figures are `cargo bench -p warden-core` (parse + diff + detect at
//! 10,000 sessions; CPU per poll; sign-in to event).

use anyhow::bail;

use crate::setup::{self, Purpose};
use crate::{cargo, target_dir};

pub fn run(what: Option<&str>, rest: &[String]) -> anyhow::Result<()> {
    let (purpose, packages, task): (_, &[&str], _) = match (what, rest) {
        (Some("mock"), []) => (Purpose::Bench, &["warden-mock"], "bench-mock"),
        (Some("footprint"), [] | [_, _]) => (
            // A private desktop, and xwininfo to see the window appear.
            Purpose::HeadlessDemo,
            &["session-warden", "warden-mock", "warden-cli"],
            "bench-footprint",
        ),
        _ => bail!(
            "usage: cargo xtask bench mock | cargo xtask bench footprint [--against DIR_OF_RELEASE_BINARIES]"
        ),
    };
    setup::ensure(purpose)?;
    let mut build = vec!["build", "--release"];
    for package in packages {
        build.extend(["--package", package]);
    }
    cargo(&build)?;
    let release = target_dir().join("release");
    let mut args = vec![
        task.to_owned(),
        "--binaries".into(),
        release.display().to_string(),
    ];
    args.extend(rest.iter().cloned());
    crate::exec_task(&args)
}
