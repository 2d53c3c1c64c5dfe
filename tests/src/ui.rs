//! Driving Session Warden's window: the few steps every end-to-end test takes.

use std::path::PathBuf;
use std::time::Duration;

use fantoccini::{Client, Locator};

use crate::wait::wait_until_async;

pub const UI_TIMEOUT: Duration = Duration::from_secs(30);

/// The devices listed in the sessions table, top to bottom.
pub async fn rows(client: &Client) -> Vec<String> {
    devices_in(client, "#session-rows tr").await
}

/// The devices of every account's sessions on one screen (the overview), as listed.
pub async fn overview_rows(client: &Client) -> Vec<String> {
    devices_in(client, "#overview-rows tr").await
}

async fn devices_in(client: &Client, rows: &str) -> Vec<String> {
    let Ok(rows) = client.find_all(Locator::Css(rows)).await else {
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

/// Waits until exactly `n` sessions are listed; returns their devices.
pub async fn wait_for_rows(client: &Client, n: usize) -> anyhow::Result<Vec<String>> {
    wait_until_async(
        &format!("{n} sessions in the window"),
        UI_TIMEOUT,
        || async {
            let rows = rows(client).await;
            (rows.len() == n).then_some(rows)
        },
    )
    .await
}

/// How many entries the history timeline lists: of one kind of event, or (`None`) all.
pub async fn history_entries(client: &Client, kind: Option<&str>) -> anyhow::Result<usize> {
    let css = match kind {
        Some(kind) => format!("#history-list li[data-kind='{kind}']"),
        None => "#history-list li".to_owned(),
    };
    Ok(client.find_all(Locator::Css(&css)).await?.len())
}

/// An element once it is shown: the window's views start hidden until their data is in.
pub async fn shown(client: &Client, css: &str) -> anyhow::Result<fantoccini::elements::Element> {
    wait_until_async(&format!("{css} to be shown"), UI_TIMEOUT, || async {
        let element = client.find(Locator::Css(css)).await.ok()?;
        element
            .is_displayed()
            .await
            .ok()
            .filter(|shown| *shown)
            .map(|_| element)
    })
    .await
}

/// Types into a field (after clearing it).
pub async fn fill(client: &Client, id: &str, text: &str) -> anyhow::Result<()> {
    let field = shown(client, &format!("#{id}")).await?;
    field.clear().await?;
    field.send_keys(text).await?;
    Ok(())
}

pub async fn click(client: &Client, css: &str) -> anyhow::Result<()> {
    shown(client, css).await?.click().await?;
    Ok(())
}

/// Waits for an element's text to contain `needle`; returns the text. On a timeout, says
/// what the element said instead.
pub async fn wait_for_text(client: &Client, css: &str, needle: &str) -> anyhow::Result<String> {
    let seen = std::sync::Mutex::new(None::<String>);
    let found = wait_until_async(&format!("{css} to say {needle:?}"), UI_TIMEOUT, || async {
        let text = client
            .find(Locator::Css(css))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        *seen.lock().unwrap_or_else(|p| p.into_inner()) = Some(text.clone());
        text.contains(needle).then_some(text)
    })
    .await;
    found.map_err(|e| {
        let seen = seen.lock().unwrap_or_else(|p| p.into_inner());
        anyhow::anyhow!("{e}; it says {seen:?}")
    })
}

/// Fills the add-account form and submits it.
pub async fn add_account(
    client: &Client,
    url: &str,
    login: &str,
    password: Option<&str>,
    label: &str,
) -> anyhow::Result<()> {
    fill(client, "add-url", url).await?;
    fill(client, "add-login", login).await?;
    if let Some(password) = password {
        fill(client, "add-password", password).await?;
    }
    fill(client, "add-label", label).await?;
    click(client, "#add-submit").await
}

/// A screenshot of the window, taken twice: WebKit's first capture of a WebDriver session
/// can come back blank, and a capture can cost seconds (the window renders without GPU
/// layers), so the second one is kept.
pub async fn window_screenshot(client: &Client) -> anyhow::Result<Vec<u8>> {
    client.screenshot().await?;
    Ok(client.screenshot().await?)
}

/// Saves a screenshot under the test target's scratch directory (`CARGO_TARGET_TMPDIR`,
/// which only a test binary knows: hence the macro) and, with `WARDEN_SCREENSHOTS_DIR`,
/// for the README.
#[macro_export]
macro_rules! screenshot {
    ($png:expr, $name:expr) => {
        $crate::ui::save_screenshot(
            std::path::Path::new(env!("CARGO_TARGET_TMPDIR")),
            $png,
            $name,
        )
    };
}

pub fn save_screenshot(scratch: &std::path::Path, png: &[u8], name: &str) -> anyhow::Result<()> {
    let mut dirs = vec![scratch.join("screenshots")];
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

/// Runs a test on `desktop`; if it fails, prints the end of the app's log (`app.log` under
/// the desktop's root), so a failure seen only in CI explains itself.
pub async fn run_logged<F: Future<Output = anyhow::Result<()>>>(
    desktop: &crate::Desktop,
    test: F,
) -> anyhow::Result<()> {
    let result = test.await;
    if result.is_err() {
        print_log_tail(&desktop.root().join("app.log"));
    }
    result
}

fn print_log_tail(log: &std::path::Path) {
    let log = std::fs::read_to_string(log).unwrap_or_default();
    let tail: Vec<&str> = log.lines().rev().take(60).collect();
    eprintln!("--- app log (last 60 lines) ---");
    for line in tail.into_iter().rev() {
        eprintln!("{line}");
    }
}

/// Keys as WebDriver names them.
pub const TAB: char = '\u{E004}';
pub const ENTER: char = '\u{E007}';
pub const SPACE: char = '\u{E00D}';

/// One key pressed and released, as a keyboard sends it to whatever has the focus.
pub async fn press(client: &Client, key: char) -> anyhow::Result<()> {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    client.perform_actions(keys).await?;
    Ok(())
}

/// Presses Tab until `target` has the keyboard's focus, as a person without a mouse does;
/// fails when it never does, or when the focus it lands on cannot be seen.
pub async fn tab_to(
    client: &Client,
    target: &fantoccini::elements::Element,
    what: &str,
) -> anyhow::Result<()> {
    let target = serde_json::to_value(target)?;
    for _ in 0..80 {
        let focused = client
            .execute(
                "return arguments[0] === document.activeElement",
                vec![target.clone()],
            )
            .await?;
        if focused == serde_json::Value::Bool(true) {
            let outline = client
                .execute(
                    "return getComputedStyle(document.activeElement).outlineStyle",
                    vec![],
                )
                .await?;
            anyhow::ensure!(
                outline != serde_json::json!("none"),
                "the keyboard's focus on {what} cannot be seen"
            );
            return Ok(());
        }
        press(client, TAB).await?;
    }
    anyhow::bail!("Tab never reached {what}")
}
