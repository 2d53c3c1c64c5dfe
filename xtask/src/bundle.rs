//! `cargo xtask bundle`: the Debian package, made by Tauri's own bundler (its CLI comes from
//! npm, pinned by `packaging/package-lock.json`). Tauri builds the app and lays out the
//! package; this adds what Tauri does not know of: the `warden` and `warden-mock` programs,
//! their manual pages and shell completions (generated from the very clap definitions the
//! programs parse with), the AppStream metadata, the copyright file, and a `Depends` line
//! computed from the libraries the three binaries link (`dpkg-shlibdeps`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail, ensure};
use serde_json::json;

use crate::setup::{self, Purpose};
use crate::{cargo, target_dir, workspace_root};

/// The app's command line: the very file the app parses with (it uses nothing but clap), so
/// its manual page and completions describe that app and no other.
#[path = "../../src-tauri/src/args.rs"]
mod app_args;

const PACKAGE: &str = "session-warden";
const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The AppStream id: the app's identifier (`tauri.conf.json`).
const APP_ID: &str = "dev.session-warden.app";
/// The sizes the icon is installed at under `/usr/share/icons/hicolor` (the source is 256).
const ICON_SIZES: &str = "16,24,32,48,64,128,256";
/// Loaded at run time (dlopen) by the tray, so no linker records it. Tauri's CLI adds its
/// package to `Depends` itself (with WebKitGTK's and GTK's, unversioned, after ours): checked
/// here against the binary's own strings, and in the package by `tests/tests/package.rs`.
const TRAY_LIBRARY: &str = "libayatana-appindicator3.so.1";

/// The three programs the package installs in `/usr/bin`.
const PROGRAMS: [&str; 3] = ["session-warden", "warden", "warden-mock"];

pub fn run() -> anyhow::Result<PathBuf> {
    setup::ensure(Purpose::Bundle)?;
    let packaging = workspace_root().join("packaging");
    check_versions(&packaging)?;
    let out = target_dir().join("package");
    let staging = out.join("staging");
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    std::fs::create_dir_all(&staging)?;

    // The app itself is built by Tauri's CLI, with the features a release of it needs.
    cargo(&[
        "build",
        "--release",
        "--package",
        "warden-cli",
        "--package",
        "warden-mock",
    ])?;
    let mut files: BTreeMap<String, PathBuf> = BTreeMap::new();
    for program in ["warden", "warden-mock"] {
        files.insert(format!("/usr/bin/{program}"), release(program));
    }
    manuals(&staging, &mut files)?;
    completions(&staging, &mut files)?;
    files.insert(
        format!("/usr/share/metainfo/{APP_ID}.metainfo.xml"),
        packaging.join("session-warden.metainfo.xml"),
    );
    files.insert(
        format!("/usr/share/doc/{PACKAGE}/copyright"),
        packaging.join("copyright"),
    );
    ip_databases(&mut files)?;
    let icons = icons(&staging)?;

    let mut config = json!({
        // Tauri names the package, its file, its desktop entry and its doc directory after
        // the product: the Debian name keeps them all lower-case and without spaces. The
        // window and the tray still say "Session Warden" (they name themselves).
        "productName": PACKAGE,
        "bundle": {
            "active": true,
            "targets": ["deb"],
            "publisher": "The Session Warden developers <maintainers@session-warden.dev>",
            "homepage": "https://example.invalid/session-warden",
            "license": "MIT OR Apache-2.0",
            "icon": icons,
            "shortDescription": "watch the login sessions of your web accounts",
            "longDescription": LONG_DESCRIPTION,
            "linux": {
                "deb": {
                    "section": "utils",
                    "priority": "optional",
                    "desktopTemplate": packaging.join("session-warden.desktop"),
                    "changelog": packaging.join("changelog"),
                    "files": files,
                    // The Secret Service keeps the passwords: the desktop's keyring.
                    "recommends": ["gnome-keyring | kwalletmanager | keepassxc"],
                }
            }
        }
    });
    let config_path = staging.join("tauri.bundle.json");
    std::fs::write(&config_path, serde_json::to_vec_pretty(&config)?)?;
    tauri(&["build", "--no-bundle", "--ci", "--config"], &config_path)?;

    config["bundle"]["linux"]["deb"]["depends"] = json!(depends(&staging)?);
    std::fs::write(&config_path, serde_json::to_vec_pretty(&config)?)?;
    tauri(
        &["bundle", "--bundles", "deb", "--ci", "--config"],
        &config_path,
    )?;

    let name = format!("{PACKAGE}_{VERSION}_{}.deb", architecture()?);
    let built = target_dir().join("release/bundle/deb").join(&name);
    let deb = out.join(&name);
    std::fs::copy(&built, &deb).with_context(|| format!("no package at {}", built.display()))?;
    let size = std::fs::metadata(&deb)?.len();
    println!(
        "xtask: {} ({:.1} MiB)",
        deb.display(),
        size as f64 / (1024.0 * 1024.0)
    );
    Ok(deb)
}

/// Tauri writes each line as it is into the control file, where lines stay under 80.
const LONG_DESCRIPTION: &str = "\
Session Warden sits in the tray and watches where your accounts on web
services are signed in: every device with its last activity and where it
is. It notifies you the moment a new or suspicious session appears, and
says why, and signs a session out with one click, checked gone by asking
the server again. Passwords stay in the system keyring (Secret Service).

It speaks SecureAuth, node-auth, hectoday, RTC Collector, Better Auth,
Matrix and django-allauth. The package also holds warden, the command line
over the same accounts and history, and warden-mock, a local server that
plays every supported API: session-warden --demo tries it on a made-up
account.";

/// The IP databases the set-up fetched (city and network of an address), with their
/// licences, where the installed app looks for them (`warden_core::geoip`: beside the
/// binary, `../share/session-warden/geoip`).
fn ip_databases(files: &mut BTreeMap<String, PathBuf>) -> anyhow::Result<()> {
    let dir = target_dir().join("geoip");
    let mut databases = 0;
    for entry in std::fs::read_dir(&dir).with_context(|| format!("no {}", dir.display()))? {
        let path = entry?.path();
        let name = path
            .file_name()
            .context("a file without a name")?
            .to_string_lossy()
            .into_owned();
        // The set-up's own record of what it fetched is no part of the data.
        if name == "installed.txt" {
            continue;
        }
        databases += usize::from(name.ends_with(".mmdb"));
        files.insert(format!("/usr/share/{PACKAGE}/geoip/{name}"), path);
    }
    ensure!(databases > 0, "no IP database in {}", dir.display());
    Ok(())
}

fn release(program: &str) -> PathBuf {
    target_dir().join("release").join(program)
}

/// The changelog, the AppStream release and the workspace must name the same version.
fn check_versions(packaging: &Path) -> anyhow::Result<()> {
    let changelog = std::fs::read_to_string(packaging.join("changelog"))?;
    ensure!(
        changelog.starts_with(&format!("{PACKAGE} ({VERSION})")),
        "packaging/changelog does not open with version {VERSION}"
    );
    let metainfo = std::fs::read_to_string(packaging.join("session-warden.metainfo.xml"))?;
    ensure!(
        metainfo.contains(&format!("<release version=\"{VERSION}\"")),
        "packaging/session-warden.metainfo.xml has no release {VERSION}"
    );
    ensure!(
        metainfo.contains(&format!("<id>{APP_ID}</id>")),
        "packaging/session-warden.metainfo.xml is not {APP_ID}"
    );
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
        }
        _ => {}
    }
    sections
}

/// A manual page for each program and each of `warden`'s subcommands (`man warden`,
/// `man warden-accounts-add`), compressed as Debian wants them.
fn manuals(staging: &Path, files: &mut BTreeMap<String, PathBuf>) -> anyhow::Result<()> {
    let pages = staging.join("man");
    let raw = staging.join("man-raw");
    std::fs::create_dir_all(&pages)?;
    std::fs::create_dir_all(&raw)?;
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
        let gz = pages.join(&name);
        gzip(&std::fs::read(&path)?, &gz)?;
        files.insert(format!("/usr/share/man/man1/{name}"), gz);
    }
    Ok(())
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

/// Bash, zsh and fish completions for the three programs, where each shell looks for the
/// completions packages install.
fn completions(staging: &Path, files: &mut BTreeMap<String, PathBuf>) -> anyhow::Result<()> {
    use clap_complete::Shell;
    let dir = staging.join("completions");
    std::fs::create_dir_all(&dir)?;
    for (program, mut command) in commands() {
        for (shell, destination) in [
            (
                Shell::Bash,
                format!("/usr/share/bash-completion/completions/{program}"),
            ),
            (
                Shell::Zsh,
                format!("/usr/share/zsh/vendor-completions/_{program}"),
            ),
            (
                Shell::Fish,
                format!("/usr/share/fish/vendor_completions.d/{program}.fish"),
            ),
        ] {
            let path = dir.join(format!("{program}.{shell}"));
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, program, &mut script);
            std::fs::write(&path, script)?;
            files.insert(destination, path);
        }
    }
    Ok(())
}

/// The app's icon at each hicolor size, made by Tauri's CLI from `icons/icon.png`.
fn icons(staging: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let dir = staging.join("icons");
    crate::run(
        Command::new(tauri_cli())
            .arg("icon")
            .arg(workspace_root().join("icons/icon.png"))
            .arg("--output")
            .arg(&dir)
            .args(["--png", ICON_SIZES]),
    )?;
    Ok(ICON_SIZES
        .split(',')
        .map(|size| dir.join(format!("{size}x{size}.png")))
        .collect())
}

fn tauri_cli() -> PathBuf {
    workspace_root().join("packaging/node_modules/.bin/tauri")
}

fn tauri(args: &[&str], config: &Path) -> anyhow::Result<()> {
    crate::run(Command::new(tauri_cli()).args(args).arg(config))
}

fn architecture() -> anyhow::Result<String> {
    let out = Command::new("dpkg")
        .arg("--print-architecture")
        .output()
        .context("cannot run dpkg")?;
    Ok(String::from_utf8(out.stdout)?.trim().to_owned())
}

/// What the three binaries link, as Debian packages (`dpkg-shlibdeps`, the tool Debian's own
/// packages get their `${shlibs:Depends}` from), with the least versions their symbols need.
fn depends(staging: &Path) -> anyhow::Result<Vec<String>> {
    // dpkg-shlibdeps wants to be run from a source package: a minimal one will do.
    let source = staging.join("shlibdeps");
    std::fs::create_dir_all(source.join("debian"))?;
    std::fs::write(
        source.join("debian/control"),
        format!("Source: {PACKAGE}\n\nPackage: {PACKAGE}\nArchitecture: any\n"),
    )?;
    let out = Command::new("dpkg-shlibdeps")
        .arg("-O")
        .args(
            PROGRAMS
                .iter()
                .map(|p| format!("-e{}", release(p).display())),
        )
        .current_dir(&source)
        .output()
        .context("cannot run dpkg-shlibdeps (dpkg-dev)")?;
    if !out.status.success() {
        bail!(
            "dpkg-shlibdeps failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let stdout = String::from_utf8(out.stdout)?;
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("shlibs:Depends="))
        .with_context(|| format!("dpkg-shlibdeps printed no dependencies: {stdout}"))?;
    let app = std::fs::read(release("session-warden"))?;
    ensure!(
        app.windows(TRAY_LIBRARY.len())
            .any(|w| w == TRAY_LIBRARY.as_bytes()),
        "the app no longer loads {TRAY_LIBRARY}, yet Tauri's CLI makes the package depend on it"
    );
    Ok(line.split(", ").map(str::to_owned).collect())
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
