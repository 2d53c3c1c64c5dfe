//! node-auth: our session by the token's sid, refresh, a refresh token taken by a login elsewhere, the admin API, and a storm of refreshes.

use super::*;

#[tokio::test]
async fn node_auth_marks_our_session_by_the_tokens_sid() {
    let w = world(DEMO_LOGIN).await;
    let account = w.add(Dialect::NodeAuth, DEMO_LOGIN).await.expect("added");
    w.device(Dialect::Hectoday, IPHONE, "198.51.100.20").await;
    let snapshot = w.accounts.snapshot(&account).await.expect("lists");
    assert_eq!(snapshot.sessions.len(), 2);
    assert_eq!(snapshot.sessions.iter().filter(|s| s.is_current).count(), 1);
    let phone = snapshot
        .sessions
        .iter()
        .find(|s| !s.is_current)
        .expect("phone");
    assert_eq!(phone.device.label, "Safari on iOS");
    assert_eq!(phone.user_agent.as_deref(), Some(IPHONE));
    assert!(phone.expires_at.is_some());
}

#[tokio::test]
async fn node_auth_refreshes_an_expired_access_token_without_a_new_login() {
    let w = world(DEMO_LOGIN).await;
    let account = w.add(Dialect::NodeAuth, DEMO_LOGIN).await.expect("added");
    let before = w.server_side_ids().await;
    w.mock
        .control()
        .advance_clock("PT16M")
        .await
        .expect("later");
    let snapshot = w
        .accounts
        .snapshot(&account)
        .await
        .expect("lists after refresh");
    let after = w.server_side_ids().await;
    assert_eq!(after.len(), 1, "refreshed, not signed in a second time");
    assert_ne!(before, after, "the refresh rotated our handle");
    assert!(
        snapshot.sessions[0].is_current,
        "and we still know which is ours"
    );
}

#[tokio::test]
async fn node_auth_a_login_elsewhere_that_replaced_our_refresh_token_means_signing_in_again() {
    let w = world(DEMO_LOGIN).await;
    let account = w.add(Dialect::NodeAuth, DEMO_LOGIN).await.expect("added");
    // Quirk 1: another device's login replaces the user's one refresh token.
    w.device(Dialect::NodeAuth, IPHONE, "198.51.100.20").await;
    w.mock
        .control()
        .advance_clock("PT16M")
        .await
        .expect("later");
    let snapshot = w.accounts.snapshot(&account).await.expect("lists");
    assert_eq!(snapshot.sessions.iter().filter(|s| s.is_current).count(), 1);
    assert!(
        snapshot
            .sessions
            .iter()
            .any(|s| s.device.label == "Safari on iOS"),
        "the other device is still listed"
    );
}

#[tokio::test]
async fn node_auth_a_revoked_session_whose_token_still_lists_is_noticed() {
    let w = world(DEMO_LOGIN).await;
    let account = w.add(Dialect::NodeAuth, DEMO_LOGIN).await.expect("added");
    let ours = w.server_side_ids().await;
    // Revoked elsewhere; our access token still lists for up to 15 minutes (quirk 3), and
    // the refresh says SESSION_REVOKED: the engine signs in again instead of trusting it.
    w.mock.control().end_session(&ours[0]).await.expect("ended");
    let snapshot = w.accounts.snapshot(&account).await.expect("lists");
    let now = w.server_side_ids().await;
    assert_eq!(now.len(), 1);
    assert_ne!(now, ours, "a new session of ours");
    assert!(snapshot.sessions[0].is_current);
}

#[tokio::test]
async fn node_auth_signs_out_others_one_by_one_sparing_ours() {
    let w = world(DEMO_LOGIN).await;
    let account = w.add(Dialect::NodeAuth, DEMO_LOGIN).await.expect("added");
    for ip in ["198.51.100.1", "198.51.100.2"] {
        w.device(Dialect::Hectoday, FIREFOX, ip).await;
    }
    let ended = w
        .accounts
        .sign_out_others(&account)
        .await
        .expect("others out");
    assert_eq!(ended.len(), 2);
    assert_eq!(w.server_side_ids().await.len(), 1);
    assert!(w.accounts.snapshot(&account).await.expect("lists").sessions[0].is_current);
}

#[tokio::test]
async fn node_auth_a_totp_user_is_asked_for_the_authenticator_code() {
    let w = world(DEMO_TOTP_LOGIN).await;
    let account = w
        .add(Dialect::NodeAuth, DEMO_TOTP_LOGIN)
        .await
        .expect("added");
    assert_eq!(w.asked(), 1);
    assert_eq!(
        w.accounts
            .snapshot(&account)
            .await
            .expect("lists")
            .sessions
            .len(),
        1
    );
}

#[tokio::test]
async fn node_auth_a_wrong_password_is_bad_credentials() {
    let w = world(DEMO_LOGIN).await;
    let err = w
        .accounts
        .add(
            NewAccount {
                url: w.mock.api_url(Dialect::NodeAuth).to_string(),
                dialect: DialectKind::NodeAuth,
                login: DEMO_LOGIN.into(),
                label: None,
            },
            Secret::new("nope"),
        )
        .await
        .expect_err("refused");
    assert!(matches!(err, Error::BadCredentials { .. }), "{err:?}");
}

#[tokio::test]
async fn node_auth_a_hundred_refreshes_raise_no_alert() {
    use std::time::Duration;
    use warden_core::Event;
    use warden_core::watch::{WatchSettings, Watcher};

    let w = world(DEMO_LOGIN).await;
    let account = w.add(Dialect::NodeAuth, DEMO_LOGIN).await.expect("added");
    let mut devices = Vec::new();
    for (agent, ip) in [(IPHONE, "198.51.100.21"), (FIREFOX, "198.51.100.22")] {
        devices.push(w.device(Dialect::NodeAuth, agent, ip).await);
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let watcher = Watcher::new(
        Arc::clone(&w.accounts),
        Arc::new(tx),
        WatchSettings {
            interval: Duration::from_millis(20),
            ..WatchSettings::default()
        },
        tokio::runtime::Handle::current(),
    );
    watcher.watch(account.clone());
    let mut news = Vec::new();
    for round in 0..100 {
        let which = round % devices.len();
        devices[which] = w
            .mock
            .control()
            .refresh_device(&devices[which])
            .await
            .expect("the device refreshes");
        // Wait until the watcher has seen this refresh: a listing of three sessions in
        // which the refreshed device's handle is new.
        let seen = w.server_side_ids().await;
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match rx.recv().await.expect("watching") {
                    Event::Listed { snapshot }
                        if snapshot.sessions.len() == 3
                            && snapshot
                                .sessions
                                .iter()
                                .all(|s| seen.contains(&s.server_id.expose().to_owned())) =>
                    {
                        return;
                    }
                    Event::Listed { .. } => {}
                    other => news.push(other),
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("round {round}: the watcher never saw the refresh"));
    }
    assert!(
        news.is_empty(),
        "refreshes raised {} events, the first: {:?}",
        news.len(),
        news.first()
    );
}

#[tokio::test]
async fn node_auth_admin_mode_watches_one_user_without_a_session_of_its_own() {
    let w = world(DEMO_LOGIN).await;
    let control = w.mock.control();
    control
        .create_user("eve@example.com", "eve-pw")
        .await
        .expect("eve");
    for ip in ["198.51.100.1", "198.51.100.2"] {
        w.device(Dialect::NodeAuth, FIREFOX, ip).await;
    }
    control
        .sign_in_via(
            Dialect::NodeAuth,
            "eve@example.com",
            IPHONE,
            "192.0.2.9",
            None,
        )
        .await
        .expect("eve signs in");
    let new = |secret: &str| {
        (
            NewAccount {
                url: w.mock.api_url(Dialect::NodeAuth).to_string(),
                dialect: DialectKind::NodeAuthAdmin,
                // The demo user's id on the mock.
                login: "1".into(),
                label: Some("demo (admin)".into()),
            },
            Secret::new(secret),
        )
    };
    let (account, secret) = new("guess");
    let err = w.accounts.add(account, secret).await.expect_err("refused");
    assert!(matches!(err, Error::BadAdminSecret), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the admin secret was rejected by the server"
    );

    let (account, secret) = new(warden_mock::DEMO_ADMIN_SECRET);
    let account = w.accounts.add(account, secret).await.expect("added");
    let snapshot = w.accounts.snapshot(&account).await.expect("lists");
    assert_eq!(snapshot.sessions.len(), 2, "the demo user's two, not eve's");
    assert!(snapshot.sessions.iter().all(|s| !s.is_current));
    assert_eq!(
        w.server_side_ids().await.len(),
        2,
        "no session of ours was opened"
    );

    let ended = w.accounts.sign_out_others(&account).await.expect("all out");
    assert_eq!(ended.len(), 2);
    assert!(w.server_side_ids().await.is_empty());
    assert_eq!(
        control
            .live_ids("eve@example.com")
            .await
            .expect("ids")
            .len(),
        1,
        "eve's untouched"
    );
}
