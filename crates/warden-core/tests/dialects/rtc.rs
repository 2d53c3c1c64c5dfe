//! RTC Collector: places as the server gives them, revoking others, TOTP.

use super::*;

#[tokio::test]
async fn rtc_lists_location_and_revokes_others_without_ending_ours() {
    let w = world(DEMO_LOGIN).await;
    let account = w.add(Dialect::Rtc, DEMO_LOGIN).await.expect("added");
    let berlin = warden_mock::store::Location {
        city: "Berlin".into(),
        country: "DE".into(),
        lat: 52.52,
        lon: 13.4,
    };
    w.mock
        .control()
        .sign_in_via(
            Dialect::Rtc,
            DEMO_LOGIN,
            IPHONE,
            "198.51.100.20",
            Some(berlin),
        )
        .await
        .expect("signs in");
    w.device(Dialect::Rtc, FIREFOX, "198.51.100.21").await;
    let snapshot = w.accounts.snapshot(&account).await.expect("lists");
    let phone = snapshot
        .sessions
        .iter()
        .find(|s| s.location.is_some())
        .expect("the phone has a place");
    assert_eq!(phone.location.as_deref(), Some("Berlin, DE"));
    assert_eq!(phone.device.label, "Safari on a phone");
    let ours = snapshot
        .sessions
        .iter()
        .find(|s| s.is_current)
        .expect("ours");
    let expires = ours.expires_at.expect("RTC says when");
    assert!(
        expires - chrono::Utc::now() > chrono::Duration::days(29),
        "remember me"
    );
    let err = w
        .accounts
        .revoke(&account, &ours.id)
        .await
        .expect_err("not ours");
    assert!(matches!(err, Error::OwnSession), "{err:?}");
    let ended = w
        .accounts
        .sign_out_others(&account)
        .await
        .expect("others out");
    assert_eq!(ended.len(), 2);
    assert_eq!(
        w.server_side_ids().await.len(),
        1,
        "ours survived (no logout-all)"
    );
}

#[tokio::test]
async fn rtc_a_totp_user_is_asked_for_a_code_once() {
    let w = world(DEMO_TOTP_LOGIN).await;
    let account = w.add(Dialect::Rtc, DEMO_TOTP_LOGIN).await.expect("added");
    assert_eq!(w.asked(), 1);
    w.accounts.snapshot(&account).await.expect("lists");
    assert_eq!(w.asked(), 1, "the session is reused, no new code");
}
