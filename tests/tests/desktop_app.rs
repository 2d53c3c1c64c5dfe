//! The desktop app end to end, on the real window through WebDriver, with the real
//! keyring, notification daemon and HTTP stack against `warden-mock`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use fantoccini::{Client, Locator};
use warden_tests::Desktop;
use warden_tests::driver::Driver;
use warden_tests::wait::wait_until_async;

const FIREFOX_LINUX: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const UI_TIMEOUT: Duration = Duration::from_secs(30);

/// The built app: `WARDEN_APP` (set by `cargo xtask test`), else the workspace's debug build.
fn app_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("WARDEN_APP") {
        return PathBuf::from(path);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    target.join("debug/session-warden")
}

struct Mock {
    server: warden_mock::MockServer,
    http: reqwest::Client,
}

impl Mock {
    async fn sign_in_device(&self, user_agent: &str, ip: &str) -> anyhow::Result<String> {
        let response: serde_json::Value = self
            .http
            .post(self.server.url().join("__mock/sessions")?)
            .json(&serde_json::json!({
                "login": warden_mock::DEMO_LOGIN, "userAgent": user_agent, "ip": ip
            }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(response["id"].as_str().context("no id")?.to_owned())
    }

    async fn live_ids(&self) -> anyhow::Result<Vec<String>> {
        let url = self.server.url().join(&format!(
            "__mock/sessions?login={}",
            warden_mock::DEMO_LOGIN
        ))?;
        let sessions: Vec<serde_json::Value> = self
            .http
            .get(url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(sessions
            .iter()
            .filter_map(|s| s["id"].as_str().map(str::to_owned))
            .collect())
    }
}

async fn rows(client: &Client) -> Vec<String> {
    let Ok(rows) = client.find_all(Locator::Css("#session-rows tr")).await else {
        return Vec::new();
    };
    let mut devices = Vec::new();
    for row in rows {
        if let Ok(Some(device)) = row.attr("data-device").await {
            devices.push(device);
        }
    }
    devices
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if std::fs::read(&path)
                .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
            {
                found.push(path);
            }
        }
    }
    found
}

fn save_screenshot(png: &[u8], name: &str) -> anyhow::Result<()> {
    let mut dirs = vec![PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots")];
    // `cargo xtask screenshots` points this at docs/ to refresh the README's pictures.
    if let Some(dir) = std::env::var_os("WARDEN_SCREENSHOTS_DIR") {
        dirs.push(PathBuf::from(dir));
    }
    for dir in dirs {
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(name), png)?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_sign_in_is_notified_and_revoked_with_one_click_in_the_window() -> anyhow::Result<()>
{
    let app = app_binary();
    anyhow::ensure!(
        app.exists(),
        "{} is missing: run the end-to-end tests with `cargo xtask test`",
        app.display()
    );
    let desktop = Desktop::start()?;
    let mock = Mock {
        server: warden_mock::spawn().await?,
        http: reqwest::Client::new(),
    };
    // A lived-in account: two devices signed in before Session Warden is.
    mock.sign_in_device(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        "198.51.100.20",
    )
    .await?;
    mock.sign_in_device(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
        "192.0.2.44",
    )
    .await?;

    let home = desktop.subdir("warden-home")?;
    let notifications = desktop.watch_notifications()?;
    let driver = Driver::start(
        &desktop,
        &[
            ("WARDEN_HOME", home.display().to_string()),
            ("WARDEN_POLL_SECONDS", "1".into()),
            ("WARDEN_LOG", "debug".into()),
        ],
        &desktop.root().join("app.log"),
    )?;
    let client = driver.launch(&app, &["--open"]).await?;

    // First run: the window offers the add-account form.
    let password = warden_mock::DEMO_PASSWORD;
    client
        .wait()
        .at_most(UI_TIMEOUT)
        .for_element(Locator::Id("add-url"))
        .await?
        .send_keys(mock.server.hectoday_url().as_str())
        .await?;
    client
        .find(Locator::Id("add-login"))
        .await?
        .send_keys(warden_mock::DEMO_LOGIN)
        .await?;
    client
        .find(Locator::Id("add-password"))
        .await?
        .send_keys(password)
        .await?;
    client
        .find(Locator::Id("add-label"))
        .await?
        .send_keys("Demo (hectoday)")
        .await?;
    client
        .find(Locator::Id("add-submit"))
        .await?
        .click()
        .await?;

    // The sessions are listed: ours and the two devices.
    let listed = wait_until_async("the three sessions in the window", UI_TIMEOUT, || async {
        let rows = rows(&client).await;
        (rows.len() == 3).then_some(rows)
    })
    .await?;
    assert!(listed.contains(&"Safari on iOS".to_owned()), "{listed:?}");

    // The password is in the Secret Service, and in no file of the app's or the desktop's.
    let stored = desktop.run(
        "secret-tool",
        &["search", "--all", "service", "session-warden"],
    )?;
    assert!(
        stored.contains(&format!("secret = {password}")) && stored.contains("/password"),
        "the keyring should hold the password entry, it holds:\n{}",
        stored.replace(password, "<password>")
    );
    let leaks = files_containing(desktop.root(), password.as_bytes());
    assert!(leaks.is_empty(), "the password is written in {leaks:?}");

    // A device signs in: a notification names it, and it appears in the window unprompted.
    let intruder = mock.sign_in_device(FIREFOX_LINUX, "203.0.113.7").await?;
    let notify = notifications.wait_for(&["Firefox on Linux", "203.0.113.7"], UI_TIMEOUT)?;
    assert!(
        notify.contains("New sign-in on Demo (hectoday)"),
        "{notify}"
    );
    let row = client
        .wait()
        .at_most(UI_TIMEOUT)
        .for_element(Locator::Css("tr[data-device='Firefox on Linux']"))
        .await?;
    save_screenshot(&client.screenshot().await?, "sessions.png")?;

    // One click on its Revoke ends it on the server, and the row leaves the window.
    row.find(Locator::Css("button.revoke"))
        .await?
        .click()
        .await?;
    wait_until_async("the session gone from the server", UI_TIMEOUT, || async {
        mock.live_ids()
            .await
            .ok()
            .filter(|ids| !ids.contains(&intruder))
    })
    .await?;
    let gone = wait_until_async("the row gone from the window", UI_TIMEOUT, || async {
        let rows = rows(&client).await;
        (rows.len() == listed.len() && !rows.contains(&"Firefox on Linux".to_owned())).then_some(())
    })
    .await;
    if let Err(e) = gone {
        let error = client
            .find(Locator::Id("sessions-error"))
            .await?
            .text()
            .await?;
        anyhow::bail!(
            "{e}; the window lists {:?}, and says {error:?}",
            rows(&client).await
        );
    }

    client.close().await?;
    drop(driver);
    let leaks = files_containing(desktop.root(), password.as_bytes());
    assert!(
        leaks.is_empty(),
        "the password is written in {leaks:?} (the app's log included)"
    );
    Ok(())
}
