//! The desktop app end to end, on the real window through WebDriver, with the real
//! keyring, notification daemon and HTTP stack against `warden-mock`.

use fantoccini::Locator;
use warden_tests::driver::Driver;
use warden_tests::mock::{CHROME_WINDOWS, FIREFOX_LINUX, Mock, SAFARI_IPHONE};
use warden_tests::ui::{UI_TIMEOUT, add_account, rows, run_logged, window_screenshot};
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
