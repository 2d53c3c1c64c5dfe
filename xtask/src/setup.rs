//! Installing what the project needs from the system: Debian packages (apt when root,
//! otherwise the exact `sudo` line to run), tauri-driver for the WebDriver tests, and the
//! IP databases the app ships with.

use std::process::{Command, Stdio};

use anyhow::bail;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Build and run the app on the user's own desktop.
    Demo,
    /// Build and run the app on a private virtual desktop (no display here).
    HeadlessDemo,
    /// Everything the tests start: virtual display, D-Bus, keyring, notifications, WebDriver.
    Test,
    /// The load tool the benchmarks drive the mock server with.
    Bench,
    /// Build the Debian package.
    Bundle,
}

/// To build the engine and everything on it, `warden` and `warden-tasks` included: D-Bus for
/// the keyring, found through pkg-config.
const ENGINE: &[&str] = &["build-essential", "pkg-config", "libdbus-1-dev"];

/// To build the app as well: WebKitGTK and the tray's AppIndicator.
const APP: &[&str] = &["libwebkit2gtk-4.1-dev", "libayatana-appindicator3-dev"];

/// To run on a private desktop: Xvfb, a session bus, the Secret Service, a notification
/// daemon, secret-tool to look into the keyring, gdbus to click the tray's menu and a
/// notification's actions as a desktop would.
const DESKTOP: &[&str] = &[
    "xvfb",
    "xauth",
    "dbus",
    "gnome-keyring",
    "libsecret-tools",
    "dunst",
    "libglib2.0-bin",
];

/// Only the headless demo takes a screenshot to show what it runs.
const SCREENSHOT: &[&str] = &["x11-utils", "imagemagick"];

/// An HTTP load generator.
const LOAD: &[&str] = &["wrk"];

/// WebKit's WebDriver, behind tauri-driver.
const WEBDRIVER: &[&str] = &["webkit2gtk-driver"];

/// To compute the package's `Depends` (dpkg-shlibdeps).
const PACKAGING: &[&str] = &["dpkg-dev"];

/// To check the package as Debian and desktops would, and what it installs: its manual page
/// and its bash completion.
const PACKAGE_CHECKS: &[&str] = &[
    "lintian",
    "desktop-file-utils",
    "appstream",
    "man-db",
    "bash-completion",
];

fn wanted(purpose: Purpose) -> Vec<&'static str> {
    let mut packages = ENGINE.to_vec();
    if purpose != Purpose::Bench {
        packages.extend(APP);
    }
    match purpose {
        Purpose::Demo => {}
        Purpose::HeadlessDemo => {
            packages.extend(DESKTOP);
            packages.extend(SCREENSHOT);
        }
        Purpose::Test => {
            packages.extend(DESKTOP);
            packages.extend(WEBDRIVER);
            packages.extend(PACKAGING);
            packages.extend(PACKAGE_CHECKS);
        }
        Purpose::Bundle => packages.extend(PACKAGING),
        // The mock server needs no system library, but warden-tasks, which measures it, is
        // built on the engine.
        Purpose::Bench => packages.extend(LOAD),
    }
    packages
}

pub fn ensure(purpose: Purpose) -> anyhow::Result<()> {
    if cfg!(not(target_os = "linux")) {
        println!("xtask: not Linux; install the Tauri prerequisites for your system by hand");
        return Ok(());
    }
    let mut packages = wanted(purpose);
    // The window's script is type-checked with TypeScript, and the package is made by Tauri's
    // CLI, both from npm: Node comes from Debian where the machine has none.
    if matches!(purpose, Purpose::Test | Purpose::Bundle) && !has("npm") {
        packages.extend(["nodejs", "npm"]);
    }
    // The real Synapse and django-allauth run in a virtualenv of their own.
    if purpose == Purpose::Test {
        packages.push("python3-venv");
    }
    install_packages(&packages)?;
    if matches!(purpose, Purpose::Test | Purpose::Bundle) {
        install_bundler()?;
    }
    if purpose == Purpose::Test {
        install_tauri_driver()?;
        install_typescript()?;
        install_axe()?;
        install_real_servers()?;
    }
    if purpose != Purpose::Bench {
        crate::geoip::ensure()?;
    }
    Ok(())
}

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f", "${Status}", package])
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("install ok installed"))
}

fn install_packages(packages: &[&str]) -> anyhow::Result<()> {
    if Command::new("dpkg-query")
        .arg("--version")
        .output()
        .is_err()
    {
        println!(
            "xtask: no dpkg here; make sure these (Debian names) are installed: {}",
            packages.join(" ")
        );
        return Ok(());
    }
    let missing: Vec<&str> = packages.iter().copied().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !is_root() {
        bail!(
            "missing system packages; install them with:\n\n    sudo apt-get install -y --no-install-recommends {}\n",
            missing.join(" ")
        );
    }
    println!("xtask: installing {}", missing.join(" "));
    crate::run(Command::new("apt-get").args(["update", "-qq"]))?;
    crate::run(
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn has(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// TypeScript for `tsc --noEmit` over the window's script, exactly as `typecheck/
/// package-lock.json` pins it.
fn install_typescript() -> anyhow::Result<()> {
    npm_ci(&crate::workspace_root().join("typecheck"), "TypeScript")
}

/// axe-core, which the desktop tests run in the real window on every screen, exactly as
/// `tests/a11y/package-lock.json` pins it.
fn install_axe() -> anyhow::Result<()> {
    npm_ci(
        &crate::workspace_root().join("tests").join("a11y"),
        "axe-core",
    )
}

/// `npm ci` in `dir`, exactly as its `package-lock.json` pins it, again whenever the lock
/// file changes.
fn npm_ci(dir: &std::path::Path, what: &str) -> anyhow::Result<()> {
    let lock = std::fs::read(dir.join("package-lock.json"))?;
    let stamp = dir.join("node_modules").join(".installed-lock");
    if std::fs::read(&stamp).is_ok_and(|s| s == lock) {
        return Ok(());
    }
    println!(
        "xtask: installing {what} ({}/package-lock.json)",
        dir.display()
    );
    crate::run(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(dir),
    )?;
    std::fs::write(&stamp, lock)?;
    Ok(())
}

/// Tauri's CLI, whose bundler makes the Debian package, exactly as
/// `packaging/package-lock.json` pins it.
fn install_bundler() -> anyhow::Result<()> {
    npm_ci(
        &crate::workspace_root().join("packaging"),
        "Tauri's bundler",
    )
}

/// The real servers the tests run for the APIs published on registries: the Better Auth
/// app's packages from npm; Synapse and django-allauth, and Home Assistant, from PyPI, each
/// into a virtualenv of their own (`install_venv`).
fn install_real_servers() -> anyhow::Result<()> {
    let servers = crate::workspace_root().join("tests").join("servers");
    npm_ci(&servers.join("better-auth"), "Better Auth")?;
    install_venv(
        std::path::Path::new("python3"),
        &servers.join("python"),
        "Synapse and django-allauth",
    )?;
    install_venv(
        std::path::Path::new("python3"),
        &servers.join("home-assistant"),
        "Home Assistant",
    )
}

/// A virtualenv of `python` in `dir/.venv`, exactly as `dir/requirements.lock` pins every
/// package (again whenever the lock changes). A few packages come as sources only and are
/// built with the machine's compiler.
fn install_venv(python: &std::path::Path, dir: &std::path::Path, what: &str) -> anyhow::Result<()> {
    let lock = std::fs::read(dir.join("requirements.lock"))?;
    let venv = dir.join(".venv");
    let stamp = venv.join(".installed-lock");
    if std::fs::read(&stamp).is_ok_and(|s| s == lock) {
        return Ok(());
    }
    println!(
        "xtask: installing {what} with {} ({})",
        python.display(),
        dir.join("requirements.lock").display()
    );
    let _ = std::fs::remove_dir_all(&venv);
    crate::run(Command::new(python).args(["-m", "venv"]).arg(&venv))?;
    crate::run(
        Command::new(venv.join("bin").join("pip"))
            .args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--prefer-binary",
                "-r",
            ])
            .arg(dir.join("requirements.lock")),
    )?;
    std::fs::write(&stamp, lock)?;
    Ok(())
}

fn install_tauri_driver() -> anyhow::Result<()> {
    let present = Command::new("tauri-driver")
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if present {
        return Ok(());
    }
    println!("xtask: installing tauri-driver");
    crate::cargo(&["install", "tauri-driver", "--version", "^2", "--locked"])
}
