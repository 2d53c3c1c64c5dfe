//! Home Assistant's auth over HTTP as docs/apis.md §10 specifies it, checked over real HTTP
//! (its WebSocket commands are exercised by core's `tests/home_assistant.rs`).

mod common;

use common::Api;
use reqwest::Method;
use serde_json::{Value, json};
use warden_mock::{DEMO_PASSWORD, Dialect};

const CLIENT: &str = "https://session-warden.app/";

async fn api() -> Api {
    Api::start(Dialect::HomeAssistant).await
}

/// A login flow started and answered with `password`: its last step.
async fn log_in(api: &Api, password: &str) -> Value {
    let flow = api
        .call(
            Method::POST,
            "/auth/login_flow",
            &[],
            Some(json!({
                "client_id": CLIENT, "handler": ["homeassistant", null],
                "redirect_uri": format!("{CLIENT}auth"),
            })),
        )
        .await
        .json();
    assert_eq!(
        (flow["type"].clone(), flow["step_id"].clone()),
        (json!("form"), json!("init"))
    );
    let flow_id = flow["flow_id"].as_str().expect("a flow id");
    let step = api
        .call(
            Method::POST,
            &format!("/auth/login_flow/{flow_id}"),
            &[],
            Some(json!({ "client_id": CLIENT, "username": "demo", "password": password })),
        )
        .await;
    // HA answers a refused password with 200 and the form again: the status says nothing.
    assert_eq!(step.status, 200, "{}", step.text);
    step.json()
}

async fn token(api: &Api, form: &[(&str, &str)]) -> common::Reply {
    let client = reqwest::Client::new();
    let response = client
        .post(api.url("/auth/token"))
        .form(form)
        .send()
        .await
        .expect("answers");
    common::Reply {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        text: response.text().await.expect("a body"),
    }
}

/// The auth code of a login flow, exchanged for tokens.
async fn exchange(api: &Api, code: &str) -> common::Reply {
    token(
        api,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", CLIENT),
        ],
    )
    .await
}

/// A refresh with `refresh`, as the client `client`.
async fn refresh_as(api: &Api, refresh: &str, client: &str) -> common::Reply {
    token(
        api,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", client),
        ],
    )
    .await
}

fn failed_logins(api: &Api) -> u32 {
    api.server
        .state()
        .home_assistant
        .failed_logins()
        .values()
        .sum()
}

#[tokio::test]
async fn a_wrong_password_is_the_form_again_with_its_error_and_counts_as_a_failed_login() {
    let api = api().await;
    let refused = log_in(&api, "nope").await;
    assert_eq!(refused["type"], "form");
    assert_eq!(refused["errors"]["base"], "invalid_auth");
    assert_eq!(failed_logins(&api), 1);
}

#[tokio::test]
async fn the_code_becomes_tokens_and_the_refresh_repeats_the_client_id() {
    let api = api().await;
    let done = log_in(&api, DEMO_PASSWORD).await;
    assert_eq!(done["type"], "create_entry", "{done}");
    let code = done["result"].as_str().expect("an auth code");
    let tokens = exchange(&api, code).await;
    assert_eq!(tokens.status, 200, "{}", tokens.text);
    let tokens = tokens.json();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 1800);
    let refresh = tokens["refresh_token"].as_str().expect("a refresh token");

    // The code is spent.
    let again = exchange(&api, code).await;
    assert_eq!(again.status, 400);

    let renewed = refresh_as(&api, refresh, CLIENT).await;
    assert_eq!(renewed.status, 200, "{}", renewed.text);
    assert!(
        renewed.json()["refresh_token"].is_null(),
        "a refresh token never rotates"
    );

    let before = failed_logins(&api);
    let other_client = refresh_as(&api, refresh, "https://elsewhere.example/").await;
    assert_eq!(
        (other_client.status, other_client.json()["error"].clone()),
        (400, json!("invalid_request"))
    );
    assert_eq!(
        failed_logins(&api),
        before + 1,
        "a refused credential is a failed login"
    );
}

#[tokio::test]
async fn revocation_answers_200_whatever_the_token_and_ends_a_real_one() {
    let api = api().await;
    let done = log_in(&api, DEMO_PASSWORD).await;
    let code = done["result"].as_str().expect("an auth code");
    let tokens = exchange(&api, code).await.json();
    let refresh = tokens["refresh_token"].as_str().expect("a refresh token");
    let client = reqwest::Client::new();
    for sent in ["no-such-token", refresh] {
        let answer = client
            .post(api.url("/auth/revoke"))
            .form(&[("token", sent)])
            .send()
            .await
            .expect("answers");
        assert_eq!(answer.status().as_u16(), 200);
    }
    let dead = refresh_as(&api, refresh, CLIENT).await;
    assert_eq!(
        (dead.status, dead.json()["error"].clone()),
        (400, json!("invalid_grant"))
    );
}
