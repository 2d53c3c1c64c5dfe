//! Matrix: devices, signing one out with the password asked again (User-Interactive Auth), renames, a delegated server.

use super::*;

#[tokio::test]
async fn matrix_lists_devices_and_signs_one_out_with_the_password_asked_again() {
    let w = world(DEMO_LOGIN).await;
    let account = w.add(Dialect::Matrix, "demo").await.expect("added");
    let control = w.mock.control();
    let phone = control
        .sign_in_via(Dialect::Matrix, DEMO_LOGIN, IPHONE, "198.51.100.30", None)
        .await
        .expect("a device");
    used(&control, &phone.id).await;
    w.device(Dialect::Matrix, FIREFOX, "198.51.100.31").await;
    let snapshot = w.accounts.snapshot(&account).await.expect("lists");
    assert_eq!(snapshot.sessions.len(), 3);
    let ours = snapshot
        .sessions
        .iter()
        .find(|s| s.is_current)
        .expect("ours");
    assert_eq!(ours.device.label, "Session Warden");
    let target = listed_at(&w, &account, "198.51.100.30").await;
    w.accounts
        .revoke(&account, &target.id)
        .await
        .expect("signed out");
    let requests = control.requests().await.expect("counts");
    let deletes = requests
        .iter()
        .filter(|(route, _)| route.starts_with("DELETE /matrix/_matrix/client/v3/devices/"))
        .map(|(_, n)| n)
        .sum::<u64>();
    assert_eq!(
        deletes, 2,
        "asked for the password, then answered: {requests:?}"
    );
    // The server no longer knows the device's token.
    let token = phone.credentials.access_token.expect("a token");
    let answer = reqwest::Client::new()
        .get(format!(
            "{}/_matrix/client/v3/devices",
            w.mock.api_url(Dialect::Matrix)
        ))
        .bearer_auth(token)
        .send()
        .await
        .expect("answers");
    assert_eq!(answer.status(), 401);
    let body: serde_json::Value = answer.json().await.expect("json");
    assert_eq!(body["errcode"], "M_UNKNOWN_TOKEN");

    let ended = w
        .accounts
        .sign_out_others(&account)
        .await
        .expect("others out");
    assert_eq!(ended.len(), 1);
    assert_eq!(w.server_side_ids().await.len(), 1);
}

#[tokio::test]
async fn matrix_a_password_changed_since_is_a_clear_error_at_sign_out() {
    let store = Arc::new(warden_core::MemoryStore::default());
    let world = common::World::build().store(store.clone()).start().await;
    let account = world.add(Dialect::Matrix, "demo").await.expect("added");
    world
        .mock
        .control()
        .sign_in_via(Dialect::Matrix, DEMO_LOGIN, IPHONE, "198.51.100.32", None)
        .await
        .expect("a device");
    use warden_core::CredentialStore;
    store
        .set(
            &account.id,
            warden_core::SecretKind::Password,
            &Secret::new("old-password"),
        )
        .expect("set");
    let target = world
        .accounts
        .snapshot(&account)
        .await
        .expect("lists")
        .sessions
        .into_iter()
        .find(|s| !s.is_current)
        .expect("the phone");
    let err = world
        .accounts
        .revoke(&account, &target.id)
        .await
        .expect_err("refused");
    assert!(matches!(err, Error::NeedsSignIn { .. }), "{err:?}");
    assert!(err.to_string().contains("password again"), "{err}");
    assert_eq!(world.server_side_ids().await.len(), 2, "nothing ended");
}

#[tokio::test]
async fn matrix_rename_is_the_servers_name_and_a_delegated_server_says_where_to_sign_out() {
    let w = world(DEMO_LOGIN).await;
    let account = w.add(Dialect::Matrix, "demo").await.expect("added");
    w.device(Dialect::Matrix, IPHONE, "198.51.100.33").await;
    let phone = listed_at(&w, &account, "198.51.100.33").await;
    w.accounts
        .rename(&account, &phone.id, "Kitchen iPad")
        .await
        .expect("renamed");
    let renamed = listed_at(&w, &account, "198.51.100.33").await;
    assert_eq!(renamed.device.label, "Kitchen iPad");
    assert_eq!(renamed.label, None, "the server's name, not one of ours");

    // Sign-in delegated to an account service: the device routes are not there.
    let fault: warden_mock::FaultSpec = serde_json::from_value(serde_json::json!({
        "route": "/matrix/_matrix/client/v3/devices/", "method": "DELETE", "status": 404,
    }))
    .expect("a fault");
    w.mock.control().add_fault(&fault).await.expect("fault");
    let err = w
        .accounts
        .revoke(&account, &phone.id)
        .await
        .expect_err("refused");
    assert!(matches!(err, Error::Refused(_)), "{err:?}");
    assert!(err.to_string().contains("account's web page"), "{err}");
}
