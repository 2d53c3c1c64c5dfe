//! The `warden` command line's definitions, shared by the binary and by what is generated
//! from them (the manual page, shell completions).
#![forbid(unsafe_code)]

pub mod args;

/// The whole command line, as clap describes it.
pub fn command() -> clap::Command {
    <args::Cli as clap::CommandFactory>::command()
}
