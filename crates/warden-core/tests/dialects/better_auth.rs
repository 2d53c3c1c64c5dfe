//! Better Auth: listing without keeping other sessions' tokens, revoking by a fresh lookup, TOTP, freshness.

use super::*;

#[tokio::test]
async fn better_auth_lists_devices_without_keeping_their_tokens_and_revokes_by_a_fresh_lookup() {
    let w = world(DEMO_LOGIN).await;
    let account = w.add(Dialect::BetterAuth, DEMO_LOGIN).await.expect("added");
    let phone = w
        .mock
        .control()
        .sign_in_via(
            Dialect::BetterAuth,
            DEMO_LOGIN,
            IPHONE,
            "198.51.100.20",
            None,
        )
        .await
        .expect("signs in");
    w.device(Dialect::BetterAuth, FIREFOX, "198.51.100.21")
        .await;
    let snapshot = w.accounts.snapshot(&account).await.expect("lists");
    assert_eq!(snapshot.sessions.len(), 3);
    assert_eq!(snapshot.sessions.iter().filter(|s| s.is_current).count(), 1);
    let iphone = listed_at(&w, &account, "198.51.100.20").await;
    assert_eq!(iphone.device.os.as_deref(), Some("iOS"));
    assert_eq!(
        iphone.server_id.expose(),
        phone.id,
        "the id, never the token"
    );
    let their_token = phone.credentials.access_token.expect("a token");
    let raw = their_token.split('.').next().expect("raw");
    assert!(!format!("{snapshot:?}").contains(raw));

    let ended = w
        .accounts
        .revoke(&account, &iphone.id)
        .await
        .expect("revoked");
    assert_eq!(ended.id, iphone.id);
    assert!(!w.server_side_ids().await.contains(&phone.id));
    let others = w
        .accounts
        .sign_out_others(&account)
        .await
        .expect("others out");
    assert_eq!(others.len(), 1);
    assert_eq!(w.server_side_ids().await.len(), 1, "ours alone");
    let err = w
        .accounts
        .revoke(&account, &iphone.id)
        .await
        .expect_err("gone already");
    assert!(matches!(err, Error::SessionNotFound(_)), "{err:?}");
}

#[tokio::test]
async fn better_auth_a_wrong_password_is_bad_credentials_and_a_totp_user_is_asked_once() {
    let w = world(DEMO_TOTP_LOGIN).await;
    let err = w
        .accounts
        .add(
            NewAccount {
                url: w.mock.api_url(Dialect::BetterAuth).to_string(),
                dialect: DialectKind::BetterAuth,
                login: DEMO_LOGIN.into(),
                label: None,
            },
            Secret::new("wrong"),
        )
        .await
        .expect_err("refused");
    assert!(matches!(err, Error::BadCredentials { .. }), "{err:?}");
    assert_eq!(err.code(), warden_core::ErrorCode::BadCredentials);
    let account = w
        .add(Dialect::BetterAuth, DEMO_TOTP_LOGIN)
        .await
        .expect("added with a code");
    assert_eq!(w.asked(), 1);
    assert!(
        w.accounts
            .snapshot(&account)
            .await
            .expect("lists")
            .sessions
            .iter()
            .any(|s| s.is_current)
    );
}

/// Better Auth refuses to list sessions once ours is older than `freshAge`: the engine signs
/// in again and ends the session it held, so an hour of watching with a ten-minute
/// freshness leaves exactly one session of ours on the server.
#[tokio::test]
async fn better_auth_an_hour_past_freshness_leaves_exactly_one_session_of_ours() {
    let world = common::World::build().mock_clock().start().await;
    let control = world.mock.control();
    control
        .set_better_auth_fresh_age("PT10M")
        .await
        .expect("set");
    let account = world
        .add(Dialect::BetterAuth, DEMO_LOGIN)
        .await
        .expect("added");
    control
        .sign_in_via(
            Dialect::BetterAuth,
            DEMO_LOGIN,
            FIREFOX,
            "198.51.100.9",
            None,
        )
        .await
        .expect("a device");
    for _ in 0..12 {
        control.advance_clock("PT5M").await.expect("time passes");
        let snapshot = world.accounts.snapshot(&account).await.expect("lists");
        assert_eq!(snapshot.sessions.iter().filter(|s| s.is_current).count(), 1);
    }
    assert_eq!(
        world.server_side_ids().await.len(),
        2,
        "the device and one session of ours"
    );
    let requests = control.requests().await.expect("counts");
    assert!(
        requests
            .get("POST /better-auth/sign-in/email")
            .is_some_and(|n| *n >= 5),
        "signed in again as freshness ran out: {requests:?}"
    );
}
