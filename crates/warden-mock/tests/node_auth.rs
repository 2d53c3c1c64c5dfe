//! node-auth as docs/apis.md §2 specifies it, quirks included, checked over real HTTP.

mod common;

use common::{Api, FIREFOX, IPHONE, jwt_parts, keys, sorted};
use reqwest::Method;
use serde_json::{Value, json};
use warden_mock::{DEMO_ADMIN_SECRET, DEMO_LOGIN, DEMO_PASSWORD, DEMO_TOTP_LOGIN, Dialect};

async fn api() -> Api {
    Api::start(Dialect::NodeAuth).await
}

const BEARER: (&str, &str) = ("x-auth-strategy", "bearer");

/// Logs the demo user in in bearer mode; returns (access, refresh).
async fn bearer_login(api: &Api, agent: &str) -> (String, String) {
    let reply = api
        .call(
            Method::POST,
            "/auth/login",
            &[BEARER, ("user-agent", agent)],
            Some(json!({ "email": DEMO_LOGIN, "password": DEMO_PASSWORD })),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    (
        body["accessToken"].as_str().expect("access").to_owned(),
        body["refreshToken"].as_str().expect("refresh").to_owned(),
    )
}

async fn with_token(api: &Api, method: Method, path: &str, access: &str) -> common::Reply {
    api.call(
        method,
        path,
        &[("authorization", &format!("Bearer {access}"))],
        None,
    )
    .await
}

async fn sessions(api: &Api, access: &str) -> Vec<Value> {
    let reply = with_token(api, Method::GET, "/auth/sessions", access).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()["sessions"]
        .as_array()
        .expect("sessions")
        .clone()
}

async fn refresh(api: &Api, refresh_token: &str) -> common::Reply {
    api.call(
        Method::POST,
        "/auth/refresh",
        &[BEARER],
        Some(json!({ "refreshToken": refresh_token })),
    )
    .await
}

fn sid(access: &str) -> String {
    jwt_parts(access).1["sid"].as_str().expect("sid").to_owned()
}

#[tokio::test]
async fn cookie_login_sets_both_cookies_with_their_paths_and_lifetimes() {
    let api = api().await;
    let reply = api
        .post(
            "/auth/login",
            "",
            json!({ "email": DEMO_LOGIN, "password": DEMO_PASSWORD }),
        )
        .await;
    assert_eq!(
        (reply.status, reply.json()),
        (200, json!({ "success": true }))
    );
    let access = reply.set_cookie("accessToken");
    let refresh = reply.set_cookie("refreshToken");
    assert!(
        access.ends_with("; Max-Age=900; Path=/; HttpOnly; SameSite=Lax"),
        "{access}"
    );
    assert!(
        refresh.ends_with("; Max-Age=604800; Path=/auth/refresh; HttpOnly; SameSite=Lax"),
        "{refresh}"
    );
    let (header, claims) = jwt_parts(
        reply
            .cookie("accessToken")
            .trim_start_matches("accessToken="),
    );
    assert_eq!(header["alg"], "HS256");
    assert_eq!(
        keys(&claims),
        sorted(&[
            "sub",
            "email",
            "role",
            "loginProvider",
            "isEmailVerified",
            "isTotpEnabled",
            "sid",
            "iat",
            "exp"
        ])
    );
    assert_eq!(
        claims["exp"].as_i64().unwrap_or(0) - claims["iat"].as_i64().unwrap_or(0),
        900
    );
    // The cookie authenticates the user API, as do the prefixed names.
    let cookie = reply.cookie("accessToken");
    assert_eq!(api.get("/auth/sessions", &cookie).await.status, 200);
    let host = format!("__Host-{cookie}");
    assert_eq!(api.get("/auth/sessions", &host).await.status, 200);
}

#[tokio::test]
async fn bearer_login_returns_tokens_in_the_body_and_no_cookie() {
    let api = api().await;
    let reply = api
        .call(
            Method::POST,
            "/auth/login",
            &[BEARER],
            Some(json!({ "email": DEMO_LOGIN, "password": DEMO_PASSWORD })),
        )
        .await;
    assert_eq!(
        keys(&reply.json()),
        sorted(&["success", "accessToken", "refreshToken"])
    );
    assert!(reply.set_cookies().is_empty());
}

#[tokio::test]
async fn a_wrong_password_is_401_invalid_credentials() {
    let api = api().await;
    let reply = api
        .post(
            "/auth/login",
            "",
            json!({ "email": DEMO_LOGIN, "password": "nope" }),
        )
        .await;
    assert_eq!(
        (reply.status, reply.json()),
        (
            401,
            json!({ "error": "Invalid credentials", "code": "INVALID_CREDENTIALS" })
        )
    );
}

#[tokio::test]
async fn a_totp_user_gets_a_temp_token_then_signs_in_with_the_code() {
    let api = api().await;
    let reply = api
        .call(
            Method::POST,
            "/auth/login",
            &[BEARER],
            Some(json!({ "email": DEMO_TOTP_LOGIN, "password": DEMO_PASSWORD })),
        )
        .await;
    let body = reply.json();
    assert_eq!(
        keys(&body),
        sorted(&["requiresTwoFactor", "tempToken", "available2faMethods"])
    );
    assert_eq!(body["available2faMethods"], json!(["totp"]));
    let temp = body["tempToken"].as_str().expect("temp");
    let (_, claims) = jwt_parts(temp);
    assert_eq!(
        claims["exp"].as_i64().unwrap_or(0) - claims["iat"].as_i64().unwrap_or(0),
        300
    );
    let code = api
        .control()
        .totp(DEMO_TOTP_LOGIN)
        .await
        .expect("totp")
        .code;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = api
        .call(
            Method::POST,
            "/auth/2fa/verify",
            &[BEARER],
            Some(json!({ "tempToken": temp, "totpCode": wrong })),
        )
        .await;
    assert_eq!(
        (refused.status, refused.json()),
        (401, json!({ "error": "Invalid TOTP code" }))
    );
    let ok = api
        .call(
            Method::POST,
            "/auth/2fa/verify",
            &[BEARER],
            Some(json!({ "tempToken": temp, "totpCode": code })),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let access = ok.json()["accessToken"]
        .as_str()
        .expect("access")
        .to_owned();
    assert_eq!(jwt_parts(&access).1["isTotpEnabled"], true);
}

#[tokio::test]
async fn sessions_are_enveloped_in_iso_times_without_is_current() {
    let api = api().await;
    let (access, _) = bearer_login(&api, FIREFOX).await;
    api.other_device(DEMO_LOGIN, IPHONE, "198.51.100.20").await;
    let list = sessions(&api, &access).await;
    assert_eq!(list.len(), 2);
    let fields = sorted(&[
        "sessionHandle",
        "userId",
        "userAgent",
        "ipAddress",
        "createdAt",
        "expiresAt",
        "lastActiveAt",
    ]);
    for s in &list {
        assert_eq!(keys(s), fields);
        for time in ["createdAt", "expiresAt", "lastActiveAt"] {
            let text = s[time].as_str().expect("a string");
            assert!(
                text.len() == 24 && text.ends_with('Z') && text.as_bytes()[19] == b'.',
                "{time}: {text}"
            );
        }
    }
    // Only the access token's sid says which one is ours.
    let ours = sid(&access);
    assert_eq!(
        list.iter()
            .filter(|s| s["sessionHandle"] == ours.as_str())
            .count(),
        1
    );
    assert!(list.iter().any(|s| s["ipAddress"] == "198.51.100.20"));
}

#[tokio::test]
async fn no_token_and_a_bad_token_are_403() {
    let api = api().await;
    let none = api.get("/auth/sessions", "").await;
    assert_eq!(
        (none.status, none.json()),
        (403, json!({ "error": "No access token provided" }))
    );
    let bad = with_token(&api, Method::GET, "/auth/sessions", "nope").await;
    assert_eq!(
        (bad.status, bad.json()),
        (403, json!({ "error": "Invalid or expired access token" }))
    );
    let (access, _) = bearer_login(&api, FIREFOX).await;
    api.advance("PT15M1S").await;
    let expired = with_token(&api, Method::GET, "/auth/sessions", &access).await;
    assert_eq!(expired.status, 403);
}

#[tokio::test]
async fn refresh_rotates_the_handle_and_resets_created_at() {
    let api = api().await;
    let (access, refresh_token) = bearer_login(&api, FIREFOX).await;
    let before = sessions(&api, &access).await;
    api.advance("PT10M").await;
    let reply = refresh(&api, &refresh_token).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let new_access = reply.json()["accessToken"].as_str().expect("a").to_owned();
    let after = sessions(&api, &new_access).await;
    assert_eq!(after.len(), 1);
    assert_ne!(after[0]["sessionHandle"], before[0]["sessionHandle"]);
    assert_eq!(after[0]["sessionHandle"], sid(&new_access).as_str());
    assert!(after[0]["createdAt"].as_str() > before[0]["createdAt"].as_str());
    // The old refresh token was replaced.
    let stale = refresh(&api, &refresh_token).await;
    assert_eq!(
        (stale.status, stale.json()),
        (401, json!({ "error": "Invalid refresh token" }))
    );
}

#[tokio::test]
async fn a_second_login_of_the_same_user_invalidates_the_first_refresh_token() {
    let api = api().await;
    let (_, first) = bearer_login(&api, FIREFOX).await;
    bearer_login(&api, IPHONE).await;
    let reply = refresh(&api, &first).await;
    assert_eq!(
        (reply.status, reply.json()),
        (401, json!({ "error": "Invalid refresh token" }))
    );
}

#[tokio::test]
async fn a_revoked_session_cannot_refresh_but_its_access_token_still_lists() {
    let api = api().await;
    let (admin_access, _) = bearer_login(&api, IPHONE).await;
    let (access, refresh_token) = bearer_login(&api, FIREFOX).await;
    let handle = sid(&access);
    let revoked = with_token(
        &api,
        Method::DELETE,
        &format!("/auth/sessions/{handle}"),
        &admin_access,
    )
    .await;
    assert_eq!(
        (revoked.status, revoked.json()),
        (200, json!({ "success": true }))
    );
    let reply = refresh(&api, &refresh_token).await;
    assert_eq!(
        (reply.status, reply.json()),
        (
            401,
            json!({ "error": "Session has been revoked", "code": "SESSION_REVOKED" })
        )
    );
    // Quirk 3: the access token is only a JWT; it works until it expires.
    let still = with_token(&api, Method::GET, "/auth/sessions", &access).await;
    assert_eq!(still.status, 200);
    assert!(
        !still.json()["sessions"]
            .as_array()
            .expect("sessions")
            .iter()
            .any(|s| s["sessionHandle"] == handle.as_str())
    );
    api.advance("PT15M").await;
    assert_eq!(
        with_token(&api, Method::GET, "/auth/sessions", &access)
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn a_garbage_refresh_token_is_invalid_refresh_token() {
    let api = api().await;
    let reply = refresh(&api, "garbage").await;
    assert_eq!(
        (reply.status, reply.json()),
        (
            401,
            json!({ "error": "Invalid or expired refresh token", "code": "INVALID_REFRESH_TOKEN" })
        )
    );
}

#[tokio::test]
async fn revoking_unknown_or_foreign_handles_is_404_and_ones_own_is_allowed() {
    let api = api().await;
    let (access, _) = bearer_login(&api, FIREFOX).await;
    api.control()
        .create_user("eve@example.com", "pw")
        .await
        .expect("eve");
    let (eves, _) = api
        .other_device("eve@example.com", FIREFOX, "192.0.2.66")
        .await;
    for handle in ["nope", eves.as_str()] {
        let reply = with_token(
            &api,
            Method::DELETE,
            &format!("/auth/sessions/{handle}"),
            &access,
        )
        .await;
        assert_eq!(
            (reply.status, reply.json()),
            (404, json!({ "error": "Session not found" }))
        );
    }
    let own = with_token(
        &api,
        Method::DELETE,
        &format!("/auth/sessions/{}", sid(&access)),
        &access,
    )
    .await;
    assert_eq!(own.status, 200);
}

#[tokio::test]
async fn logout_reads_only_the_cookie() {
    let api = api().await;
    let (access, _) = bearer_login(&api, FIREFOX).await;
    let bearer_logout = with_token(&api, Method::POST, "/auth/logout", &access).await;
    assert_eq!(bearer_logout.status, 200);
    assert_eq!(sessions(&api, &access).await.len(), 1, "nothing ended");
    let cookie = format!("accessToken={access}");
    let logout = api.post("/auth/logout", &cookie, json!({})).await;
    assert_eq!(
        (logout.status, logout.json()),
        (200, json!({ "success": true }))
    );
    assert!(sessions(&api, &access).await.is_empty());
}

#[tokio::test]
async fn cleanup_deletes_expired_sessions_without_authentication() {
    let api = api().await;
    bearer_login(&api, FIREFOX).await;
    bearer_login(&api, IPHONE).await;
    api.advance("P7DT1M").await;
    let reply = api.post("/auth/sessions/cleanup", "", json!({})).await;
    assert_eq!(
        (reply.status, reply.json()),
        (200, json!({ "success": true, "deleted": 2 }))
    );
}

async fn admin(api: &Api, method: Method, path: &str, secret: Option<&str>) -> common::Reply {
    let auth = secret.map(|s| format!("Bearer {s}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
    api.call(method, path, &headers, None).await
}

#[tokio::test]
async fn the_admin_api_wants_its_secret() {
    let api = api().await;
    let missing = admin(&api, Method::GET, "/admin/api/sessions", None).await;
    assert_eq!(
        (missing.status, missing.json()),
        (401, json!({ "error": "Unauthorized" }))
    );
    let wrong = admin(&api, Method::GET, "/admin/api/sessions", Some("guess")).await;
    assert_eq!(
        (wrong.status, wrong.json()),
        (403, json!({ "error": "Forbidden" }))
    );
}

#[tokio::test]
async fn the_admin_api_pages_filters_and_revokes_any_handle() {
    let api = api().await;
    let secret = Some(DEMO_ADMIN_SECRET);
    for i in 0..25 {
        api.other_device(DEMO_LOGIN, FIREFOX, &format!("198.51.100.{i}"))
            .await;
    }
    let page = admin(
        &api,
        Method::GET,
        "/admin/api/sessions?limit=10&offset=20",
        secret,
    )
    .await;
    let body = page.json();
    assert_eq!(body["total"], 25);
    assert_eq!(body["sessions"].as_array().expect("sessions").len(), 5);
    let capped = admin(&api, Method::GET, "/admin/api/sessions?limit=500", secret).await;
    assert_eq!(capped.json()["sessions"].as_array().expect("s").len(), 25);
    let filtered = admin(
        &api,
        Method::GET,
        "/admin/api/sessions?filter=198.51.100.1",
        secret,
    )
    .await
    .json();
    // .1, .10 … .19
    assert_eq!(filtered["total"], 11);
    let handle = filtered["sessions"][0]["sessionHandle"]
        .as_str()
        .expect("handle")
        .to_owned();
    let gone = admin(
        &api,
        Method::DELETE,
        &format!("/admin/api/sessions/{handle}"),
        secret,
    )
    .await;
    assert_eq!(
        (gone.status, gone.json()),
        (200, json!({ "success": true }))
    );
    let unknown = admin(&api, Method::DELETE, "/admin/api/sessions/nope", secret).await;
    assert_eq!(
        (unknown.status, unknown.json()),
        (200, json!({ "success": true }))
    );
    let after = admin(&api, Method::GET, "/admin/api/sessions", secret).await;
    assert_eq!(after.json()["total"], 24);
}
