//! The Debian package, tested as a person gets it: checked by lintian, desktop-file-validate
//! and appstreamcli, installed with apt-get (its dependencies resolved from the Debian
//! archive), used from a shell and on a private desktop, then removed without a trace.
//!
//! It installs a package system-wide, so it needs root and the package: `cargo xtask test`,
//! as root (as in CI), builds it (`cargo xtask bundle`) and names it in `WARDEN_DEB`. Not as
//! root, this test says it cannot run and passes; as root, a missing package is a failure.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail, ensure};
use warden_tests::Desktop;
use warden_tests::ui::run_logged;

const PACKAGE: &str = "session-warden";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_package_installs_works_and_leaves_nothing_behind() -> anyhow::Result<()> {
    if !is_root() {
        eprintln!("not run: installing the package needs root (cargo xtask test as root)");
        return Ok(());
    }
    let deb = PathBuf::from(std::env::var_os("WARDEN_DEB").context(
        "WARDEN_DEB must name the package to test: cargo xtask test builds it (as root)",
    )?);
    let scratch = tempfile::tempdir()?;

    // As Debian and desktops judge a package.
    let lint = output(
        Command::new("lintian")
            .args(["--fail-on", "error", "--info"])
            .arg(&deb),
    )?;
    println!("lintian:\n{lint}");
    let unpacked = scratch.path().join("unpacked");
    output(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&unpacked))?;
    let files = files_under(&unpacked)?;
    holds_what_a_desktop_app_needs(&files)?;
    let entry = unpacked.join("usr/share/applications/session-warden.desktop");
    output(Command::new("desktop-file-validate").arg(&entry))?;
    let entry = std::fs::read_to_string(&entry)?;
    // Started from the menu, it goes to the tray; its demo is one right-click away.
    for line in [
        "Exec=session-warden\n",
        "Icon=session-warden\n",
        "Categories=System;Security;\n",
        "Exec=session-warden --demo\n",
    ] {
        ensure!(
            entry.contains(line),
            "the desktop entry lacks {line:?}:\n{entry}"
        );
    }
    output(
        Command::new("appstreamcli")
            .args(["validate", "--no-net"])
            .arg(unpacked.join("usr/share/metainfo/dev.session-warden.app.metainfo.xml")),
    )?;
    depends_on_exactly_what_it_links(&deb, &unpacked)?;
    println!(
        "{}: {} bytes, {} files",
        deb.display(),
        std::fs::metadata(&deb)?.len(),
        files.len()
    );

    // Installed as a person would.
    let installed = Installed::new(&deb)?;
    let version = format!(" {}", env!("CARGO_PKG_VERSION"));
    for program in ["warden", "session-warden", "warden-mock"] {
        let said = output(Command::new(format!("/usr/bin/{program}")).arg("--version"))?;
        ensure!(
            said.trim() == format!("{program}{version}"),
            "{program} --version says {said:?}"
        );
    }
    for page in [
        "warden",
        "warden-mock",
        "session-warden",
        "warden-accounts-add",
    ] {
        let found = output(Command::new("man").args(["-w", page]))?;
        ensure!(
            found.trim() == format!("/usr/share/man/man1/{page}.1.gz"),
            "man -w {page}: {found}"
        );
    }
    let completed = bash_completes(scratch.path(), &["warden", "acc"])?;
    println!("warden acc<TAB>: {completed:?}");
    ensure!(
        completed == ["accounts"],
        "warden acc<TAB> gives {completed:?}"
    );
    let completed = bash_completes(scratch.path(), &["warden", "policy", "x", "--id"])?;
    ensure!(
        completed == ["--idle"],
        "warden policy x --id<TAB> gives {completed:?}"
    );

    // The installed app, started on a private desktop: its demo.
    {
        let desktop = Desktop::start()?;
        let app = Path::new("/usr/bin/session-warden");
        run_logged(&desktop, warden_tests::demo::check(&desktop, app, None)).await?;
    }

    // Removed: none of its files is left.
    installed.remove()?;
    let left: Vec<String> = files
        .iter()
        .filter(|f| Path::new("/").join(f).symlink_metadata().is_ok())
        .cloned()
        .collect();
    ensure!(left.is_empty(), "left after removal: {left:?}");
    // And none of the directories that are its alone.
    for dir in ["usr/share/doc/session-warden", "usr/share/session-warden"] {
        ensure!(!Path::new("/").join(dir).exists(), "/{dir} is left");
    }
    Ok(())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// Runs a program; its stdout, or an error with all it said.
fn output(command: &mut Command) -> anyhow::Result<String> {
    let shown = format!("{command:?}");
    let out = command
        .output()
        .with_context(|| format!("cannot run {shown}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!(
            "{shown} failed ({}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(stdout)
}

/// Every file (and symlink) under `root`, relative to it.
fn files_under(root: &Path) -> anyhow::Result<BTreeSet<String>> {
    let mut files = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                stack.push(entry.path());
            } else {
                let relative = entry.path().strip_prefix(root)?.display().to_string();
                files.insert(relative);
            }
        }
    }
    Ok(files)
}

fn holds_what_a_desktop_app_needs(files: &BTreeSet<String>) -> anyhow::Result<()> {
    let mut wanted: Vec<String> = [
        "usr/bin/session-warden",
        "usr/bin/warden",
        "usr/bin/warden-mock",
        "usr/share/applications/session-warden.desktop",
        "usr/share/metainfo/dev.session-warden.app.metainfo.xml",
        "usr/share/doc/session-warden/copyright",
        "usr/share/doc/session-warden/changelog.gz",
        "usr/share/bash-completion/completions/warden",
        "usr/share/zsh/vendor-completions/_warden",
        "usr/share/fish/vendor_completions.d/warden.fish",
    ]
    .map(String::from)
    .to_vec();
    for program in ["session-warden", "warden", "warden-mock"] {
        wanted.push(format!("usr/share/man/man1/{program}.1.gz"));
    }
    for size in [16, 24, 32, 48, 64, 128, 256] {
        wanted.push(format!(
            "usr/share/icons/hicolor/{size}x{size}/apps/session-warden.png"
        ));
    }
    let missing: Vec<&String> = wanted.iter().filter(|f| !files.contains(*f)).collect();
    ensure!(
        missing.is_empty(),
        "the package lacks {missing:?}; it holds {files:#?}"
    );
    Ok(())
}

/// `Depends` names the package of every library the three binaries link, and nothing else
/// but the tray's AppIndicator (loaded at run time, so linked by no one).
fn depends_on_exactly_what_it_links(deb: &Path, unpacked: &Path) -> anyhow::Result<()> {
    let field = output(
        Command::new("dpkg-deb")
            .args(["-f"])
            .arg(deb)
            .arg("Depends"),
    )?;
    let depends: BTreeSet<String> = field
        .trim()
        .split(", ")
        .map(|d| d.split([' ', '|']).next().unwrap_or_default().to_owned())
        .collect();
    let mut linked = BTreeSet::new();
    for program in ["session-warden", "warden", "warden-mock"] {
        let dynamic = output(
            Command::new("readelf")
                .arg("-d")
                .arg(unpacked.join("usr/bin").join(program)),
        )?;
        for library in dynamic
            .lines()
            .filter(|l| l.contains("(NEEDED)"))
            .filter_map(|l| l.split('[').nth(1)?.split(']').next())
        {
            let owner = output(Command::new("dpkg").args(["-S", &format!("*/{library}")]))?;
            let package = owner
                .lines()
                .next()
                .and_then(|l| l.split(':').next())
                .with_context(|| format!("no package owns {library}"))?;
            linked.insert(package.to_owned());
        }
    }
    ensure!(
        linked.contains("libwebkit2gtk-4.1-0") && linked.contains("libgtk-3-0"),
        "the app should link WebKitGTK 4.1 and GTK 3: {linked:?}"
    );
    let unlisted: Vec<_> = linked.difference(&depends).collect();
    ensure!(
        unlisted.is_empty(),
        "linked but not in Depends: {unlisted:?} ({field})"
    );
    let mut expected = linked.clone();
    expected.insert("libayatana-appindicator3-1".into());
    let extra: Vec<_> = depends.difference(&expected).collect();
    ensure!(
        extra.is_empty(),
        "in Depends but linked by none: {extra:?} ({field})"
    );
    ensure!(
        depends.contains("libayatana-appindicator3-1"),
        "the tray's AppIndicator is not in Depends: {field}"
    );
    Ok(())
}

/// What bash completes for `words` (the last one being typed), through the completion the
/// package installed, loaded by bash-completion as an interactive shell would on <TAB>.
fn bash_completes(scratch: &Path, words: &[&str]) -> anyhow::Result<Vec<String>> {
    let line = words.join(" ");
    let script = format!(
        r#"source /usr/share/bash-completion/bash_completion
__load_completion {cmd} 2>/dev/null || _comp_load {cmd}
spec=$(complete -p {cmd}) || exit 3
fn=${{spec#*-F }}; fn=${{fn%% *}}
COMP_WORDS=({line}); COMP_CWORD={cword}; COMP_LINE="{line}"; COMP_POINT=${{#COMP_LINE}}
"$fn" {cmd} "{current}" "{previous}"
printf '%s\n' "${{COMPREPLY[@]}}""#,
        cmd = words[0],
        cword = words.len() - 1,
        current = words[words.len() - 1],
        previous = words[words.len().saturating_sub(2)],
    );
    let said = output(
        Command::new("bash")
            .args(["--norc", "--noprofile", "-c", &script])
            // Only the system's completions: none of a user's own.
            .env("HOME", scratch)
            .env("XDG_DATA_HOME", scratch.join("data")),
    )?;
    Ok(said
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect())
}

/// The package, installed; purged when dropped, so a failing test leaves no package behind.
struct Installed {
    removed: bool,
}

impl Installed {
    fn new(deb: &Path) -> anyhow::Result<Installed> {
        let installed = Installed { removed: false };
        output(
            Command::new("apt-get")
                .args(["install", "-y", "-qq"])
                .arg(deb)
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )?;
        let status = output(Command::new("dpkg-query").args(["-W", "-f", "${Status}", PACKAGE]))?;
        ensure!(status == "install ok installed", "dpkg says {status:?}");
        Ok(installed)
    }

    fn remove(mut self) -> anyhow::Result<()> {
        self.removed = true;
        purge()?;
        let gone = Command::new("dpkg-query")
            .args(["-W", "-f", "${Status}", PACKAGE])
            .output()?;
        let status = String::from_utf8_lossy(&gone.stdout);
        ensure!(
            !gone.status.success() || !status.contains("installed"),
            "still known to dpkg after purge: {status}"
        );
        Ok(())
    }
}

fn purge() -> anyhow::Result<()> {
    output(
        Command::new("apt-get")
            .args(["purge", "-y", "-qq", PACKAGE])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
    .map(drop)
}

impl Drop for Installed {
    fn drop(&mut self) {
        if !self.removed {
            let _ = purge();
        }
    }
}
