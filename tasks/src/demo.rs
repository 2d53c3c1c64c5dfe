//! The demo: Session Warden against the bundled mock server, with a demo account already
//! added and a few devices already signed in. On a machine with no display it runs on a
//! private virtual desktop and saves screenshots instead.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use warden_tests::{Desktop, wait_until};

use crate::mock::{self, Banner, Running};

/// The demo watches the mock's RTC Collector API — of the web APIs, the one that says where a
/// device is, so the demo's stranger shows as what it is: a sign-in from another continent
/// minutes after the account was used near Berlin — and the same person's Home Assistant,
/// where the stranger signs in next and leaves a long-lived token behind.
const ACCOUNTS: [(&str, &str); 2] = [
    ("rtc", "Demo (RTC Collector)"),
    ("home-assistant", "Demo home (Home Assistant)"),
];

/// Runs the demo with the debug binaries in `binaries`, its home and pictures in `out`,
/// until the app quits or Ctrl-C.
pub fn run(binaries: &Path, out: &Path, private_desktop: bool) -> anyhow::Result<()> {
    // Ctrl-C reaches the app and the mock too; we stay to clean up after them.
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&interrupted);
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))?;

    let desktop = if private_desktop {
        Some(Desktop::start()?)
    } else {
        None
    };
    let command = |program: &Path| match &desktop {
        Some(desktop) => desktop.command(program),
        None => Command::new(program),
    };

    let home = out.join("home");
    if home.exists() {
        std::fs::remove_dir_all(&home)?;
    }
    std::fs::create_dir_all(&home)?;

    let (mock, root) = mock::start(
        command(&binaries.join("warden-mock")),
        &["--port", "0", "--scenario", "demo"],
        Banner::Show,
    )?;
    let warden = binaries.join("warden");
    for (dialect, label) in ACCOUNTS {
        mock::add_demo_account(command(&warden), &root, dialect, label, &home)?;
    }

    let mut app = Running(
        command(&binaries.join("session-warden"))
            .arg("--open")
            .env("WARDEN_HOME", &home)
            .env("WARDEN_POLL_SECONDS", "3")
            .spawn()
            .context("cannot start session-warden")?,
    );

    // On the private desktop the keyring is on its own bus: the CLI must be pointed at it.
    let cli_env = match &desktop {
        Some(desktop) => desktop
            .env()
            .into_iter()
            .filter(|(k, _)| *k == "DBUS_SESSION_BUS_ADDRESS")
            .map(|(k, v)| format!("{k}={v} "))
            .collect(),
        None => String::new(),
    };
    println!(
        "\nSession Warden is running, watching {} and {} on the mock server.\n\
         In about a minute the demo scenario signs a stranger in from São Paulo, minutes after\n\
         the account was used near Berlin, then into the Home Assistant, where they make a\n\
         long-lived token; watch the notifications, the tray and the window.\n\
         Or sign a device in yourself:\n\n    \
         curl -X POST {root}/__mock/sessions -H 'content-type: application/json' \\\n      \
         -d '{{\"login\":\"demo@example.com\",\"userAgent\":\"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\",\"ip\":\"203.0.113.7\"}}'\n\n\
         The CLI sees the same account:\n\n    {cli_env}WARDEN_HOME={} {} sessions\n\n\
         Quit from the tray menu, or press Ctrl-C here.\n",
        ACCOUNTS[0].1,
        ACCOUNTS[1].1,
        home.display(),
        warden.display()
    );

    if let Some(desktop) = &desktop {
        screenshot(desktop, &out.join("window.png"), Capture::Window);
    }

    // On a virtual desktop, a second picture once the scenario's stranger is in the history.
    let mut alert_shot = desktop.as_ref();
    let mut next_look = std::time::Instant::now();
    while !interrupted.load(Ordering::SeqCst) {
        if app.0.try_wait()?.is_some() {
            break;
        }
        if let Some(desktop) = alert_shot
            && std::time::Instant::now() >= next_look
        {
            next_look = std::time::Instant::now() + Duration::from_secs(2);
            let history = command(&warden)
                .arg("history")
                .env("WARDEN_HOME", &home)
                .output()?;
            if String::from_utf8_lossy(&history.stdout).contains("Impossible travel") {
                // The whole screen: the notification is part of the picture.
                screenshot(desktop, &out.join("alert.png"), Capture::Screen);
                alert_shot = None;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(app);
    // Take the demo accounts' passwords back out of the user's own keyring. A private
    // desktop's keyring goes away with it (and Ctrl-C has already stopped its D-Bus).
    if desktop.is_none() {
        for (_, label) in ACCOUNTS {
            let _ = command(&warden)
                .args(["accounts", "remove", label])
                .env("WARDEN_HOME", &home)
                .status();
        }
    }
    drop(mock);
    println!("xtask: demo stopped");
    Ok(())
}

enum Capture {
    Window,
    Screen,
}

/// On a virtual desktop nobody sees the window: save a picture of it once it is up.
fn screenshot(desktop: &Desktop, path: &Path, capture: Capture) {
    let window = wait_until("the window", Duration::from_secs(30), || {
        // Prints `xwininfo: Window id: 0x1400003 "Session Warden"` once the window exists.
        let info = desktop.run("xwininfo", &["-name", "Session Warden"]).ok()?;
        let id = info
            .split("Window id: ")
            .nth(1)?
            .split_whitespace()
            .next()?;
        Some(id.to_owned())
    });
    let Ok(window) = window else {
        println!("xtask: the window did not appear within 30 s; no screenshot");
        return;
    };
    // The page needs a moment to load and list the sessions; a demo picture may wait.
    std::thread::sleep(Duration::from_secs(3));
    let shot = path.display().to_string();
    let (what, source) = match capture {
        Capture::Window => ("the window", window.as_str()),
        Capture::Screen => ("the screen", "root"),
    };
    match desktop.run("import", &["-window", source, &shot]) {
        Ok(_) => println!("xtask: screenshot of {what} saved to {shot}"),
        Err(e) => println!("xtask: no screenshot: {e}"),
    }
}
