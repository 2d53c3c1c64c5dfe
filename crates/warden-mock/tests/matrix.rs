//! The Matrix client-server API as docs/apis.md §6 specifies it, checked over real HTTP.

mod common;

use common::{Api, IPHONE, keys, sorted};
use reqwest::Method;
use serde_json::{Value, json};
use warden_mock::{DEMO_PASSWORD, Dialect};

const USER: &str = "demo";

async fn api() -> Api {
    Api::start(Dialect::Matrix).await
}

async fn login(api: &Api, password: &str) -> common::Reply {
    api.call(
        Method::POST,
        "/_matrix/client/v3/login",
        &[],
        Some(json!({
            "type": "m.login.password",
            "identifier": { "type": "m.id.user", "user": USER },
            "password": password,
            "initial_device_display_name": "Session Warden",
        })),
    )
    .await
}

async fn devices(api: &Api, bearer: &str) -> Vec<Value> {
    let reply = api
        .call(
            Method::GET,
            "/_matrix/client/v3/devices",
            &[("authorization", bearer)],
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()["devices"].as_array().expect("devices").clone()
}

async fn delete(api: &Api, bearer: &str, body: Value) -> common::Reply {
    api.call(
        Method::POST,
        "/_matrix/client/v3/delete_devices",
        &[("authorization", bearer)],
        Some(body),
    )
    .await
}

#[tokio::test]
async fn the_password_way_in_is_offered_and_a_wrong_password_is_403_forbidden() {
    let api = api().await;
    let flows = api
        .call(Method::GET, "/_matrix/client/v3/login", &[], None)
        .await
        .json();
    assert!(
        flows["flows"]
            .as_array()
            .expect("flows")
            .iter()
            .any(|f| f["type"] == "m.login.password"),
        "{flows}"
    );
    let signed_in = login(&api, DEMO_PASSWORD).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.text);
    assert_eq!(
        keys(&signed_in.json()),
        sorted(&["access_token", "device_id", "home_server", "user_id"])
    );
    let wrong = login(&api, "nope").await;
    assert_eq!(
        (wrong.status, wrong.json()["errcode"].clone()),
        (403, json!("M_FORBIDDEN"))
    );
}

#[tokio::test]
async fn a_device_has_no_address_until_used_and_deleting_it_asks_for_the_password() {
    let api = api().await;
    let ours = login(&api, DEMO_PASSWORD).await.json();
    let bearer = format!("Bearer {}", ours["access_token"].as_str().expect("a token"));
    let (phone, _) = api.other_device(USER, IPHONE, "198.51.100.9").await;
    let listed = devices(&api, &bearer).await;
    assert_eq!(listed.len(), 2);
    // The phone is the device that is not ours (a device id is not the store's session id).
    let unseen = listed
        .iter()
        .find(|d| d["device_id"] != ours["device_id"])
        .expect("the phone");
    let phone_device = unseen["device_id"].clone();
    assert_eq!(
        keys(unseen),
        sorted(&[
            "device_id",
            "display_name",
            "last_seen_ip",
            "last_seen_ts",
            "user_id"
        ])
    );
    // Synapse records an address from authenticated requests only.
    assert_eq!(
        (
            unseen["last_seen_ip"].clone(),
            unseen["last_seen_ts"].clone()
        ),
        (Value::Null, Value::Null)
    );
    api.control()
        .record_activity(&phone, None)
        .await
        .expect("the phone is used");
    let seen = devices(&api, &bearer).await;
    let seen = seen
        .iter()
        .find(|d| d["device_id"] == phone_device)
        .expect("the phone");
    assert_eq!(seen["last_seen_ip"], "198.51.100.9");
    assert!(seen["last_seen_ts"].is_u64(), "milliseconds: {seen}");

    // User-Interactive Auth: the first try is a challenge, the second carries the password.
    let asked = delete(&api, &bearer, json!({ "devices": [phone_device] })).await;
    assert_eq!(asked.status, 401);
    let challenge = asked.json();
    let session = challenge["session"]
        .as_str()
        .expect("a UIA session")
        .to_owned();
    assert_eq!(challenge["flows"][0]["stages"], json!(["m.login.password"]));
    assert_eq!(devices(&api, &bearer).await.len(), 2, "nothing deleted yet");
    let auth = |password: &str| {
        json!({
            "devices": [phone_device],
            "auth": {
                "type": "m.login.password",
                "identifier": { "type": "m.id.user", "user": USER },
                "password": password,
                "session": session,
            },
        })
    };
    let refused = delete(&api, &bearer, auth("nope")).await;
    assert_eq!(
        (refused.status, refused.json()["errcode"].clone()),
        (401, json!("M_FORBIDDEN"))
    );
    let done = delete(&api, &bearer, auth(DEMO_PASSWORD)).await;
    assert_eq!((done.status, done.json()), (200, json!({})));
    let left = devices(&api, &bearer).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["device_id"], ours["device_id"]);
}

#[tokio::test]
async fn a_dead_or_missing_token_is_told_apart() {
    let api = api().await;
    let none = api
        .call(Method::GET, "/_matrix/client/v3/devices", &[], None)
        .await;
    assert_eq!(
        (none.status, none.json()["errcode"].clone()),
        (401, json!("M_MISSING_TOKEN"))
    );
    let dead = api
        .call(
            Method::GET,
            "/_matrix/client/v3/devices",
            &[("authorization", "Bearer syt_no_such_token")],
            None,
        )
        .await;
    assert_eq!(
        (dead.status, dead.json()["errcode"].clone()),
        (401, json!("M_UNKNOWN_TOKEN"))
    );
}
