//! SecureAuth as docs/apis.md §1 specifies it, checked over real HTTP.

mod common;

use common::{Api, CHROME_WINDOWS, FIREFOX, IPHONE, jwt_parts, keys, sorted};
use reqwest::Method;
use serde_json::{Value, json};
use warden_mock::{DEMO_LOGIN, DEMO_PHONE, Dialect};

async fn api() -> Api {
    Api::start(Dialect::SecureAuth).await
}

/// Sends a code to `phone` and returns (verificationId, the code from the outbox).
async fn send_code(api: &Api, phone: &str) -> (String, String) {
    let sent = api
        .post("/api/auth/send-otp", "", json!({ "phoneNumber": phone }))
        .await;
    assert_eq!(sent.status, 200, "{}", sent.text);
    let id = sent.json()["verificationId"]
        .as_str()
        .expect("an id")
        .to_owned();
    let code = api
        .control()
        .last_code_sent_to(phone)
        .await
        .expect("outbox")
        .expect("a code was sent");
    (id, code)
}

/// Signs in with phone + code as a device; returns the reply of verify-otp.
async fn sign_in(api: &Api, phone: &str, agent: &str) -> common::Reply {
    let (id, code) = send_code(api, phone).await;
    api.call(
        Method::POST,
        "/api/auth/verify-otp",
        &[("user-agent", agent), ("x-forwarded-for", "198.51.100.20")],
        Some(json!({ "verificationId": id, "otp": code })),
    )
    .await
}

async fn cookie(api: &Api) -> String {
    sign_in(api, DEMO_PHONE, FIREFOX).await.cookie("token")
}

#[tokio::test]
async fn send_otp_answers_an_id_and_puts_the_code_in_the_outbox() {
    let api = api().await;
    let sent = api
        .post(
            "/api/auth/send-otp",
            "",
            json!({ "phoneNumber": DEMO_PHONE }),
        )
        .await;
    assert_eq!(sent.status, 200);
    let body = sent.json();
    assert_eq!(keys(&body), sorted(&["verificationId", "message"]));
    assert_eq!(body["message"], "OTP sent successfully");
    let id = body["verificationId"].as_str().expect("a string");
    assert!(uuid_like(id), "{id}");
    let code = api
        .control()
        .last_code_sent_to(DEMO_PHONE)
        .await
        .expect("outbox")
        .expect("a code");
    assert_eq!(code.len(), 6);
    assert!(code.chars().all(|c| c.is_ascii_digit()));

    let missing = api.post("/api/auth/send-otp", "", json!({})).await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.json(), json!({ "error": "Phone number required" }));
}

fn uuid_like(id: &str) -> bool {
    id.len() == 36 && id.chars().filter(|c| *c == '-').count() == 4
}

#[tokio::test]
async fn verify_otp_signs_in_with_a_jwt_cookie_of_seven_days() {
    let api = api().await;
    let reply = sign_in(&api, DEMO_PHONE, IPHONE).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    assert_eq!(keys(&body), sorted(&["token", "user", "isNewUser"]));
    assert_eq!(body["isNewUser"], false);
    assert_eq!(
        keys(&body["user"]),
        sorted(&["userId", "phoneNumber", "displayName", "sessionId"])
    );
    assert_eq!(body["user"]["phoneNumber"], DEMO_PHONE);
    let token = body["token"].as_str().expect("a token");
    assert_eq!(
        reply.set_cookie("token"),
        format!("token={token}; Max-Age=604800; Path=/; HttpOnly")
    );
    let (header, claims) = jwt_parts(token);
    assert_eq!(header["alg"], "HS256");
    assert_eq!(
        keys(&claims),
        sorted(&[
            "userId",
            "phoneNumber",
            "displayName",
            "sessionId",
            "iat",
            "exp"
        ])
    );
    assert_eq!(claims["sessionId"], body["user"]["sessionId"]);
    assert_eq!(
        claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat"),
        604_800
    );
}

#[tokio::test]
async fn verify_otp_errors_are_the_servers() {
    let api = api().await;
    let verify = |id: &str, otp: &str| {
        let body = json!({ "verificationId": id, "otp": otp });
        let api = &api;
        async move { api.post("/api/auth/verify-otp", "", body).await }
    };
    let missing = api
        .post("/api/auth/verify-otp", "", json!({ "otp": "123456" }))
        .await;
    assert_eq!(
        (missing.status, missing.json()),
        (400, json!({ "error": "Data missing" }))
    );
    let unknown = verify("00000000-0000-0000-0000-000000000000", "123456").await;
    assert_eq!(
        (unknown.status, unknown.json()),
        (404, json!({ "error": "Invalid verification" }))
    );
    let (id, code) = send_code(&api, DEMO_PHONE).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let bad = verify(&id, wrong).await;
    assert_eq!(
        (bad.status, bad.json()),
        (400, json!({ "error": "Invalid OTP" }))
    );
    assert_eq!(verify(&id, &code).await.status, 200);
    let reused = verify(&id, &code).await;
    assert_eq!(
        (reused.status, reused.json()),
        (404, json!({ "error": "Invalid verification" }))
    );
    let (late_id, late_code) = send_code(&api, DEMO_PHONE).await;
    api.advance("PT5M1S").await;
    let late = verify(&late_id, &late_code).await;
    assert_eq!(
        (late.status, late.json()),
        (400, json!({ "error": "OTP expired" }))
    );
}

#[tokio::test]
async fn a_new_phone_is_a_new_user_who_completes_a_profile_in_the_same_session() {
    let api = api().await;
    let reply = sign_in(&api, "+15550001111", FIREFOX).await;
    assert_eq!(reply.json()["isNewUser"], true);
    let session = reply.json()["user"]["sessionId"].clone();
    let done = api
        .post(
            "/api/auth/complete-profile",
            &reply.cookie("token"),
            json!({ "displayName": "Ada" }),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(done.json()["user"]["displayName"], "Ada");
    assert_eq!(done.json()["user"]["sessionId"], session);
    let (_, claims) = jwt_parts(done.cookie("token").trim_start_matches("token="));
    assert_eq!(claims["displayName"], "Ada");
    assert_eq!(claims["sessionId"], session);
    let me = api.get("/api/auth/me", &done.cookie("token")).await;
    assert_eq!(me.json()["user"]["displayName"], "Ada");
}

#[tokio::test]
async fn sessions_are_a_bare_array_in_epoch_milliseconds_newest_first() {
    let api = api().await;
    let mine = cookie(&api).await;
    api.other_device(DEMO_LOGIN, IPHONE, "198.51.100.20").await;
    api.advance("PT2M").await;
    let (chrome, _) = api
        .other_device(DEMO_LOGIN, CHROME_WINDOWS, "192.0.2.44")
        .await;
    let reply = api.get("/api/auth/sessions", &mine).await;
    assert_eq!(reply.status, 200);
    let sessions = reply.json();
    let sessions = sessions.as_array().expect("a bare array");
    assert_eq!(sessions.len(), 3);
    let fields = sorted(&[
        "id",
        "userId",
        "userAgent",
        "browser",
        "os",
        "device",
        "ip",
        "createdAt",
        "lastActiveAt",
        "revoked",
        "isCurrent",
    ]);
    for s in sessions {
        assert_eq!(keys(s), fields);
        assert!(s["createdAt"].is_i64() && s["lastActiveAt"].is_i64(), "{s}");
        assert_eq!(s["revoked"], false);
    }
    // Our own call bumped our lastActiveAt (it was 2 minutes old), so we come first.
    assert_eq!(sessions[0]["isCurrent"], true);
    assert_eq!(sessions[1]["id"], chrome.as_str());
    let times: Vec<i64> = sessions
        .iter()
        .map(|s| s["lastActiveAt"].as_i64().expect("ms"))
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    let iphone = &sessions[2];
    assert_eq!(iphone["browser"], "Mobile Safari 17.4");
    assert_eq!(iphone["os"], "iOS 17.4");
    assert_eq!(iphone["device"], "mobile");
    assert_eq!(iphone["ip"], "198.51.100.20");
    assert_eq!(sessions[1]["device"], "desktop");
    let now_ms = chrono::Utc::now().timestamp_millis();
    assert!(
        (times[0] - now_ms) > 60_000,
        "times follow the mock's clock"
    );
}

#[tokio::test]
async fn last_active_moves_at_most_once_a_minute() {
    let api = api().await;
    let mine = cookie(&api).await;
    let first = current(&api, &mine).await["lastActiveAt"].clone();
    api.advance("PT30S").await;
    assert_eq!(current(&api, &mine).await["lastActiveAt"], first);
    api.advance("PT31S").await;
    let moved = current(&api, &mine).await["lastActiveAt"].clone();
    assert!(moved.as_i64() > first.as_i64(), "{first} → {moved}");
}

async fn current(api: &Api, cookie: &str) -> Value {
    let sessions = api.get("/api/auth/sessions", cookie).await.json();
    sessions
        .as_array()
        .expect("array")
        .iter()
        .find(|s| s["isCurrent"] == true)
        .expect("ours is listed")
        .clone()
}

#[tokio::test]
async fn no_cookie_is_401_and_a_bearer_header_is_not_read() {
    let api = api().await;
    let mine = cookie(&api).await;
    let none = api.get("/api/auth/sessions", "").await;
    assert_eq!(
        (none.status, none.json()),
        (401, json!({ "error": "Unauthorized" }))
    );
    let token = mine.trim_start_matches("token=");
    let bearer = api
        .call(
            Method::GET,
            "/api/auth/sessions",
            &[("authorization", &format!("Bearer {token}"))],
            None,
        )
        .await;
    assert_eq!(bearer.status, 401);
}

#[tokio::test]
async fn a_bad_jwt_is_403_with_the_libraries_words_and_clears_the_cookie() {
    let api = api().await;
    let mine = cookie(&api).await;
    let token = mine.trim_start_matches("token=").to_owned();
    let (head, rest) = token.split_once('.').expect("a JWT");
    let (payload, _) = rest.split_once('.').expect("a JWT");
    let forged = format!("{head}.{payload}.c2lnbmF0dXJl");
    for (cookie, details) in [
        ("token=garbage".to_owned(), "jwt malformed"),
        (format!("token={forged}"), "invalid signature"),
    ] {
        let reply = api.get("/api/auth/sessions", &cookie).await;
        assert_eq!(reply.status, 403, "{cookie}");
        assert_eq!(
            reply.json(),
            json!({ "error": "Forbidden", "details": details })
        );
        assert!(reply.set_cookie("token").starts_with("token=;"), "cleared");
    }
    api.advance("P7DT1S").await;
    let expired = api.get("/api/auth/sessions", &mine).await;
    assert_eq!(
        (expired.status, expired.json()),
        (
            403,
            json!({ "error": "Forbidden", "details": "jwt expired" })
        )
    );
}

#[tokio::test]
async fn revoking_answers_403_for_unknown_and_foreign_ids() {
    let api = api().await;
    let mine = cookie(&api).await;
    let (theirs, _) = api.other_device(DEMO_LOGIN, IPHONE, "198.51.100.20").await;
    api.control()
        .create_user("eve@example.com", "pw")
        .await
        .expect("eve");
    let (eves, _) = api
        .other_device("eve@example.com", FIREFOX, "192.0.2.66")
        .await;
    for id in ["00000000-0000-0000-0000-000000000000", eves.as_str()] {
        let reply = api.delete(&format!("/api/auth/sessions/{id}"), &mine).await;
        assert_eq!(
            (reply.status, reply.json()),
            (403, json!({ "error": "Forbidden" }))
        );
    }
    assert!(
        api.control()
            .live_ids("eve@example.com")
            .await
            .expect("list")
            .contains(&eves)
    );
    let ok = api
        .delete(&format!("/api/auth/sessions/{theirs}"), &mine)
        .await;
    assert_eq!((ok.status, ok.json()), (200, json!({ "success": true })));
    assert!(
        !api.control()
            .live_ids(DEMO_LOGIN)
            .await
            .expect("list")
            .contains(&theirs)
    );
}

#[tokio::test]
async fn a_revoked_session_gets_401_and_ones_own_may_be_revoked() {
    let api = api().await;
    let mine = cookie(&api).await;
    let (theirs, their_cookie) = api.other_device(DEMO_LOGIN, IPHONE, "198.51.100.20").await;
    api.delete(&format!("/api/auth/sessions/{theirs}"), &mine)
        .await;
    let refused = api.get("/api/auth/sessions", &their_cookie).await;
    assert_eq!(
        (refused.status, refused.json()),
        (401, json!({ "error": "Session expired or revoked" }))
    );
    assert!(refused.set_cookie("token").starts_with("token=;"));

    let own_id = current(&api, &mine).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let own = api
        .delete(&format!("/api/auth/sessions/{own_id}"), &mine)
        .await;
    assert_eq!(own.status, 200);
    assert!(own.set_cookie("token").starts_with("token=;"), "cleared");
    assert_eq!(api.get("/api/auth/sessions", &mine).await.status, 401);
}

#[tokio::test]
async fn delete_others_keeps_the_current_session_and_counts() {
    let api = api().await;
    let mine = cookie(&api).await;
    for ip in ["198.51.100.1", "198.51.100.2"] {
        api.other_device(DEMO_LOGIN, IPHONE, ip).await;
    }
    let reply = api.delete("/api/auth/sessions/others", &mine).await;
    assert_eq!(
        (reply.status, reply.json()),
        (200, json!({ "success": true, "count": 2 }))
    );
    let left = api.get("/api/auth/sessions", &mine).await.json();
    assert_eq!(left.as_array().expect("array").len(), 1);
    assert_eq!(left[0]["isCurrent"], true);
}

#[tokio::test]
async fn logout_revokes_the_session_and_clears_the_cookie() {
    let api = api().await;
    let mine = cookie(&api).await;
    let reply = api.post("/api/auth/logout", &mine, json!({})).await;
    assert_eq!(
        (reply.status, reply.json()),
        (200, json!({ "success": true }))
    );
    assert!(reply.set_cookie("token").starts_with("token=;"));
    assert_eq!(api.get("/api/auth/me", &mine).await.status, 401);
}

#[tokio::test]
async fn the_rate_limit_is_1000_per_15_minutes_in_plain_text() {
    let api = api().await;
    let mine = cookie(&api).await;
    // sign-in used 2 requests of the window.
    let mut last = None;
    for _ in 0..998 {
        last = Some(api.get("/api/auth/me", &mine).await);
    }
    let last = last.expect("replies");
    assert_eq!(last.status, 200);
    assert_eq!(last.header("x-ratelimit-limit"), Some("1000"));
    assert_eq!(last.header("x-ratelimit-remaining"), Some("0"));
    assert!(last.header("x-ratelimit-reset").is_some());
    let limited = api.get("/api/auth/me", &mine).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.text, "Too many requests, please try again later.");
    let wait: i64 = limited
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=900).contains(&wait), "{wait}");
    api.advance("PT15M").await;
    assert_eq!(api.get("/api/auth/me", &mine).await.status, 200);
}
