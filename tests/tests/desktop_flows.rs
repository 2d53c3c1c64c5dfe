//! The desktop app's everyday flows on the real window (WebDriver), the real tray menu
//! (dbusmenu over D-Bus) and real notifications (their actions over D-Bus), against
//! `warden-mock`: adding accounts with a password or a one-time code, revoking, signing
//! out the others, trusting, the history and its export, settings across a restart, and
//! removing an account with its keyring entry.

use std::path::Path;

use fantoccini::{Client, Locator};
use serde_json::json;
use warden_mock::{DEMO_LOGIN, DEMO_PASSWORD, DEMO_PHONE, DEMO_TOTP_LOGIN, Dialect};
use warden_tests::driver::Driver;
use warden_tests::mock::{CHROME_WINDOWS, FIREFOX_LINUX, Mock, SAFARI_IPHONE};
use warden_tests::tray::TrayMenu;
use warden_tests::ui::{
    ENTER, SPACE, UI_TIMEOUT, add_account, click, fill, history_entries, press, run_logged, shown,
    tab_to, wait_for_rows, wait_for_text, window_screenshot,
};
use warden_tests::wait::wait_until_async;
use warden_tests::{Desktop, a11y, files_containing, workspace_binary};

fn start_driver(desktop: &Desktop, home: &Path) -> anyhow::Result<Driver> {
    Driver::start(
        desktop,
        &[
            ("WARDEN_HOME", home.display().to_string()),
            ("WARDEN_POLL_SECONDS", "1".into()),
            ("WARDEN_LOG", "debug".into()),
        ],
        &desktop.root().join("app.log"),
    )
}

/// What the keyring holds for Session Warden, as `secret-tool` lists it (nothing: "").
fn keyring_entries(desktop: &Desktop) -> String {
    desktop
        .run(
            "secret-tool",
            &["search", "--all", "service", "session-warden"],
        )
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secureauth_account_from_code_to_removal() -> anyhow::Result<()> {
    let desktop = Desktop::start()?;
    run_logged(&desktop, secureauth_flow(&desktop)).await
}

async fn secureauth_flow(desktop: &Desktop) -> anyhow::Result<()> {
    let app = workspace_binary("WARDEN_APP", "session-warden")?;
    let mock = Mock::start().await?;
    mock.sign_in_device_as(DEMO_PHONE, SAFARI_IPHONE, "198.51.100.20")
        .await?;
    mock.sign_in_device_as(DEMO_PHONE, CHROME_WINDOWS, "192.0.2.44")
        .await?;
    let home = desktop.subdir("warden-home")?;
    let driver = start_driver(desktop, &home)?;
    let client = driver.launch(&app, &["--open"]).await?;

    // The URL is enough to tell the API; SecureAuth has no password, only a texted code.
    fill(&client, "add-url", &mock.url(Dialect::SecureAuth)).await?;
    client.find(Locator::Id("add-login")).await?.click().await?; // the URL's change event
    wait_for_text(&client, "#add-detected", "Detected: SecureAuth").await?;
    let password_shown = client
        .find(Locator::Id("add-password"))
        .await?
        .is_displayed()
        .await?;
    assert!(!password_shown, "SecureAuth asks for no password");
    fill(&client, "add-login", DEMO_PHONE).await?;
    fill(&client, "add-label", "Phone (SecureAuth)").await?;
    warden_tests::screenshot!(&window_screenshot(&client).await?, "add-account.png")?;
    click(&client, "#add-submit").await?;

    // The code step: the window asks, the mock "texted" it.
    wait_for_text(&client, "#code-question", "Code sent to +1555").await?;
    let code = wait_until_async("the mock to text a code", UI_TIMEOUT, || async {
        mock.code_sent_to(DEMO_PHONE).await.ok().flatten()
    })
    .await?;
    fill(&client, "code-input", &code).await?;
    click(&client, "#code-submit").await?;
    let listed = wait_for_rows(&client, 3).await?;
    assert!(
        listed.contains(&"Chrome on Windows".to_owned()),
        "{listed:?}"
    );
    let stored = keyring_entries(desktop);
    assert!(
        stored.contains("/session"),
        "the session token is in the keyring:\n{stored}"
    );

    // A name of one's own for a device, kept with it.
    click(&client, "tr[data-device='Safari on iOS'] button.rename").await?;
    let name = shown(&client, "tr[data-device='Safari on iOS'] .rename-input").await?;
    name.send_keys("My phone\u{E007}").await?;
    wait_for_text(
        &client,
        "tr[data-device='Safari on iOS'] .label",
        "My phone",
    )
    .await?;

    // "It's me" on the Chrome row: trusted, and the history says so.
    click(&client, "tr[data-device='Chrome on Windows'] button.trust").await?;
    wait_for_text(&client, "#sessions-note", "is trusted").await?;

    // Sign out all others, behind a confirmation: only our session is left, on the server too.
    click(&client, "#sign-out-others").await?;
    click(&client, "#confirm-yes").await?;
    wait_until_async("only our session on the server", UI_TIMEOUT, || async {
        mock.live_ids_of(DEMO_PHONE)
            .await
            .ok()
            .filter(|ids| ids.len() == 1)
    })
    .await?;
    wait_for_rows(&client, 1).await?;
    wait_for_text(&client, "#sessions-note", "Signed out 2 other devices").await?;

    // The history keeps what the server no longer shows; it exports to a file.
    click(&client, "#show-history").await?;
    wait_until_async("the ended sessions in the history", UI_TIMEOUT, || async {
        let ended = history_entries(&client, Some("ended")).await.ok()?;
        // The watcher records them on its next poll; the open timeline follows.
        (ended >= 2).then_some(())
    })
    .await?;
    let trusted = history_entries(&client, Some("trusted")).await?;
    assert_eq!(trusted, 1, "one device was trusted");
    warden_tests::screenshot!(&window_screenshot(&client).await?, "history.png")?;
    click(&client, "#export-csv").await?;
    let saved = wait_for_text(&client, "#history-note", "Saved to ").await?;
    let path = saved.trim_start_matches("Saved to ").trim();
    let csv = std::fs::read_to_string(path)?;
    // The export holds the history too: the person's alone, as the home and all in it.
    for dir in [std::path::Path::new(path), &home] {
        let open = warden_tests::open_to_others(dir);
        assert!(open.is_empty(), "open to others: {open:?}");
    }
    assert!(
        csv.contains("Chrome on Windows") && csv.contains("trusted"),
        "{csv}"
    );
    // The timeline filters by kind of event.
    client
        .find(Locator::Css("#history-kind option[value='trusted']"))
        .await?
        .click()
        .await?;
    wait_until_async("only the trusted event listed", UI_TIMEOUT, || async {
        let listed = history_entries(&client, None).await.ok()?;
        let trusted = history_entries(&client, Some("trusted")).await.ok()?;
        (listed == 1 && trusted == 1).then_some(())
    })
    .await?;

    // Settings hold across a restart.
    click(&client, "#show-settings").await?;
    wait_until_async("the settings loaded", UI_TIMEOUT, || async {
        let poll = client.find(Locator::Id("set-poll")).await.ok()?;
        poll.prop("value").await.ok()?.filter(|v| v == "15")
    })
    .await?;
    fill(&client, "set-poll", "45").await?;
    fill(&client, "set-home", "pt, de").await?;
    click(&client, "#set-login").await?;
    click(&client, "#settings-save").await?;
    if let Err(e) = wait_for_text(&client, "#settings-note", "Saved").await {
        let said = client
            .find(Locator::Id("settings-error"))
            .await?
            .text()
            .await?;
        anyhow::bail!("{e}; the settings say {said:?}");
    }
    // Start at login is the desktop's autostart entry (XDG), written on save.
    let autostart = desktop.root().join("config").join("autostart");
    let entries = std::fs::read_dir(&autostart)
        .map(|d| d.flatten().map(|e| e.path()).collect::<Vec<_>>())
        .unwrap_or_default();
    assert!(
        entries
            .iter()
            .any(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains("session-warden"))),
        "no autostart entry for the app in {}: {entries:?}",
        autostart.display()
    );
    client.close().await?;
    drop(driver);
    let driver = start_driver(desktop, &home)?;
    let client = driver.launch(&app, &["--open"]).await?;
    wait_for_rows(&client, 1).await?;
    click(&client, "#show-settings").await?;
    let poll = wait_until_async("the saved interval", UI_TIMEOUT, || async {
        let poll = client.find(Locator::Id("set-poll")).await.ok()?;
        poll.prop("value")
            .await
            .ok()?
            .filter(|v| v != "15" && !v.is_empty())
    })
    .await?;
    assert_eq!(poll, "45");
    let countries = client
        .find(Locator::Id("set-home"))
        .await?
        .prop("value")
        .await?;
    assert_eq!(countries.as_deref(), Some("PT, DE"));
    let starts_at_login = client
        .find(Locator::Id("set-login"))
        .await?
        .prop("checked")
        .await?;
    assert_eq!(starts_at_login.as_deref(), Some("true"));

    // The service ends our own session: SecureAuth needs a new texted code, which only the
    // person can give. The account says so, and "Sign in again" asks for it.
    let ours = mock.live_ids_of(DEMO_PHONE).await?;
    let first_code = mock.code_sent_to(DEMO_PHONE).await?;
    let notifications = desktop.watch_notifications()?;
    for id in &ours {
        mock.end_session(id).await?;
    }
    // Watching has stopped: the person is told at once, not left to notice the tray.
    notifications.wait_for(
        &[
            "Sign in again to keep watching Phone (SecureAuth)",
            "warden accounts login",
            "go unnoticed",
        ],
        UI_TIMEOUT,
    )?;
    click(&client, "#account-list button[data-health='needs-sign-in']").await?;
    click(&client, "#reauth-submit").await?;
    wait_for_text(&client, "#code-question", "Code sent to +1555").await?;
    let code = wait_until_async("a new code texted", UI_TIMEOUT, || async {
        mock.code_sent_to(DEMO_PHONE)
            .await
            .ok()
            .flatten()
            .filter(|c| Some(c) != first_code.as_ref())
    })
    .await?;
    fill(&client, "code-input", &code).await?;
    click(&client, "#code-submit").await?;
    shown(&client, "#account-list button[data-health='ok']").await?;
    if let Err(e) = wait_for_text(&client, "#sessions-note", "Signed in again").await {
        // What the window said instead, so a failure seen only in CI explains itself.
        let error = client.find(Locator::Id("sessions-error")).await?;
        let said = error.attr("textContent").await?.unwrap_or_default();
        anyhow::bail!("{e}; the window's error line holds {said:?}");
    }
    notifications.wait_for(&["Phone (SecureAuth) is watched again"], UI_TIMEOUT)?;
    // SecureAuth signs in for 7 days from the code: the account says until when.
    wait_for_text(&client, "#account-meta", "signed in until").await?;

    // Removing the account signs it out and deletes its keyring entry.
    let account_button = client.find(Locator::Css("#account-list button")).await?;
    account_button.click().await?;
    click(&client, "#remove-account").await?;
    click(&client, "#confirm-yes").await?;
    client
        .wait()
        .at_most(UI_TIMEOUT)
        .for_element(Locator::Css("#add-view:not([hidden])"))
        .await?;
    let stored = keyring_entries(desktop);
    assert!(
        !stored.contains("/session") && !stored.contains("/password"),
        "the keyring still holds:\n{stored}"
    );
    wait_until_async(
        "our session signed out on the server",
        UI_TIMEOUT,
        || async {
            mock.live_ids_of(DEMO_PHONE)
                .await
                .ok()
                .filter(|ids| ids.is_empty())
        },
    )
    .await?;
    client.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_from_a_notification_and_from_the_tray_menu() -> anyhow::Result<()> {
    let desktop = Desktop::start()?;
    run_logged(&desktop, notification_and_tray(&desktop)).await
}

async fn notification_and_tray(desktop: &Desktop) -> anyhow::Result<()> {
    let app = workspace_binary("WARDEN_APP", "session-warden")?;
    let mock = Mock::start().await?;
    let home = desktop.subdir("warden-home")?;
    let notifications = desktop.watch_notifications()?;
    let driver = start_driver(desktop, &home)?;
    let client: Client = driver.launch(&app, &["--open"]).await?;
    add_account(
        &client,
        &mock.hectoday_url(),
        DEMO_LOGIN,
        Some(DEMO_PASSWORD),
        // An ampersand, which menus on some desktops take for a mnemonic marker.
        "Course & Co",
    )
    .await?;
    wait_for_rows(&client, 1).await?;

    // A stranger signs in: the notification's [Revoke], delivered as the desktop would
    // deliver it, ends that session on the server.
    let intruder = mock.sign_in_device(FIREFOX_LINUX, "203.0.113.7").await?;
    let id = notifications.id_of(&["Firefox on Linux", "203.0.113.7"], UI_TIMEOUT)?;
    let call = notifications.wait_for(&["Firefox on Linux"], UI_TIMEOUT)?;
    assert!(
        call.contains("\"revoke\"") && call.contains("\"trust\""),
        "the notification offers Revoke and It's me:\n{call}"
    );
    emit_action(desktop, id, "revoke")?;
    wait_until_async(
        "the notified session gone from the server",
        UI_TIMEOUT,
        || async {
            mock.live_ids()
                .await
                .ok()
                .filter(|ids| !ids.contains(&intruder))
        },
    )
    .await?;
    notifications.wait_for(&["Signed out Firefox on Linux"], UI_TIMEOUT)?;

    // Another one: its Revoke in the tray menu (account → session → Revoke) ends it.
    let second = mock.sign_in_device(CHROME_WINDOWS, "192.0.2.44").await?;
    // A click on its notification's body brings the window to that session.
    let id = notifications.id_of(&["Chrome on Windows", "192.0.2.44"], UI_TIMEOUT)?;
    emit_action(desktop, id, "default")?;
    client
        .wait()
        .at_most(UI_TIMEOUT)
        .for_element(Locator::Css("tr.focused[data-device='Chrome on Windows']"))
        .await?;
    let tray = TrayMenu::find(desktop, UI_TIMEOUT)?;
    wait_until_async("the session in the tray menu", UI_TIMEOUT, || async {
        tray.item_after("Chrome on Windows", "Revoke").ok()
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}; the menu is:\n{:?}", tray.layout()))?;
    let layout = tray.layout()?;
    for item in [
        "Course & Co",
        "Sign out all other devices",
        "Pause notifications for 1 hour (alerts still show)",
        "Open Session Warden",
        "Quit",
    ] {
        assert!(
            layout.contains(item),
            "the tray menu lacks {item:?}:\n{layout}"
        );
    }
    tray.click_until("Chrome on Windows", "Revoke", UI_TIMEOUT, || async {
        mock.live_ids()
            .await
            .is_ok_and(|ids| !ids.contains(&second))
    })
    .await?;
    // "Pause notifications for 1 hour" becomes "Resume notifications (paused until …)", and
    // back.
    let menu_says = |text: &'static str| {
        let tray = &tray;
        move || async move { tray.layout().is_ok_and(|l| l.contains(text)) }
    };
    let others = "Sign out all other devices";
    let paused = menu_says("Resume notifications (paused until");
    tray.click_until(others, "Pause notifications for 1 hour", UI_TIMEOUT, paused)
        .await?;
    let resumed = menu_says("Pause notifications for 1 hour");
    tray.click_until(others, "Resume notifications", UI_TIMEOUT, resumed)
        .await?;
    wait_for_rows(&client, 1).await?;

    // A burst (a script signing in three times) is one notification, not three.
    let mut scripts = Vec::new();
    for (agent, ip) in [
        ("curl/8.5.0", "203.0.113.50"),
        ("python-requests/2.31.0", "203.0.113.51"),
        ("Wget/1.21", "203.0.113.52"),
    ] {
        scripts.push(mock.sign_in_device(agent, ip).await?);
    }
    let burst = notifications.wait_for(&["3 sign-ins", "203.0.113.50"], UI_TIMEOUT)?;
    let singles = notifications
        .text()
        .split("method call")
        .filter(|c| c.contains("member=Notify") && c.contains("203.0.113.51"))
        .count();
    assert_eq!(singles, 1, "the burst came as one notification:\n{burst}");

    // From the keyboard alone: Tab to the curl row's Revoke (focus visible on the way), Enter.
    // (hectoday names devices from its own parse of the agent: the row is found by address.)
    wait_for_rows(&client, 4).await?;
    let target = client
        .find(Locator::XPath(
            "//tr[td[normalize-space()='203.0.113.50']]//button[contains(@class,'revoke')]",
        ))
        .await?;
    tab_to(&client, &target, "the curl row's Revoke").await?;
    press(&client, ENTER).await?;
    wait_until_async(
        "the session revoked from the keyboard",
        UI_TIMEOUT,
        || async {
            mock.live_ids()
                .await
                .ok()
                .filter(|ids| !ids.contains(&scripts[0]))
        },
    )
    .await?;

    // Someone signs in claiming an "address" made of markup: hectoday keeps the first
    // X-Forwarded-For entry as the client sent it. The notification (which the desktop reads
    // as markup, links included) and the window both show it as the text it is, marked as no
    // address.
    let claimed = r#"<a href="https://evil.example/">Reset your password</a>"#;
    let login = reqwest::Client::new()
        .post(format!(
            "{}/login",
            mock.hectoday_url().trim_end_matches('/')
        ))
        .header("user-agent", CHROME_WINDOWS)
        .header("x-forwarded-for", claimed)
        .json(&json!({ "email": DEMO_LOGIN, "password": DEMO_PASSWORD }))
        .send()
        .await?;
    anyhow::ensure!(
        login.status().is_success(),
        "hectoday login: {}",
        login.status()
    );
    let call = notifications.wait_for(&["Reset your password"], UI_TIMEOUT)?;
    assert!(
        call.contains(r#"&lt;a href="https://evil.example/"&gt;Reset your password&lt;/a&gt;"#)
            && !call.contains("<a href"),
        "the claimed address goes to the desktop escaped:\n{call}"
    );
    client
        .wait()
        .at_most(UI_TIMEOUT)
        .for_element(Locator::XPath(&format!(
            "//tbody[@id='session-rows']//td[normalize-space()='{claimed} (not an IP address)']"
        )))
        .await?;
    let links = client.find_all(Locator::Css("#session-rows a")).await?;
    assert!(
        links.is_empty(),
        "the window made a link of a server's text"
    );
    client.close().await?;
    Ok(())
}

/// What the desktop sends when the person clicks a notification's action (`default`: its body).
fn emit_action(desktop: &Desktop, id: u32, action: &str) -> anyhow::Result<()> {
    desktop.run(
        "gdbus",
        &[
            "emit",
            "--session",
            "--object-path",
            "/org/freedesktop/Notifications",
            "--signal",
            "org.freedesktop.Notifications.ActionInvoked",
            &format!("uint32 {id}"),
            &format!("'{action}'"),
        ],
    )?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_auth_and_rtc_accounts_are_added_with_a_password_and_a_totp_code() -> anyhow::Result<()>
{
    let desktop = Desktop::start()?;
    run_logged(&desktop, password_apis(&desktop)).await
}

async fn password_apis(desktop: &Desktop) -> anyhow::Result<()> {
    let app = workspace_binary("WARDEN_APP", "session-warden")?;
    let mock = Mock::start().await?;
    let home = desktop.subdir("warden-home")?;
    let driver = start_driver(desktop, &home)?;
    let client = driver.launch(&app, &["--open"]).await?;
    for (dialect, detected, login, label) in [
        (
            Dialect::NodeAuth,
            "Detected: node-auth",
            DEMO_LOGIN,
            "Work (node-auth)",
        ),
        (
            Dialect::Rtc,
            "Detected: RTC Collector",
            "demo",
            "Collector (RTC)",
        ),
    ] {
        if client.find(Locator::Css("#add-view[hidden]")).await.is_ok() {
            click(&client, "#show-add").await?;
        }
        fill(&client, "add-url", &mock.url(dialect)).await?;
        client.find(Locator::Id("add-login")).await?.click().await?;
        wait_for_text(&client, "#add-detected", detected).await?;
        // node-auth's one refresh token per user: what watching costs is said up front.
        let caveat = client.find(Locator::Id("add-caveat")).await?;
        if dialect == Dialect::NodeAuth {
            wait_for_text(&client, "#add-caveat", "one refresh token per user").await?;
        } else {
            assert!(!caveat.is_displayed().await?, "no caveat for {dialect:?}");
        }
        fill(&client, "add-login", login).await?;
        fill(&client, "add-password", DEMO_PASSWORD).await?;
        fill(&client, "add-label", label).await?;
        click(&client, "#add-submit").await?;
        // Listed, with our own session among the devices.
        wait_for_text(&client, "#account-title", label).await?;
        if dialect == Dialect::NodeAuth {
            wait_for_text(&client, "#account-caveat", "admin API").await?;
        }
        client
            .wait()
            .at_most(UI_TIMEOUT)
            .for_element(Locator::Css("#session-rows .badge.current:not([hidden])"))
            .await?;
    }
    // An account with two-factor sign-in: the window asks for the authenticator's code.
    click(&client, "#show-add").await?;
    fill(&client, "add-url", &mock.url(Dialect::NodeAuth)).await?;
    fill(&client, "add-login", DEMO_TOTP_LOGIN).await?;
    fill(&client, "add-password", DEMO_PASSWORD).await?;
    fill(&client, "add-label", "Admin (node-auth, 2FA)").await?;
    click(&client, "#add-submit").await?;
    wait_for_text(&client, "#code-question", "authenticator app").await?;
    fill(
        &client,
        "code-input",
        &mock.totp_code(DEMO_TOTP_LOGIN).await?,
    )
    .await?;
    click(&client, "#code-submit").await?;
    wait_for_text(&client, "#account-title", "Admin (node-auth, 2FA)").await?;
    let sidebar = client
        .find(Locator::Id("account-list"))
        .await?
        .text()
        .await?;
    assert!(
        sidebar.contains("Work (node-auth)")
            && sidebar.contains("Collector (RTC)")
            && sidebar.contains("Admin (node-auth, 2FA)"),
        "{sidebar}"
    );
    let stored = keyring_entries(desktop);
    assert_eq!(
        stored.matches("/password").count(),
        3,
        "one password per account in the keyring:\n{}",
        stored.replace(DEMO_PASSWORD, "<password>")
    );
    client.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn better_auth_matrix_allauth_and_home_assistant_accounts_are_added_from_the_window()
-> anyhow::Result<()> {
    let desktop = Desktop::start()?;
    run_logged(&desktop, widely_used_apis(&desktop)).await
}

async fn widely_used_apis(desktop: &Desktop) -> anyhow::Result<()> {
    let app = workspace_binary("WARDEN_APP", "session-warden")?;
    let mock = Mock::start().await?;
    let home = desktop.subdir("warden-home")?;
    // A Better Auth device whose live token every listing hands out.
    let device = mock
        .sign_in_via(
            Dialect::BetterAuth,
            DEMO_LOGIN,
            "curl/8.5.0",
            "198.51.100.77",
        )
        .await?;
    let token = device.credentials.access_token.unwrap_or_default();
    let raw = token.split('.').next().unwrap_or_default().to_owned();
    anyhow::ensure!(raw.len() >= 16, "a token to look for");
    let driver = start_driver(desktop, &home)?;
    let client = driver.launch(&app, &["--open"]).await?;
    for (dialect, detected, login, label) in [
        (
            Dialect::BetterAuth,
            "Detected: Better Auth",
            DEMO_LOGIN,
            "Shop (Better Auth)",
        ),
        (Dialect::Matrix, "Detected: Matrix", "demo", "Chat (Matrix)"),
        (
            Dialect::Allauth,
            "Detected: django-allauth",
            DEMO_LOGIN,
            "Forum (allauth)",
        ),
        (
            Dialect::HomeAssistant,
            "Detected: Home Assistant",
            "demo",
            "Home (Home Assistant)",
        ),
    ] {
        if client.find(Locator::Css("#add-view[hidden]")).await.is_ok() {
            click(&client, "#show-add").await?;
        }
        fill(&client, "add-url", &mock.url(dialect)).await?;
        client.find(Locator::Id("add-login")).await?.click().await?;
        wait_for_text(&client, "#add-detected", detected).await?;
        fill(&client, "add-login", login).await?;
        fill(&client, "add-password", DEMO_PASSWORD).await?;
        fill(&client, "add-label", label).await?;
        click(&client, "#add-submit").await?;
        wait_for_text(&client, "#account-title", label).await?;
        client
            .wait()
            .at_most(UI_TIMEOUT)
            .for_element(Locator::Css("#session-rows .badge.current:not([hidden])"))
            .await?;
    }
    // Home Assistant's iOS app signs in: named from its client id, and what HA does not
    // keep is said on hover.
    mock.sign_in_via(
        Dialect::HomeAssistant,
        DEMO_LOGIN,
        warden_mock::home_assistant::IOS_APP,
        "198.51.100.88",
    )
    .await?;
    let phone = client
        .wait()
        .at_most(UI_TIMEOUT)
        .for_element(Locator::Css("tr[data-device='Home Assistant app on iOS']"))
        .await?;
    let mut hovers = Vec::new();
    for cell in phone.find_all(Locator::Css("td")).await? {
        hovers.push(cell.attr("title").await?.unwrap_or_default());
    }
    assert!(
        hovers
            .iter()
            .any(|h| h.contains("Home Assistant keeps no browser or system")),
        "{hovers:?}"
    );
    // What the window is told over IPC never holds another session's token.
    let answers = client
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             const { invoke } = window.__TAURI__.core; \
             Promise.all([invoke('accounts'), invoke('history', {})]) \
               .then((all) => done(JSON.stringify(all)), (e) => done(String(e)));",
            vec![],
        )
        .await?;
    let answers = answers.as_str().unwrap_or_default();
    assert!(
        answers.contains("198.51.100.77"),
        "the device is listed: {answers}"
    );
    assert!(!answers.contains(&raw), "a session token crossed IPC");
    assert!(
        files_containing(&home, raw.as_bytes()).is_empty(),
        "a session token is in a file of the home"
    );
    client.close().await?;
    Ok(())
}

/// Ann, on RTC Collector, beside the demo user on hectoday.
const ANN: &str = "ann@example.com";

/// The other sessions of `two_people`, by their ids on the mock.
struct People {
    firefox: String,
    chrome: String,
    iphone: String,
}

/// The demo user signed in on Firefox (203.0.113.10) and Chrome (203.0.113.11) on hectoday,
/// and Ann on her iPhone (203.0.113.20) on RTC Collector.
async fn two_people(mock: &Mock) -> anyhow::Result<People> {
    mock.create_user(ANN, DEMO_PASSWORD).await?;
    Ok(People {
        firefox: mock
            .sign_in_device_as(DEMO_LOGIN, FIREFOX_LINUX, "203.0.113.10")
            .await?,
        chrome: mock
            .sign_in_device_as(DEMO_LOGIN, CHROME_WINDOWS, "203.0.113.11")
            .await?,
        iphone: mock
            .sign_in_via(Dialect::Rtc, ANN, SAFARI_IPHONE, "203.0.113.20")
            .await?
            .id,
    })
}

/// Adds each account in the window, as a person does, one after the other.
async fn add_accounts(
    client: &Client,
    mock: &Mock,
    accounts: &[(Dialect, &str, &str)],
) -> anyhow::Result<()> {
    for &(dialect, login, label) in accounts {
        if client.find(Locator::Css("#add-view[hidden]")).await.is_ok() {
            click(client, "#show-add").await?;
        }
        add_account(
            client,
            &mock.url(dialect),
            login,
            Some(DEMO_PASSWORD),
            label,
        )
        .await?;
        wait_for_text(client, "#account-title", label).await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_account_on_one_screen_filtered_and_two_sessions_signed_out_together()
-> anyhow::Result<()> {
    let desktop = Desktop::start()?;
    run_logged(&desktop, overview(&desktop)).await
}

async fn overview(desktop: &Desktop) -> anyhow::Result<()> {
    let app = workspace_binary("WARDEN_APP", "session-warden")?;
    let mock = Mock::start().await?;
    let People {
        firefox,
        chrome,
        iphone,
    } = two_people(&mock).await?;
    let home = desktop.subdir("warden-home")?;
    let driver = start_driver(desktop, &home)?;
    let client = driver.launch(&app, &["--open"]).await?;
    // Three accounts on two APIs.
    add_accounts(
        &client,
        &mock,
        &[
            (Dialect::Hectoday, DEMO_LOGIN, "Home (hectoday)"),
            (Dialect::Rtc, ANN, "Ann (RTC)"),
            (Dialect::Hectoday, DEMO_TOTP_LOGIN, "Lab (hectoday)"),
        ],
    )
    .await?;
    click(&client, "#show-overview").await?;
    // Every session of every account, ours included (not selectable): 3 devices, 3 ours.
    let rows = |n: usize| {
        let client = client.clone();
        async move {
            wait_until_async("the overview's rows", UI_TIMEOUT, || async {
                let rows = client
                    .find_all(Locator::Css("#overview-rows tr"))
                    .await
                    .ok()?;
                (rows.len() == n).then_some(())
            })
            .await
        }
    };
    rows(6).await?;
    let row_box = |ip: &str| {
        Locator::XPath(Box::leak(
            format!("//tbody[@id='overview-rows']/tr[td[contains(., '{ip}')]]//input")
                .into_boxed_str(),
        ))
    };
    // Filtered by account, then by "suspicious" (nothing here is).
    client
        .find(Locator::Id("overview-account"))
        .await?
        .select_by_label("Ann (RTC)")
        .await?;
    rows(2).await?;
    client
        .find(Locator::Id("overview-account"))
        .await?
        .select_by_label("All accounts")
        .await?;
    rows(6).await?;
    click(&client, "#overview-suspicious").await?;
    rows(0).await?;
    click(&client, "#overview-suspicious").await?;
    rows(6).await?;
    // Two sessions of two accounts on two APIs, signed out together. The pointer rests on the
    // table first, as a person's does before they click: rows then hold their places although
    // our own sessions' activity moves at every poll.
    {
        use fantoccini::actions::{InputSource, MouseActions, PointerAction};
        let table = client.find(Locator::Css("table.overview")).await?;
        let rest = MouseActions::new("mouse".into()).then(PointerAction::MoveToElement {
            element: table,
            duration: None,
            x: 0.0,
            y: 0.0,
        });
        client.perform_actions(rest).await?;
        wait_until_async("the pointer over the overview", UI_TIMEOUT, || async {
            let over = client
                .execute(
                    "return document.querySelector('table.overview').matches(':hover')",
                    vec![],
                )
                .await
                .ok()?;
            (over == serde_json::Value::Bool(true)).then_some(())
        })
        .await?;
    }
    client.find(row_box("203.0.113.10")).await?.click().await?;
    client.find(row_box("203.0.113.20")).await?.click().await?;
    wait_for_text(&client, "#overview-sign-out", "Sign out 2 selected").await?;
    warden_tests::screenshot!(&window_screenshot(&client).await?, "overview.png")?;
    click(&client, "#overview-sign-out").await?;
    let asked = client
        .find(Locator::Id("confirm-text"))
        .await?
        .text()
        .await?;
    assert!(
        asked.contains("203.0.113.10")
            && asked.contains("203.0.113.20")
            && asked.contains("Ann (RTC)"),
        "the confirmation names what will end: {asked}"
    );
    click(&client, "#confirm-yes").await?;
    wait_until_async("both gone on the server", UI_TIMEOUT, || async {
        let demo = mock.live_ids_of(DEMO_LOGIN).await.ok()?;
        let anns = mock.live_ids_of(ANN).await.ok()?;
        (!demo.contains(&firefox) && !anns.contains(&iphone)).then_some(())
    })
    .await?;
    assert!(
        mock.live_ids_of(DEMO_LOGIN).await?.contains(&chrome),
        "only the chosen end"
    );
    rows(4).await?;

    // The idle policy, set in the window: what it would end is shown before it is saved.
    client
        .find(Locator::Css("#account-list button[data-account-id]"))
        .await?
        .click()
        .await?;
    client
        .find(Locator::Css("#idle-policy summary"))
        .await?
        .click()
        .await?;
    client
        .find(Locator::Id("idle-after"))
        .await?
        .select_by_label("a week")
        .await?;
    wait_for_text(&client, "#idle-preview", "It would sign out nothing now").await?;
    click(&client, "#idle-save").await?;
    wait_for_text(&client, "#sessions-note", "Idle policy on").await?;
    wait_for_text(&client, "#idle-state", "after a week").await?;
    client.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_and_a_failing_server_are_explained_and_lose_nothing() -> anyhow::Result<()> {
    let desktop = Desktop::start()?;
    run_logged(&desktop, failures(&desktop)).await
}

async fn failures(desktop: &Desktop) -> anyhow::Result<()> {
    let app = workspace_binary("WARDEN_APP", "session-warden")?;
    let mut mock = Mock::start().await?;
    let phone = mock.sign_in_device(SAFARI_IPHONE, "198.51.100.20").await?;
    let home = desktop.subdir("warden-home")?;
    let driver = start_driver(desktop, &home)?;
    let client = driver.launch(&app, &["--open"]).await?;

    // A wrong password: said so, nothing kept, and what was typed (but the password) stays.
    add_account(
        &client,
        &mock.hectoday_url(),
        DEMO_LOGIN,
        Some("not-the-password"),
        "Demo",
    )
    .await?;
    wait_for_text(&client, "#add-error", "The server rejected the sign-in of").await?;
    assert_eq!(
        keyring_entries(desktop),
        "",
        "a refused password is not kept"
    );
    for (field, typed) in [
        ("add-url", mock.hectoday_url()),
        ("add-login", DEMO_LOGIN.into()),
    ] {
        let value = client.find(Locator::Id(field)).await?.prop("value").await?;
        assert_eq!(value.as_deref(), Some(typed.as_str()), "#{field} kept");
    }

    // A server that is not there: said so, in words.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let nowhere = format!("http://{closed}/hectoday/");
    add_account(&client, &nowhere, DEMO_LOGIN, Some(DEMO_PASSWORD), "Demo").await?;
    wait_for_text(&client, "#add-error", "Cannot reach").await?;
    assert_eq!(keyring_entries(desktop), "");

    // Plain http:// to another machine (TEST-NET-1): said, and asked, before anything is
    // sent; were it sent, the error would be "Cannot reach".
    add_account(
        &client,
        "http://192.0.2.10/hectoday/",
        DEMO_LOGIN,
        Some(DEMO_PASSWORD),
        "Demo",
    )
    .await?;
    wait_for_text(&client, "#add-transport", "plain http://").await?;
    wait_for_text(&client, "#add-error", "Nothing was sent").await?;
    assert_eq!(keyring_entries(desktop), "");

    // Then the right one: listed.
    add_account(
        &client,
        &mock.hectoday_url(),
        DEMO_LOGIN,
        Some(DEMO_PASSWORD),
        "Demo",
    )
    .await?;
    let listed = wait_for_rows(&client, 2).await?;

    // The server fails in three ways while watched: each is named, the list stays.
    let control = mock.server.control();
    for (fault, said) in [
        (
            json!({"route": "/hectoday/me/sessions", "method": "GET", "status": 500}),
            "the server answered 500",
        ),
        (
            json!({"route": "/hectoday/me/sessions", "method": "GET", "body": "malformed"}),
            "could not be understood",
        ),
        (
            json!({"route": "/hectoday/me/sessions", "method": "GET", "sizeMb": 12.0}),
            "larger than 4 MiB",
        ),
    ] {
        control.add_fault(&serde_json::from_value(fault)?).await?;
        wait_for_text(&client, "#account-status", said).await?;
        wait_for_text(&client, "#account-list", "Cannot check since").await?;
        assert_eq!(wait_for_rows(&client, 2).await?, listed, "the list is kept");
        control.clear_faults().await?;
        wait_for_text(&client, "#account-status", "Checked").await?;
    }

    // A revoke the server fails: said so, and the row stays until the server agrees.
    control
        .add_fault(&serde_json::from_value(json!({
            "route": "/hectoday/me/sessions", "method": "DELETE", "status": 503
        }))?)
        .await?;
    click(&client, "tr[data-device='Safari on iOS'] button.revoke").await?;
    wait_for_text(&client, "#sessions-error", "503").await?;
    assert!(mock.live_ids().await?.contains(&phone));
    assert_eq!(wait_for_rows(&client, 2).await?, listed);
    control.clear_faults().await?;
    click(&client, "tr[data-device='Safari on iOS'] button.revoke").await?;
    wait_for_rows(&client, 1).await?;
    assert!(!mock.live_ids().await?.contains(&phone));

    // The server goes away: named, and the app carries on (its history says what happened).
    mock.server.stop().await;
    wait_for_text(&client, "#account-status", "cannot reach").await?;
    click(&client, "#show-history").await?;
    wait_until_async("the outages in the history", UI_TIMEOUT, || async {
        let outages = history_entries(&client, Some("stale")).await.ok()?;
        (outages >= 4).then_some(())
    })
    .await?;
    client.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_screen_passes_axe_and_its_me_revoke_and_the_overview_work_from_the_keyboard()
-> anyhow::Result<()> {
    let desktop = Desktop::start()?;
    run_logged(&desktop, accessible(&desktop)).await
}

/// The element a locator finds, once it is there.
async fn found(
    client: &Client,
    xpath: &'static str,
) -> anyhow::Result<fantoccini::elements::Element> {
    wait_until_async(xpath, UI_TIMEOUT, || async {
        client.find(Locator::XPath(xpath)).await.ok()
    })
    .await
}

async fn accessible(desktop: &Desktop) -> anyhow::Result<()> {
    let app = workspace_binary("WARDEN_APP", "session-warden")?;
    let mock = Mock::start().await?;
    let People {
        firefox,
        chrome,
        iphone,
    } = two_people(&mock).await?;
    let home = desktop.subdir("warden-home")?;
    let driver = start_driver(desktop, &home)?;
    let client = driver.launch(&app, &["--open"]).await?;

    // The first screen of a new person: adding an account.
    shown(&client, "#add-view").await?;
    wait_for_text(&client, "#add-dialect", "Better Auth").await?;
    a11y::check(&client, "add account").await?;
    add_accounts(
        &client,
        &mock,
        &[
            (Dialect::Hectoday, DEMO_LOGIN, "Home (hectoday)"),
            (Dialect::Rtc, ANN, "Ann (RTC)"),
        ],
    )
    .await?;

    // One account's sessions, with its idle panel open.
    click(&client, "#account-list button[data-account-id]").await?;
    wait_for_text(&client, "#account-title", "Home (hectoday)").await?;
    wait_for_rows(&client, 3).await?;
    a11y::check(&client, "sessions").await?;
    client
        .find(Locator::Css("#idle-policy summary"))
        .await?
        .click()
        .await?;
    shown(&client, "#idle-after").await?;
    a11y::check(&client, "sessions, with the idle panel open").await?;
    // The defence's panel: core's three choices, each with what it does; one is picked.
    wait_for_text(&client, "#defence-state", "Sign out after 2 minutes").await?;
    client
        .find(Locator::Css("#defence-policy summary"))
        .await?
        .click()
        .await?;
    shown(&client, "#defence-choices input[type=radio]").await?;
    a11y::check(&client, "sessions, with the defence's panel open").await?;
    click(&client, "#defence-0").await?;
    wait_for_text(&client, "#defence-state", "Tell me").await?;

    // It's me and Revoke, from the keyboard alone.
    let trust = found(
        &client,
        "//tbody[@id='session-rows']/tr[td[normalize-space()='203.0.113.10']]//button[contains(@class,'trust')]",
    )
    .await?;
    tab_to(&client, &trust, "Firefox's It's me").await?;
    press(&client, ENTER).await?;
    wait_for_text(&client, "#sessions-note", "is trusted").await?;
    let revoke = found(
        &client,
        "//tbody[@id='session-rows']/tr[td[normalize-space()='203.0.113.11']]//button[contains(@class,'revoke')]",
    )
    .await?;
    tab_to(&client, &revoke, "Chrome's Revoke").await?;
    press(&client, ENTER).await?;
    wait_until_async("Chrome revoked from the keyboard", UI_TIMEOUT, || async {
        let live = mock.live_ids().await.ok()?;
        (!live.contains(&chrome) && live.contains(&firefox)).then_some(())
    })
    .await?;
    wait_for_rows(&client, 2).await?;

    // Every account on one screen: a session selected with Space, signed out with Enter.
    click(&client, "#show-overview").await?;
    shown(&client, "#overview-view").await?;
    let iphone_box = found(
        &client,
        "//tbody[@id='overview-rows']/tr[td[contains(., '203.0.113.20')]]//input",
    )
    .await?;
    a11y::check(&client, "every account").await?;
    tab_to(&client, &iphone_box, "the iPhone's checkbox").await?;
    press(&client, SPACE).await?;
    wait_for_text(&client, "#overview-sign-out", "Sign out 1 selected").await?;
    let sign_out = client.find(Locator::Id("overview-sign-out")).await?;
    tab_to(&client, &sign_out, "Sign out selected").await?;
    press(&client, ENTER).await?;
    let yes = found(
        &client,
        "//dialog[@id='confirm']//button[@id='confirm-yes']",
    )
    .await?;
    a11y::check(&client, "the confirmation").await?;
    tab_to(&client, &yes, "the confirmation's Sign out").await?;
    press(&client, ENTER).await?;
    wait_until_async(
        "the iPhone signed out from the keyboard",
        UI_TIMEOUT,
        || async {
            let live = mock.live_ids().await.ok()?;
            (!live.contains(&iphone)).then_some(())
        },
    )
    .await?;
    wait_for_text(&client, "#overview-note", "Signed out 1 session").await?;

    // The history and the settings.
    click(&client, "#show-history").await?;
    shown(&client, "#history-view").await?;
    wait_until_async("the history's entries", UI_TIMEOUT, || async {
        (history_entries(&client, None).await.ok()? > 0).then_some(())
    })
    .await?;
    a11y::check(&client, "history").await?;
    click(&client, "#show-settings").await?;
    shown(&client, "#settings-view").await?;
    // The default defence for accounts added from now on, in core's words.
    wait_for_text(&client, "#default-defence", "Sign out after 2 minutes").await?;
    a11y::check(&client, "settings").await?;
    client.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copied_session_counts_down_and_both_actions_work_from_the_notification()
-> anyhow::Result<()> {
    let desktop = Desktop::start()?;
    run_logged(&desktop, countdown(&desktop)).await
}

/// A session of Ann's that was used at TU Berlin and, seconds later, from a São Paulo home
/// line (both placed by the shipped IP data): one session in two places no one travels
/// between, a copied cookie. Returns its id on the mock.
async fn copied_cookie(mock: &Mock, agent: &str) -> anyhow::Result<String> {
    let control = mock.server.control();
    let id = mock
        .sign_in_via(Dialect::Rtc, ANN, agent, "130.149.7.201")
        .await?
        .id;
    control.record_activity(&id, Some("130.149.7.201")).await?;
    Ok(id)
}

/// Waits until the sessions table holds `text`, in any column (a narrow window hides some
/// from view, not from the page).
async fn listed_with(client: &Client, text: &'static str) -> anyhow::Result<()> {
    wait_until_async(
        &format!("{text} in the sessions table"),
        UI_TIMEOUT,
        || async {
            let all = client
                .execute(
                    "return document.getElementById('session-rows').textContent",
                    vec![],
                )
                .await
                .ok()?;
            all.as_str().is_some_and(|t| t.contains(text)).then_some(())
        },
    )
    .await
}

async fn countdown(desktop: &Desktop) -> anyhow::Result<()> {
    let app = workspace_binary("WARDEN_APP", "session-warden")?;
    let cli = workspace_binary("WARDEN_CLI", "warden")?;
    let mock = Mock::start().await?;
    mock.create_user(ANN, DEMO_PASSWORD).await?;
    let control = mock.server.control();
    // Both used at TU Berlin before the watching begins: the first listing knows them.
    let laptop = copied_cookie(&mock, FIREFOX_LINUX).await?;
    let phone = copied_cookie(&mock, SAFARI_IPHONE).await?;
    let home = desktop.subdir("warden-home")?;
    let notifications = desktop.watch_notifications()?;
    let driver = start_driver(desktop, &home)?;
    let client = driver.launch(&app, &["--open"]).await?;
    add_accounts(&client, &mock, &[(Dialect::Rtc, ANN, "Ann (RTC)")]).await?;
    // Seen at TU Berlin first: where the rules measure the jump from.
    wait_for_rows(&client, 3).await?;
    listed_with(&client, "Berlin").await?;
    // A short wait, set from a terminal on the same home: the app reads it from the ledger.
    let set = desktop
        .command(&cli)
        .env("WARDEN_HOME", &home)
        .args(["defence", "Ann (RTC)", "--wait", "10s"])
        .output()?;
    anyhow::ensure!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );

    // The cookie is used from São Paulo: a countdown, with It's me and Sign out now.
    control
        .record_activity(&laptop, Some("189.100.20.3"))
        .await?;
    let id = notifications.id_of(&["Signing out", "in 10 seconds"], UI_TIMEOUT)?;
    let call = notifications.wait_for(&["Signing out"], UI_TIMEOUT)?;
    assert!(
        call.contains("\"trust\"") && call.contains("\"sign-out-now\""),
        "the countdown offers It's me and Sign out now:\n{call}"
    );
    wait_for_text(&client, "#sign-out-list", "Signing out").await?;
    warden_tests::screenshot!(&window_screenshot(&client).await?, "defence.png")?;
    // Sign out now: gone on the server, and the countdown becomes "Signed out …" in place.
    emit_action(desktop, id, "sign-out-now")?;
    wait_until_async("the copied session gone", UI_TIMEOUT, || async {
        mock.live_ids_of(ANN)
            .await
            .ok()
            .filter(|ids| !ids.contains(&laptop))
    })
    .await?;
    let done = notifications.wait_for(&["Signed out", "saw it gone"], UI_TIMEOUT)?;
    assert!(
        done.contains(&format!("uint32 {id}")),
        "the outcome replaces the countdown (replaces_id {id}):\n{done}"
    );

    // Another copied cookie: It's me cancels the sign-out and trusts the device.
    control
        .record_activity(&phone, Some("189.100.20.3"))
        .await?;
    let id = notifications.id_of(&["Signing out", "Safari"], UI_TIMEOUT)?;
    emit_action(desktop, id, "trust")?;
    wait_until_async("the pending sign-out cancelled", UI_TIMEOUT, || async {
        let shown = desktop
            .command(&cli)
            .env("WARDEN_HOME", &home)
            .args(["defence", "Ann (RTC)"])
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&shown.stdout).into_owned();
        (shown.status.success() && !text.contains("pending:")).then_some(())
    })
    .await?;
    wait_until_async("the window's pending sign-out gone", UI_TIMEOUT, || async {
        client.find(Locator::Css("#sign-outs[hidden]")).await.ok()
    })
    .await?;
    assert!(
        mock.live_ids_of(ANN).await?.contains(&phone),
        "It's me keeps it signed in"
    );
    client.close().await?;
    Ok(())
}
