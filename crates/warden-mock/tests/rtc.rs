//! RTC Collector as docs/apis.md §4 specifies it, checked over real HTTP.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::{Api, CHROME_WINDOWS, FIREFOX, IPHONE, keys, sorted};
use reqwest::Method;
use serde_json::{Value, json};
use warden_mock::store::Location;
use warden_mock::{DEMO_LOGIN, DEMO_PASSWORD, DEMO_TOTP_LOGIN, Dialect};

async fn api() -> Api {
    Api::start(Dialect::Rtc).await
}

async fn login(api: &Api, identifier: &str, remember_me: bool) -> common::Reply {
    api.call(
        Method::POST,
        "/api/auth/login",
        &[("user-agent", FIREFOX)],
        Some(json!({ "identifier": identifier, "password": DEMO_PASSWORD, "rememberMe": remember_me })),
    )
    .await
}

async fn cookie(api: &Api) -> String {
    login(api, DEMO_LOGIN, false).await.cookie("token")
}

fn time(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("not an ISO-8601 time: {value}"))
}

async fn sessions(api: &Api, cookie: &str) -> Vec<Value> {
    let reply = api.get("/api/sessions", cookie).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()["sessions"]
        .as_array()
        .expect("sessions")
        .clone()
}

#[tokio::test]
async fn login_answers_the_user_and_a_fixed_expiry_with_a_strict_cookie() {
    let api = api().await;
    let reply = login(&api, DEMO_LOGIN, false).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    assert_eq!(keys(&body), sorted(&["user", "expiresAt"]));
    assert_eq!(keys(&body["user"]), sorted(&["id", "username", "email"]));
    let cookie = reply.set_cookie("token");
    assert!(
        cookie.ends_with("; HttpOnly; SameSite=Strict; Path=/"),
        "{cookie}"
    );
    let lifetime = time(&body["expiresAt"]) - Utc::now();
    assert!(lifetime > Duration::hours(23) && lifetime <= Duration::hours(24));

    let remembered = login(&api, "demo", true).await;
    assert_eq!(remembered.status, 200, "a username is an identifier too");
    let lifetime = time(&remembered.json()["expiresAt"]) - Utc::now();
    assert!(lifetime > Duration::days(29) && lifetime <= Duration::days(30));

    let wrong = api
        .post(
            "/api/auth/login",
            "",
            json!({ "identifier": DEMO_LOGIN, "password": "nope" }),
        )
        .await;
    assert_eq!(
        (wrong.status, wrong.json()),
        (401, json!({ "error": "Invalid credentials" }))
    );
}

#[tokio::test]
async fn sessions_carry_device_browser_location_and_is_current_newest_first() {
    let api = api().await;
    let mine = cookie(&api).await;
    let berlin = Location {
        city: "Berlin".into(),
        country: "DE".into(),
        lat: 52.52,
        lon: 13.4,
    };
    api.control()
        .sign_in_via(
            Dialect::Rtc,
            DEMO_LOGIN,
            IPHONE,
            "198.51.100.20",
            Some(berlin),
        )
        .await
        .expect("signs in");
    let list = sessions(&api, &mine).await;
    assert_eq!(list.len(), 2);
    let fields = sorted(&[
        "id",
        "deviceInfo",
        "deviceType",
        "browser",
        "ipAddress",
        "location",
        "createdAt",
        "lastActivity",
        "expiresAt",
        "isActive",
        "isCurrent",
    ]);
    for s in &list {
        assert_eq!(keys(s), fields);
        assert_eq!(s["isActive"], true);
    }
    // Listing is activity, so ours is the newest.
    assert_eq!(list[0]["isCurrent"], true);
    assert_eq!(list[0]["deviceInfo"], "Desktop - Firefox");
    assert_eq!(list[0]["location"], Value::Null);
    assert_eq!(
        list[0]["ipAddress"], "127.0.0.1",
        "the socket, without proxy headers"
    );
    let phone = &list[1];
    assert_eq!(phone["isCurrent"], false);
    assert_eq!(phone["deviceInfo"], "Mobile Device - Safari");
    assert_eq!(phone["deviceType"], "Mobile Device");
    assert_eq!(phone["location"], "Berlin, DE");
    assert!(time(&list[0]["lastActivity"]) >= time(&phone["lastActivity"]));
}

#[tokio::test]
async fn the_address_comes_from_forwarded_for_then_real_ip() {
    let api = api().await;
    for (headers, expected) in [
        (
            vec![
                ("x-forwarded-for", "203.0.113.9, 10.0.0.1"),
                ("x-real-ip", "192.0.2.1"),
            ],
            "203.0.113.9",
        ),
        (vec![("x-real-ip", "192.0.2.1")], "192.0.2.1"),
    ] {
        let reply = api
            .call(
                Method::POST,
                "/api/auth/login",
                &headers,
                Some(json!({ "identifier": DEMO_LOGIN, "password": DEMO_PASSWORD })),
            )
            .await;
        let list = sessions(&api, &reply.cookie("token")).await;
        let ours = list.iter().find(|s| s["isCurrent"] == true).expect("ours");
        assert_eq!(ours["ipAddress"], expected);
    }
}

#[tokio::test]
async fn expiry_is_fixed_whatever_the_activity() {
    let api = api().await;
    let day = cookie(&api).await;
    let month = login(&api, DEMO_LOGIN, true).await.cookie("token");
    for _ in 0..4 {
        api.advance("PT6H").await;
        if api.get("/api/sessions", &day).await.status != 200 {
            break;
        }
    }
    let expired = api.get("/api/sessions", &day).await;
    assert_eq!(
        (expired.status, expired.json()),
        (401, json!({ "error": "Session expired" }))
    );
    assert_eq!(api.get("/api/sessions", &month).await.status, 200);
    assert_eq!(
        sessions(&api, &month).await.len(),
        1,
        "the expired one is not listed"
    );
    api.advance("P29D").await;
    assert_eq!(api.get("/api/sessions", &month).await.status, 401);
}

#[tokio::test]
async fn revoke_refuses_the_current_one_and_unknown_or_foreign_ids() {
    let api = api().await;
    let mine = cookie(&api).await;
    let own = sessions(&api, &mine).await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let current = api.delete(&format!("/api/sessions/{own}"), &mine).await;
    assert_eq!(
        (current.status, current.json()),
        (400, json!({ "error": "Cannot revoke current session" }))
    );
    api.control()
        .create_user("eve@example.com", "pw")
        .await
        .expect("eve");
    let (eves, _) = api
        .other_device("eve@example.com", FIREFOX, "192.0.2.66")
        .await;
    for id in ["nope", eves.as_str()] {
        let reply = api.delete(&format!("/api/sessions/{id}"), &mine).await;
        assert_eq!(
            (reply.status, reply.json()),
            (404, json!({ "error": "Session not found" }))
        );
    }
}

#[tokio::test]
async fn a_revoked_device_is_told_session_revoked() {
    let api = api().await;
    let mine = cookie(&api).await;
    let (theirs, their_cookie) = api
        .other_device(DEMO_LOGIN, CHROME_WINDOWS, "192.0.2.44")
        .await;
    let reply = api.delete(&format!("/api/sessions/{theirs}"), &mine).await;
    assert_eq!(
        (reply.status, reply.json()),
        (200, json!({ "success": true }))
    );
    let refused = api.get("/api/sessions", &their_cookie).await;
    assert_eq!(
        (refused.status, refused.json()),
        (401, json!({ "error": "Session revoked" }))
    );
    let garbage = api.get("/api/sessions", "token=garbage").await;
    assert_eq!(
        (garbage.status, garbage.json()),
        (401, json!({ "error": "Invalid session" }))
    );
}

#[tokio::test]
async fn logout_all_ends_every_session_the_callers_included() {
    let api = api().await;
    let mine = cookie(&api).await;
    api.other_device(DEMO_LOGIN, IPHONE, "198.51.100.20").await;
    api.other_device(DEMO_LOGIN, CHROME_WINDOWS, "192.0.2.44")
        .await;
    let reply = api.post("/api/sessions/logout-all", &mine, json!({})).await;
    assert_eq!(
        (reply.status, reply.json()),
        (200, json!({ "success": true, "count": 3 }))
    );
    assert_eq!(
        api.get("/api/sessions", &mine).await.json(),
        json!({ "error": "Session revoked" })
    );
    assert!(
        api.control()
            .live_ids(DEMO_LOGIN)
            .await
            .expect("ids")
            .is_empty()
    );
}

async fn start_2fa(api: &Api) -> String {
    let reply = api
        .post(
            "/api/auth/login",
            "",
            json!({ "identifier": DEMO_TOTP_LOGIN, "password": DEMO_PASSWORD }),
        )
        .await;
    let body = reply.json();
    assert_eq!(keys(&body), sorted(&["requires2FA", "tempToken"]));
    assert_eq!(body["requires2FA"], true);
    body["tempToken"].as_str().expect("temp").to_owned()
}

#[tokio::test]
async fn two_factor_takes_a_totp_code_or_a_backup_code_once() {
    let api = api().await;
    let totp = api.control().totp(DEMO_TOTP_LOGIN).await.expect("totp");
    let wrong = api
        .post(
            "/api/auth/2fa",
            "",
            json!({ "tempToken": start_2fa(&api).await, "code": "12345678" }),
        )
        .await;
    assert_eq!(
        (wrong.status, wrong.json()),
        (401, json!({ "error": "Invalid 2FA code" }))
    );
    let by_totp = api
        .post(
            "/api/auth/2fa",
            "",
            json!({ "tempToken": start_2fa(&api).await, "code": totp.code }),
        )
        .await;
    assert_eq!(by_totp.status, 200, "{}", by_totp.text);
    assert!(by_totp.set_cookie("token").contains("SameSite=Strict"));
    let backup = &totp.backup_codes[0];
    for expected in [200, 401] {
        let reply = api
            .post(
                "/api/auth/2fa",
                "",
                json!({ "tempToken": start_2fa(&api).await, "code": backup }),
            )
            .await;
        assert_eq!(reply.status, expected, "{}", reply.text);
    }
}
