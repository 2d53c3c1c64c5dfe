//! django-allauth headless (its `app` client, `usersessions`) as docs/apis.md §7 specifies
//! it, checked over real HTTP.

mod common;

use common::{Api, FIREFOX, IPHONE, keys, sorted};
use reqwest::Method;
use serde_json::{Value, json};
use warden_mock::{DEMO_LOGIN, DEMO_PASSWORD, Dialect};

const TOKEN: &str = "x-session-token";

async fn api() -> Api {
    Api::start(Dialect::Allauth).await
}

async fn login(api: &Api, password: &str) -> common::Reply {
    api.call(
        Method::POST,
        "/_allauth/app/v1/auth/login",
        &[("user-agent", FIREFOX)],
        Some(json!({ "email": DEMO_LOGIN, "password": password })),
    )
    .await
}

async fn token(api: &Api) -> String {
    let reply = login(api, DEMO_PASSWORD).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()["meta"]["session_token"]
        .as_str()
        .expect("meta.session_token")
        .to_owned()
}

async fn sessions(api: &Api, token: &str) -> common::Reply {
    api.call(
        Method::GET,
        "/_allauth/app/v1/auth/sessions",
        &[(TOKEN, token)],
        None,
    )
    .await
}

async fn end(api: &Api, token: &str, ids: Value) -> common::Reply {
    api.call(
        Method::DELETE,
        "/_allauth/app/v1/auth/sessions",
        &[(TOKEN, token)],
        Some(json!({ "sessions": ids })),
    )
    .await
}

#[tokio::test]
async fn a_sign_in_answers_an_envelope_with_the_token_and_a_wrong_password_a_400() {
    let api = api().await;
    let reply = login(&api, DEMO_PASSWORD).await;
    let body = reply.json();
    assert_eq!((reply.status, body["status"].clone()), (200, json!(200)));
    assert_eq!(body["meta"]["is_authenticated"], true);
    assert!(body["meta"]["session_token"].is_string());

    let wrong = login(&api, "nope").await.json();
    assert_eq!(wrong["status"], 400);
    assert_eq!(wrong["errors"][0]["code"], "email_password_mismatch");
}

#[tokio::test]
async fn sessions_have_integer_ids_and_epoch_seconds_and_ending_one_answers_what_remains() {
    let api = api().await;
    let ours = token(&api).await;
    api.other_device(DEMO_LOGIN, IPHONE, "198.51.100.11").await;
    let listed = sessions(&api, &ours).await.json();
    let data = listed["data"].as_array().expect("data").clone();
    assert_eq!(data.len(), 2);
    for session in &data {
        assert_eq!(
            keys(session),
            sorted(&[
                "created_at",
                "id",
                "ip",
                "is_current",
                "last_seen_at",
                "user_agent"
            ])
        );
        assert!(session["id"].is_u64(), "{session}");
        assert!(session["created_at"].is_f64(), "epoch seconds: {session}");
    }
    assert_eq!(data.iter().filter(|s| s["is_current"] == true).count(), 1);
    let phone = data
        .iter()
        .find(|s| s["user_agent"] == IPHONE)
        .expect("the phone");

    let unknown = end(&api, &ours, json!([999_999])).await.json();
    assert_eq!(unknown["status"], 400);
    assert_eq!(unknown["errors"][0]["code"], "invalid_choice");

    let ended = end(&api, &ours, json!([phone["id"]])).await.json();
    assert_eq!(ended["status"], 200);
    let left: Vec<&Value> = ended["data"]
        .as_array()
        .expect("what remains")
        .iter()
        .collect();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["is_current"], true);
}

#[tokio::test]
async fn no_token_is_401_and_an_ended_one_410_gone() {
    let api = api().await;
    let none = api
        .call(Method::GET, "/_allauth/app/v1/auth/sessions", &[], None)
        .await;
    assert_eq!(none.status, 401);
    assert!(none.json()["data"]["flows"].is_array(), "{}", none.text);

    let ours = token(&api).await;
    let out = api
        .call(
            Method::DELETE,
            "/_allauth/app/v1/auth/session",
            &[(TOKEN, &ours)],
            None,
        )
        .await;
    assert_eq!(out.status, 401, "signed out: nobody is signed in now");
    assert_eq!(sessions(&api, &ours).await.status, 410);
}
