//! The desktop app end to end, on the real window through WebDriver, with the real
//! keyring, notification daemon and HTTP stack against `warden-mock`.

use fantoccini::Locator;
use warden_tests::driver::Driver;
use warden_tests::mock::{CHROME_WINDOWS, FIREFOX_LINUX, Mock, SAFARI_IPHONE};
use warden_tests::ui::{
    UI_TIMEOUT, add_account, rows, run_logged, wait_for_text, window_screenshot,
};
use warden_tests::wait::wait_until_async;
use warden_tests::{Desktop, files_containing, workspace_binary};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_sign_in_is_notified_and_revoked_with_one_click_in_the_window() -> anyhow::Result<()>
{
    let desktop = Desktop::start()?;
    run_logged(&desktop, sign_in_notify_revoke(&desktop)).await
}

async fn sign_in_notify_revoke(desktop: &Desktop) -> anyhow::Result<()> {
    let app = workspace_binary("WARDEN_APP", "session-warden")?;
    let mock = Mock::start().await?;
    // A lived-in account: two devices signed in before Session Warden is.
    mock.sign_in_device(SAFARI_IPHONE, "198.51.100.20").await?;
    mock.sign_in_device(CHROME_WINDOWS, "192.0.2.44").await?;

    let home = desktop.subdir("warden-home")?;
    let notifications = desktop.watch_notifications()?;
    let driver = Driver::start(
        desktop,
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
    add_account(
        &client,
        &mock.hectoday_url(),
        warden_mock::DEMO_LOGIN,
        Some(password),
        "Demo (hectoday)",
    )
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
    // A device the account has never seen: the notification says so, and why.
    assert!(
        notify.contains("Suspicious sign-in on Demo (hectoday)")
            && notify.contains("A device never seen on this account"),
        "{notify}"
    );
    let row = client
        .wait()
        .at_most(UI_TIMEOUT)
        .for_element(Locator::Css("tr[data-device='Firefox on Linux']"))
        .await?;
    let mut marked = Vec::new();
    for badge in client
        .find_all(Locator::Css("#session-rows .badge.current"))
        .await?
    {
        if badge.is_displayed().await? {
            marked.push(badge);
        }
    }
    assert_eq!(
        marked.len(),
        1,
        "only the app's own session is marked as such"
    );
    // The stranger's row says why it looks wrong, as the notification did.
    let flag = row.find(Locator::Css(".badge.warn")).await?;
    assert!(
        flag.is_displayed().await?,
        "the new device is flagged suspicious"
    );
    let reasons = row.find(Locator::Css(".reasons")).await?.text().await?;
    assert!(
        reasons.contains("A device never seen on this account"),
        "{reasons}"
    );
    warden_tests::screenshot!(&window_screenshot(&client).await?, "sessions.png")?;

    // The button stays the same element while the list refreshes under it (a person's
    // pointer or focus must not lose it): hold it across a refresh, then click it.
    let button = row.find(Locator::Css("button.revoke")).await?;
    let status = client.find(Locator::Id("account-status")).await?;
    let checked = status.text().await?;
    wait_until_async("the list to refresh", UI_TIMEOUT, || async {
        status.text().await.ok().filter(|now| *now != checked)
    })
    .await?;
    let connected = client
        .execute(
            "return arguments[0].isConnected",
            vec![serde_json::to_value(&button)?],
        )
        .await?;
    assert_eq!(
        connected,
        serde_json::Value::Bool(true),
        "a refresh replaced the Revoke button instead of updating its row"
    );

    // One click on its Revoke ends it on the server, and the row leaves the window.
    button.click().await?;
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

    // An account added from a terminal while the app runs is watched and shown within
    // seconds, in the window and the tray.
    let mut cli = desktop
        .command(workspace_binary("WARDEN_CLI", "warden")?)
        .args([
            "accounts",
            "add",
            "--url",
            &mock.url(warden_mock::Dialect::NodeAuth),
            "--dialect",
            "node-auth",
            "--login",
            warden_mock::DEMO_LOGIN,
            "--label",
            "From a terminal",
            "--password-stdin",
        ])
        .env("WARDEN_HOME", &home)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    if let Some(mut stdin) = cli.stdin.take() {
        std::io::Write::write_all(&mut stdin, format!("{password}\n").as_bytes())?;
    }
    let added = cli.wait_with_output()?;
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    wait_for_text(&client, "#account-list", "From a terminal").await?;
    let tray = warden_tests::tray::TrayMenu::find(desktop, UI_TIMEOUT)?;
    wait_until_async("the tray naming the new account", UI_TIMEOUT, || async {
        tray.layout().ok().filter(|l| l.contains("From a terminal"))
    })
    .await?;

    // hectoday's session ids are the session cookies: ours and every device's are secrets.
    let cookies = mock.live_ids().await?;
    // What the window was given: its page, and every read command's answer, fetched over
    // the real IPC (events carry the same types). Session Warden's own ids, no secret.
    let answers = client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               const ipc = window.__TAURI_INTERNALS__;
               Promise.all([ipc.invoke("accounts"), ipc.invoke("history", { account: null }),
                            ipc.invoke("settings")])
                 .then((all) => done(JSON.stringify(all)), (e) => done(`failed: ${JSON.stringify(e)}`));"#,
            vec![],
        )
        .await?;
    let answers = answers.as_str().unwrap_or_default().to_owned();
    let page = client.source().await?;
    assert!(
        answers.contains("Safari on iOS") && answers.contains("Firefox on Linux"),
        "the IPC answers hold the sessions and their history: {answers}"
    );
    for (what, text) in [("an IPC answer", &answers), ("the page", &page)] {
        assert!(!text.contains(password), "the password is in {what}");
        for cookie in cookies.iter().chain([&intruder]) {
            assert!(
                !text.contains(cookie.as_str()),
                "a session cookie is in {what}"
            );
        }
    }
    client.close().await?;
    drop(driver);
    let leaks = files_containing(desktop.root(), password.as_bytes());
    assert!(
        leaks.is_empty(),
        "the password is written in {leaks:?} (the app's log included)"
    );
    for cookie in cookies.iter().chain([&intruder]) {
        let leaks = files_containing(desktop.root(), cookie.as_bytes());
        assert!(leaks.is_empty(), "a session cookie is written in {leaks:?}");
    }
    Ok(())
}

/// The summary and body of every `Notify` call that mentions `needle`, as dbus-monitor
/// printed them.
fn notified(calls: &str, needle: &str) -> Vec<(String, String)> {
    calls
        .split("method call")
        .filter(|call| call.contains("member=Notify") && call.contains(needle))
        .filter_map(|call| {
            let strings: Vec<&str> = call.split("   string \"").skip(1).collect();
            // app name, icon, summary, body: the body runs up to the actions' array.
            let summary = strings.get(2)?.trim_end().trim_end_matches('"').to_owned();
            let body = strings.get(3)?.split("\"\n   array [").next()?.to_owned();
            Some((summary, body))
        })
        .collect()
}

/// `warden watch --notify` and the app tell the desktop the same things in the same words:
/// both take them from core's notification policy. Two homes on one mock account; one stranger.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_and_watch_notify_tell_the_same_words() -> anyhow::Result<()> {
    let desktop = Desktop::start()?;
    let app = workspace_binary("WARDEN_APP", "session-warden")?;
    let cli = workspace_binary("WARDEN_CLI", "warden")?;
    let mock = Mock::start().await?;
    let notifications = desktop.watch_notifications()?;
    let homes = [desktop.subdir("app-home")?, desktop.subdir("cli-home")?];
    for home in &homes {
        let mut add = desktop
            .command(&cli)
            .args([
                "accounts",
                "add",
                "--url",
                &mock.hectoday_url(),
                "--dialect",
                "hectoday",
            ])
            .args([
                "--login",
                warden_mock::DEMO_LOGIN,
                "--label",
                "demo",
                "--password-stdin",
            ])
            .env("WARDEN_HOME", home)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()?;
        use std::io::Write;
        add.stdin
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stdin"))?
            .write_all(format!("{}\n", warden_mock::DEMO_PASSWORD).as_bytes())?;
        anyhow::ensure!(add.wait()?.success(), "the account is added");
    }
    struct Killed(std::process::Child);
    impl Drop for Killed {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _app = Killed(
        desktop
            .command(&app)
            .env("WARDEN_HOME", &homes[0])
            .env("WARDEN_POLL_SECONDS", "1")
            .spawn()?,
    );
    let _watch = Killed(
        desktop
            .command(&cli)
            .args(["watch", "--notify", "--interval", "1"])
            .env("WARDEN_HOME", &homes[1])
            .stdout(std::process::Stdio::null())
            .spawn()?,
    );
    // Both have listed the account (their baseline) once the mock has been asked a few
    // times by each.
    let control = mock.server.control();
    wait_until_async("both watchers to poll", UI_TIMEOUT, || async {
        control
            .requests()
            .await
            .ok()
            .and_then(|r| r.get("GET /hectoday/me/sessions").copied())
            .filter(|n| *n >= 6)
    })
    .await?;
    mock.sign_in_device("curl/8.5.0", "203.0.113.9").await?;
    let calls = warden_tests::wait::wait_until("a notification from each", UI_TIMEOUT, || {
        let told = notified(&notifications.text(), "Suspicious sign-in on demo");
        (told.len() >= 2).then_some(told)
    })?;
    assert_eq!(calls[0], calls[1], "the same summary and body from both");
    assert!(calls[0].1.contains("203.0.113.9"), "{calls:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_mode_says_so_keeps_nothing_and_cleans_up_after_itself() -> anyhow::Result<()> {
    let desktop = Desktop::start()?;
    let app = workspace_binary("WARDEN_APP", "session-warden")?;
    let scratch = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    run_logged(
        &desktop,
        warden_tests::demo::check(&desktop, &app, Some(scratch)),
    )
    .await
}
