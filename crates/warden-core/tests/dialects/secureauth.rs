//! SecureAuth: the texted code, revoking and signing out others, a background sign-in that cannot get a code.

use super::*;

#[tokio::test]
async fn secureauth_signs_in_with_the_texted_code_and_lists_devices() {
    let w = world(DEMO_LOGIN).await;
    let account = w.add(Dialect::SecureAuth, DEMO_PHONE).await.expect("added");
    assert_eq!(w.asked(), 1, "one code, asked once");
    w.device(Dialect::SecureAuth, IPHONE, "198.51.100.20").await;
    let snapshot = w.accounts.snapshot(&account).await.expect("lists");
    assert_eq!(snapshot.sessions.len(), 2);
    let ours = snapshot
        .sessions
        .iter()
        .find(|s| s.is_current)
        .expect("ours");
    assert_eq!(ours.device.label, "Session Warden");
    let phone = snapshot
        .sessions
        .iter()
        .find(|s| !s.is_current)
        .expect("phone");
    assert_eq!(phone.device.label, "Safari on iOS");
    assert_eq!(phone.ip.as_deref(), Some("198.51.100.20"));
    assert!(phone.created_at.is_some() && phone.last_active_at.is_some());
}

#[tokio::test]
async fn secureauth_a_wrong_code_is_bad_code_and_nothing_is_kept() {
    let w = world_with(DEMO_LOGIN, true).await;
    let err = w
        .add(Dialect::SecureAuth, DEMO_PHONE)
        .await
        .expect_err("wrong code");
    assert!(matches!(err, Error::BadCode(_)), "{err:?}");
    assert!(err.to_string().contains("the code is wrong"), "{err}");
    assert!(w.accounts.list().expect("lists").is_empty());
}

#[tokio::test]
async fn secureauth_403_on_an_unknown_id_is_reported_as_such() {
    let w = world(DEMO_LOGIN).await;
    let account = w.add(Dialect::SecureAuth, DEMO_PHONE).await.expect("added");
    let id = w.device(Dialect::SecureAuth, IPHONE, "198.51.100.20").await;
    let snapshot = w.accounts.snapshot(&account).await.expect("lists");
    let phone = snapshot
        .sessions
        .iter()
        .find(|s| !s.is_current)
        .cloned()
        .expect("phone");
    // The service ends it before our click lands: the click acts on the listing it saw.
    w.mock.control().end_session(&id).await.expect("ended");
    let err = w
        .accounts
        .revoke_listed(&account, phone, &snapshot)
        .await
        .expect_err("gone already");
    assert!(matches!(err, Error::Refused(_)), "{err:?}");
    assert!(err.to_string().contains("403 Forbidden"), "{err}");
}

#[tokio::test]
async fn secureauth_revoke_and_sign_out_others_are_verified() {
    let w = world(DEMO_LOGIN).await;
    let account = w.add(Dialect::SecureAuth, DEMO_PHONE).await.expect("added");
    for ip in ["198.51.100.1", "198.51.100.2", "198.51.100.3"] {
        w.device(Dialect::SecureAuth, FIREFOX, ip).await;
    }
    let snapshot = w.accounts.snapshot(&account).await.expect("lists");
    let one = snapshot
        .sessions
        .iter()
        .find(|s| !s.is_current)
        .expect("one");
    w.accounts.revoke(&account, &one.id).await.expect("revoked");
    let ended = w
        .accounts
        .sign_out_others(&account)
        .await
        .expect("others out");
    assert_eq!(ended.len(), 2);
    assert_eq!(w.server_side_ids().await.len(), 1, "only ours is left");
}

#[tokio::test]
async fn secureauth_when_our_token_dies_a_background_sign_in_asks_for_a_code_it_cannot_get() {
    let w = world(DEMO_LOGIN).await;
    let account = w.add(Dialect::SecureAuth, DEMO_PHONE).await.expect("added");
    w.accounts.set_prompt(Arc::new(warden_core::NoPrompt));
    w.mock
        .control()
        .advance_clock("P7DT1M")
        .await
        .expect("a week later");
    let texted = || async {
        let mut url = w.mock.url().join("__mock/outbox").expect("url");
        url.query_pairs_mut().append_pair("to", DEMO_PHONE);
        let sent: Vec<serde_json::Value> = reqwest::get(url)
            .await
            .expect("answers")
            .json()
            .await
            .expect("json");
        sent.len()
    };
    let before = texted().await;
    for _ in 0..3 {
        let err = w
            .accounts
            .snapshot(&account)
            .await
            .expect_err("needs a code");
        assert!(matches!(err, Error::NeedsSignIn { .. }), "{err:?}");
        assert!(err.to_string().contains("one-time code"), "{err}");
    }
    // Nobody could have typed a code: none was texted, however often the poll retried.
    assert_eq!(
        texted().await,
        before,
        "a background retry texted the person"
    );
}
