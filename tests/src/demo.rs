//! The app's demo mode, as a person trying it sees it: `session-warden --demo` on a private
//! desktop. Shared by the test of the build (`desktop_app.rs`) and the test of the installed
//! Debian package (`package.rs`), which runs it on `/usr/bin/session-warden`.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;

use crate::desktop::Desktop;
use crate::driver::Driver;
use crate::files_containing;
use crate::tray::TrayMenu;
use crate::ui::{
    UI_TIMEOUT, overview_rows, save_screenshot, shown, wait_for_text, window_screenshot,
};
use crate::wait::{wait_until, wait_until_async};

/// Starts `app --demo` and checks that:
/// - its window opens by itself;
/// - the window says it is a demo and lists both demo accounts' devices (the mock's
///   scenario signs in three near Berlin on the web service, and on the Home Assistant the
///   iOS app, a browser and a Node-RED token; plus our own session on each);
/// - the tray's menu says it is a demo;
/// - nothing reaches the keyring, and the made-up password no file;
/// - the demo keeps its files in a home of its own under the app's data directory, and no
///   history in the person's own home;
/// - Quit in the tray stops the mock server and removes the demo's home.
///
/// With `screenshots` (a test's scratch directory), the demo's window is saved as `demo.png`.
pub async fn check(
    desktop: &Desktop,
    app: &Path,
    screenshots: Option<&Path>,
) -> anyhow::Result<()> {
    let data = desktop.root().join("data").join("session-warden");
    let driver = Driver::start(
        desktop,
        &[("WARDEN_LOG", "debug".into())],
        &desktop.root().join("app.log"),
    )?;
    let client = driver.launch(app, &["--demo"]).await?;

    let banner = shown(&client, "#demo-banner").await?.text().await?;
    assert!(
        banner.contains("Demo") && banner.contains("made-up account"),
        "{banner}"
    );
    assert_eq!(client.title().await?, "Session Warden — Demo");
    wait_for_text(&client, "#account-list", "Demo (RTC Collector)").await?;
    wait_for_text(&client, "#account-list", "Demo home (Home Assistant)").await?;
    // Two accounts: the window opens on every account's sessions at once. Four on the web
    // service and four tokens on the Home Assistant, ours among each.
    let devices = wait_until_async("the demo's eight sessions", UI_TIMEOUT, || async {
        let rows = overview_rows(&client).await;
        (rows.len() >= 8).then_some(rows)
    })
    .await?;
    for device in [
        "Safari on a phone",
        "Home Assistant app on iOS",
        "Long-lived token · Node-RED",
    ] {
        assert!(devices.iter().any(|d| d == device), "{device}: {devices:?}");
    }
    // The demo's home, made under a loose umask, is the person's alone like any other.
    let open = crate::open_to_others(&data);
    assert!(open.is_empty(), "open to others: {open:?}");
    if let Some(dir) = screenshots {
        save_screenshot(dir, &window_screenshot(&client).await?, "demo.png")?;
    }

    let tray = TrayMenu::find(desktop, UI_TIMEOUT)?;
    let layout = tray.layout()?;
    let server = layout
        .split("Demo mode: made-up accounts on ")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .with_context(|| format!("the tray does not say it is a demo:\n{layout}"))?
        .to_owned();
    let address = server
        .trim_start_matches("http://")
        .parse::<std::net::SocketAddr>()
        .with_context(|| format!("the demo names no server: {server:?}"))?;

    // Its own home under the app's data directory, holding the ledger while it runs; the
    // person's own home holds none.
    let demo_homes = data.join("demo");
    let homes: Vec<_> = std::fs::read_dir(&demo_homes)
        .with_context(|| format!("no demo home in {}", demo_homes.display()))?
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(homes.len(), 1, "{homes:?}");
    assert!(
        homes[0].join("warden.db").exists(),
        "no ledger in {homes:?}"
    );
    assert!(
        !data.join("warden.db").exists(),
        "the demo wrote the person's own history"
    );
    let keyring = desktop.run(
        "secret-tool",
        &["search", "--all", "service", "session-warden"],
    )?;
    assert!(
        keyring.trim().is_empty(),
        "the demo wrote to the keyring:\n{keyring}"
    );
    let leaks = files_containing(desktop.root(), b"demo-password");
    assert!(
        leaks.is_empty(),
        "the demo password is written in {leaks:?}"
    );

    // Quit: the mock stops and the demo's home goes.
    tray.click(tray.item_after("Open Session Warden", "Quit")?)?;
    wait_until(
        "the demo's home to be removed",
        Duration::from_secs(20),
        || (!homes[0].exists()).then_some(()),
    )?;
    wait_until(
        "the demo's mock server to stop",
        Duration::from_secs(20),
        || std::net::TcpStream::connect(address).is_err().then_some(()),
    )?;
    drop(client);
    Ok(())
}
