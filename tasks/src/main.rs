//! `warden-tasks`: what `cargo xtask` runs once its set-up has installed the system's
//! libraries, because it needs the project's own crates (and through them D-Bus, WebKit's
//! neighbours…): the manual pages and shell completions from the programs' clap definitions,
//! the demo (on a private desktop where there is no display), and the benchmarks that start
//! the app and the mock. xtask itself must build on a machine with nothing installed
//! (`xtask/tests/toolchain_only.rs`), so none of this can live in it.
//!
//! It runs what xtask built and never invokes cargo: the binaries it starts are named by
//! `--binaries`.
#![forbid(unsafe_code)]

mod demo;
mod footprint;
mod mock;
mod mock_bench;
mod pages;
mod procfs;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "warden-tasks", about = "Run by cargo xtask after its set-up")]
struct Args {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Manual pages and shell completions of the three programs, laid out under OUT as the
    /// Debian package installs them (OUT/usr/share/man/man1/warden.1.gz, …).
    Pages {
        #[arg(long)]
        out: PathBuf,
    },
    /// Session Warden on the bundled mock server, with a demo account already added.
    Demo {
        /// Where `session-warden`, `warden` and `warden-mock` are.
        #[arg(long)]
        binaries: PathBuf,
        /// Where the demo's home and screenshots go.
        #[arg(long)]
        out: PathBuf,
        /// No display here: run on a private virtual desktop and save what it shows.
        #[arg(long)]
        private_desktop: bool,
    },
    /// The mock server's throughput (wrk) and memory at 100,000 sessions.
    BenchMock {
        #[arg(long)]
        binaries: PathBuf,
    },
    /// The app's CPU per hour idle and its memory, in the tray and with its window open.
    BenchFootprint {
        #[arg(long)]
        binaries: PathBuf,
        /// Another build's release binaries, measured after this one in the same run.
        #[arg(long)]
        against: Option<PathBuf>,
    },
}

fn main() -> anyhow::Result<()> {
    match Args::parse().task {
        Task::Pages { out } => pages::write(&out),
        Task::Demo {
            binaries,
            out,
            private_desktop,
        } => demo::run(&binaries, &out, private_desktop),
        Task::BenchMock { binaries } => mock_bench::run(&binaries),
        Task::BenchFootprint { binaries, against } => {
            println!("== this build ==");
            footprint::measure(&binaries)?;
            if let Some(dir) = against {
                println!("== against {} ==", dir.display());
                footprint::measure(&dir)?;
            }
            Ok(())
        }
    }
}
