//! Better Auth as docs/apis.md §5 specifies it, checked over real HTTP.

mod common;

use common::{Api, FIREFOX, IPHONE, keys, sorted};
use reqwest::Method;
use serde_json::{Value, json};
use warden_mock::{DEMO_LOGIN, DEMO_PASSWORD, Dialect};

async fn api() -> Api {
    Api::start(Dialect::BetterAuth).await
}

async fn sign_in(api: &Api, password: &str) -> common::Reply {
    api.call(
        Method::POST,
        "/sign-in/email",
        &[("user-agent", FIREFOX)],
        Some(json!({ "email": DEMO_LOGIN, "password": password })),
    )
    .await
}

/// The bearer credential of a fresh sign-in.
async fn bearer(api: &Api) -> String {
    let reply = sign_in(api, DEMO_PASSWORD).await;
    format!(
        "Bearer {}",
        reply
            .header("set-auth-token")
            .expect("the bearer plugin's token")
    )
}

async fn listed(api: &Api, bearer: &str) -> Vec<Value> {
    let reply = api
        .call(
            Method::GET,
            "/list-sessions",
            &[("authorization", bearer)],
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json().as_array().expect("a bare array").clone()
}

async fn revoke(api: &Api, bearer: &str, token: &str) -> common::Reply {
    api.call(
        Method::POST,
        "/revoke-session",
        &[("authorization", bearer)],
        Some(json!({ "token": token })),
    )
    .await
}

#[tokio::test]
async fn sign_in_hands_out_one_signed_token_as_cookie_and_bearer_and_a_wrong_password_is_401() {
    let api = api().await;
    let reply = sign_in(&api, DEMO_PASSWORD).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["redirect"], false);
    let raw = body["token"].as_str().expect("the token");
    let signed = reply.header("set-auth-token").expect("set-auth-token");
    assert!(signed.starts_with(&format!("{raw}.")), "<raw>.<signature>");
    assert_eq!(
        reply.cookie("better-auth.session_token"),
        format!("better-auth.session_token={signed}")
    );

    let wrong = sign_in(&api, "nope").await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.json()["code"], "INVALID_EMAIL_OR_PASSWORD");
}

#[tokio::test]
async fn the_listing_is_a_bare_array_of_live_tokens_and_revoke_says_true_whatever_it_ends() {
    let api = api().await;
    let ours = bearer(&api).await;
    let (_, phone_cookie) = api.other_device(DEMO_LOGIN, IPHONE, "198.51.100.7").await;
    let sessions = listed(&api, &ours).await;
    assert_eq!(sessions.len(), 2);
    for session in &sessions {
        // No current flag: the client finds its own row by its token.
        assert_eq!(
            keys(session),
            sorted(&[
                "createdAt",
                "expiresAt",
                "id",
                "ipAddress",
                "token",
                "updatedAt",
                "userAgent",
                "userId"
            ])
        );
    }
    let phone = sessions
        .iter()
        .find(|s| s["userAgent"] == IPHONE)
        .expect("the phone is listed");
    assert_eq!(phone["ipAddress"], "198.51.100.7");

    let alive = api.get("/get-session", &phone_cookie).await;
    assert_eq!(
        alive.json()["session"]["id"],
        phone["id"],
        "the phone's own credential"
    );

    // True for a token that is no session, and nothing ends.
    let unknown = revoke(&api, &ours, "no-such-token").await;
    assert_eq!(
        (unknown.status, unknown.json()),
        (200, json!({ "status": true }))
    );
    assert_eq!(listed(&api, &ours).await.len(), 2);

    // True again for the phone's token, which ends it: its credential is dead from now on.
    let token = phone["token"].as_str().expect("its token");
    let ended = revoke(&api, &ours, token).await;
    assert_eq!(
        (ended.status, ended.json()),
        (200, json!({ "status": true }))
    );
    assert_eq!(listed(&api, &ours).await.len(), 1);
    let dead = api.get("/get-session", &phone_cookie).await;
    assert_eq!((dead.status, dead.json()), (200, Value::Null), "200 null");
}

#[tokio::test]
async fn a_post_with_a_cookie_must_name_the_app_s_origin_once() {
    let api = api().await;
    let cookie = sign_in(&api, DEMO_PASSWORD)
        .await
        .cookie("better-auth.session_token");
    let origin = api.server.url().as_str().trim_end_matches('/').to_owned();
    let sign_out = |headers: Vec<(&'static str, String)>| {
        let api = &api;
        let cookie = cookie.clone();
        async move {
            let mut all: Vec<(&str, &str)> = vec![("cookie", cookie.as_str())];
            all.extend(headers.iter().map(|(k, v)| (*k, v.as_str())));
            api.call(Method::POST, "/sign-out", &all, None).await
        }
    };
    let none = sign_out(vec![]).await;
    assert_eq!(
        (none.status, none.json()["code"].clone()),
        (403, json!("MISSING_OR_NULL_ORIGIN"))
    );
    let twice = sign_out(vec![("origin", origin.clone()), ("origin", origin.clone())]).await;
    assert_eq!(
        (twice.status, twice.json()["code"].clone()),
        (403, json!("INVALID_ORIGIN"))
    );
    let elsewhere = sign_out(vec![("origin", "http://evil.example".into())]).await;
    assert_eq!(elsewhere.status, 403);
    let right = sign_out(vec![("origin", origin)]).await;
    assert_eq!(
        (right.status, right.json()),
        (200, json!({ "success": true }))
    );
}

#[tokio::test]
async fn revoking_the_others_keeps_ours() {
    let api = api().await;
    let ours = bearer(&api).await;
    api.other_device(DEMO_LOGIN, IPHONE, "198.51.100.7").await;
    api.other_device(DEMO_LOGIN, FIREFOX, "198.51.100.8").await;
    assert_eq!(listed(&api, &ours).await.len(), 3);
    let reply = api
        .call(
            Method::POST,
            "/revoke-other-sessions",
            &[("authorization", &ours)],
            None,
        )
        .await;
    // The real server answers `status`, as for one session (better-auth 1.x,
    // routes/session.mjs).
    assert_eq!(
        (reply.status, reply.json()),
        (200, json!({ "status": true }))
    );
    assert_eq!(listed(&api, &ours).await.len(), 1);
}
