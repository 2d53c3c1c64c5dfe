//! The manual pages and shell completions of the three programs, generated from the very clap
//! definitions the programs parse with, laid out as the Debian package installs them:
//! `usr/share/man/man1/*.1.gz` (one page per program and per `warden` subcommand), and the
//! bash, zsh and fish completions in each shell's vendor directory.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// The app's command line: the very file the app parses with (it uses nothing but clap), so
/// its manual page and completions describe that app and no other.
#[path = "../../src-tauri/src/args.rs"]
mod app_args;

/// The three programs the package installs in `/usr/bin`.
const PROGRAMS: [&str; 3] = ["session-warden", "warden", "warden-mock"];

/// Writes every page and completion under `out`, as their paths in the package.
pub fn write(out: &Path) -> anyhow::Result<()> {
    manuals(&out.join("usr/share/man/man1"))?;
    completions(out)?;
    Ok(())
}

/// The three programs' command lines, as clap describes them.
fn commands() -> [(&'static str, clap::Command); 3] {
    [
        ("session-warden", app_args::command()),
        ("warden", warden_cli::command()),
        ("warden-mock", warden_mock::cli::command()),
    ]
}

/// What a program's page says beyond its options: its environment and its exit statuses.
fn sections(program: &str) -> Vec<(&'static str, Vec<(String, String)>)> {
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    let mut sections = Vec::new();
    match program {
        "session-warden" => sections.push(("ENVIRONMENT", pairs(app_args::ENVIRONMENT))),
        "warden" => {
            sections.push(("ENVIRONMENT", pairs(warden_cli::ENVIRONMENT)));
            let statuses = warden_cli::EXIT_STATUS
                .iter()
                .map(|(status, meaning)| (status.to_string(), (*meaning).to_owned()))
                .collect();
            sections.push(("EXIT STATUS", statuses));
            sections.push(("SESSION APIS", warden_cli::session_apis()));
        }
        _ => {}
    }
    sections
}

/// A manual page for each program and each of `warden`'s subcommands (`man warden`,
/// `man warden-accounts-add`), compressed as Debian wants them, in `pages`.
fn manuals(pages: &Path) -> anyhow::Result<()> {
    let raw = tempdir(pages)?;
    std::fs::create_dir_all(pages)?;
    for (program, command) in commands() {
        // Every subcommand's page, then the program's own, with what clap does not know.
        clap_mangen::generate_to(command.clone(), &raw)?;
        let mut page = Vec::new();
        let others: Vec<&str> = PROGRAMS.into_iter().filter(|p| *p != program).collect();
        program_page(command, &sections(program), &others, &mut page)?;
        std::fs::write(raw.join(format!("{program}.1")), page)?;
    }
    for entry in std::fs::read_dir(&raw)? {
        let path = entry?.path();
        let name = format!(
            "{}.gz",
            path.file_name()
                .context("a page without a name")?
                .to_string_lossy()
        );
        gzip(&std::fs::read(&path)?, &pages.join(&name))?;
    }
    std::fs::remove_dir_all(&raw)?;
    Ok(())
}

/// An empty directory beside `dir`, for pages before they are compressed.
fn tempdir(dir: &Path) -> anyhow::Result<std::path::PathBuf> {
    let raw = dir.with_extension("raw");
    if raw.exists() {
        std::fs::remove_dir_all(&raw)?;
    }
    std::fs::create_dir_all(&raw)?;
    Ok(raw)
}

/// clap_mangen's sections, with `extra` ones (titled lists) and SEE ALSO before the version.
fn program_page(
    command: clap::Command,
    extra: &[(&str, Vec<(String, String)>)],
    see_also: &[&str],
    out: &mut Vec<u8>,
) -> anyhow::Result<()> {
    let man = clap_mangen::Man::new(command.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    if command.has_subcommands() {
        man.render_subcommands_section(out)?;
    }
    for (title, items) in extra {
        writeln!(out, ".SH \"{title}\"")?;
        for (term, text) in items {
            writeln!(out, ".TP\n\\fB{}\\fR\n{}", roff(term), roff(text))?;
        }
    }
    let references: Vec<String> = see_also
        .iter()
        .map(|page| format!("\\fB{}\\fR(1)", roff(page)))
        .collect();
    writeln!(out, ".SH \"SEE ALSO\"\n{}", references.join(", "))?;
    man.render_version_section(out)?;
    Ok(())
}

/// Text as roff reads it: backslashes and hyphens escaped, and no line taken for a request.
fn roff(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    match escaped.chars().next() {
        Some('.' | '\'') => format!("\\&{escaped}"),
        _ => escaped,
    }
}

/// Maximum compression and no timestamp in the header, so the same page makes the same
/// bytes (lintian asks for both).
fn gzip(bytes: &[u8], to: &Path) -> anyhow::Result<()> {
    let file = std::fs::File::create(to)?;
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(file, flate2::Compression::best());
    gz.write_all(bytes)?;
    gz.finish()?;
    Ok(())
}

/// Bash, zsh and fish completions for the three programs, under `out` where each shell looks
/// for the completions packages install.
fn completions(out: &Path) -> anyhow::Result<()> {
    use clap_complete::Shell;
    for (program, mut command) in commands() {
        for (shell, destination) in [
            (
                Shell::Bash,
                format!("usr/share/bash-completion/completions/{program}"),
            ),
            (
                Shell::Zsh,
                format!("usr/share/zsh/vendor-completions/_{program}"),
            ),
            (
                Shell::Fish,
                format!("usr/share/fish/vendor_completions.d/{program}.fish"),
            ),
        ] {
            let path = out.join(destination);
            std::fs::create_dir_all(path.parent().context("a path with a parent")?)?;
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, program, &mut script);
            std::fs::write(&path, script)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(program: &str) -> String {
        let (_, command) = commands()
            .into_iter()
            .find(|(p, _)| *p == program)
            .expect("one of ours");
        let others: Vec<&str> = PROGRAMS.into_iter().filter(|p| *p != program).collect();
        let mut out = Vec::new();
        program_page(command, &sections(program), &others, &mut out).expect("renders");
        String::from_utf8(out).expect("text")
    }

    #[test]
    fn warden_s_page_explains_its_environment_and_every_exit_status() {
        let page = page("warden");
        assert!(page.starts_with(".ie"), "{page}");
        assert!(page.contains(".TH warden 1"), "{page}");
        assert!(
            page.contains(".SH \"ENVIRONMENT\"\n.TP\n\\fBWARDEN_HOME\\fR\n"),
            "{page}"
        );
        for (status, _) in warden_cli::EXIT_STATUS {
            assert!(page.contains(&format!(".TP\n\\fB{status}\\fR\n")), "{page}");
        }
        // Every API, with what it keeps and who signs in again where that is not the usual.
        let apis = page
            .split(".SH \"SESSION APIS\"")
            .nth(1)
            .unwrap_or_default();
        let listed = warden_cli::session_apis();
        assert_eq!(listed.len(), 9, "{listed:?}");
        for (name, _) in listed {
            let name = name.replace('-', "\\-");
            assert!(apis.contains(&format!("\\fB{name}\\fR")), "{name}: {apis}");
        }
        assert!(
            apis.contains("Home Assistant keeps no browser or system for a sign\\-in")
                && apis.contains("never signs in there again by itself"),
            "{apis}"
        );
        assert!(
            page.contains(
                ".SH \"SEE ALSO\"\n\\fBsession\\-warden\\fR(1), \\fBwarden\\-mock\\fR(1)"
            ),
            "{page}"
        );
    }

    #[test]
    fn the_app_s_page_has_its_options_and_no_hidden_one() {
        let page = page("session-warden");
        assert!(
            page.contains("\\-\\-demo") && page.contains("\\-\\-open"),
            "{page}"
        );
        assert!(!page.contains("automation"), "{page}");
    }

    #[test]
    fn roff_takes_no_text_for_a_request_or_an_escape() {
        assert_eq!(roff(".hidden"), "\\&.hidden");
        assert_eq!(roff("a\\b-c"), "a\\eb\\-c");
    }
}

#[cfg(test)]
mod layout {
    #[test]
    fn every_page_and_completion_lands_where_the_package_installs_it() {
        let out = tempfile::tempdir().expect("a temp dir");
        super::write(out.path()).expect("writes");
        for path in [
            "usr/share/man/man1/session-warden.1.gz",
            "usr/share/man/man1/warden.1.gz",
            "usr/share/man/man1/warden-accounts-add.1.gz",
            "usr/share/man/man1/warden-mock.1.gz",
            "usr/share/bash-completion/completions/warden",
            "usr/share/zsh/vendor-completions/_session-warden",
            "usr/share/fish/vendor_completions.d/warden-mock.fish",
        ] {
            assert!(out.path().join(path).is_file(), "{path} was not written");
        }
        assert!(
            !out.path().join("usr/share/man/man1.raw").exists(),
            "the uncompressed pages are left behind"
        );
    }
}
