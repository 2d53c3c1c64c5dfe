//! The hectoday API as docs/apis.md §3 specifies it, checked over real HTTP.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};
use tower::ServiceExt;
use warden_mock::{DEMO_LOGIN, DEMO_PASSWORD, MockServer, MockState};

struct Api {
    server: MockServer,
    http: reqwest::Client,
}

impl Api {
    async fn start() -> Api {
        Api {
            server: warden_mock::spawn().await.expect("mock starts"),
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.hectoday_url())
    }

    /// Signs in with a user agent and a forwarded address; returns the response.
    async fn login(&self, email: &str, password: &str, agent: &str, ip: &str) -> reqwest::Response {
        self.http
            .post(self.url("/login"))
            .header("user-agent", agent)
            .header("x-forwarded-for", format!("{ip}, 10.0.0.1"))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .expect("answers")
    }

    async fn session_cookie(&self, agent: &str, ip: &str) -> String {
        self.session_cookie_as(DEMO_LOGIN, DEMO_PASSWORD, agent, ip)
            .await
    }

    /// Signs `email` in and returns the `session=<id>` pair its cookie sets.
    async fn session_cookie_as(
        &self,
        email: &str,
        password: &str,
        agent: &str,
        ip: &str,
    ) -> String {
        let response = self.login(email, password, agent, ip).await;
        let cookie = response.headers()[SET_COOKIE]
            .to_str()
            .expect("ascii")
            .to_owned();
        cookie.split(';').next().expect("name=value").to_owned()
    }

    /// Moves the server's clock through the control API.
    async fn advance(&self, by: &str) {
        self.server
            .control()
            .advance_clock(by)
            .await
            .expect("the clock moves");
    }

    /// Revokes the session whose cookie is `target`, as the holder of `cookie`.
    async fn revoke(&self, target: &str, cookie: &str) -> (StatusCode, Value) {
        let id = target.trim_start_matches("session=");
        let path = format!("/me/sessions/{id}");
        self.call(reqwest::Method::DELETE, &path, cookie).await
    }

    /// What listing the sessions with this cookie answers.
    async fn list_status(&self, cookie: &str) -> StatusCode {
        self.call(reqwest::Method::GET, "/me/sessions", cookie)
            .await
            .0
    }

    async fn call(&self, method: reqwest::Method, path: &str, cookie: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .request(method, self.url(path))
            .header(COOKIE, cookie)
            .send()
            .await
            .expect("answers");
        let status = StatusCode::from_u16(response.status().as_u16()).expect("status");
        (status, response.json().await.expect("a JSON body"))
    }
}

const FIREFOX: &str = warden_mock::agents::FIREFOX_LINUX;
const CHROME_MAC: &str = warden_mock::agents::CHROME_MAC;

#[tokio::test]
async fn login_sets_the_session_cookie_with_the_courses_attributes() {
    let api = Api::start().await;
    let response = api
        .login(DEMO_LOGIN, DEMO_PASSWORD, FIREFOX, "203.0.113.7")
        .await;
    assert_eq!(response.status(), 200);
    let cookie = response.headers()[SET_COOKIE].to_str().expect("ascii");
    let attributes: Vec<&str> = cookie.split(';').map(str::trim).collect();
    assert!(attributes[0].starts_with("session="), "{cookie}");
    for wanted in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=86400"] {
        assert!(
            attributes.contains(&wanted),
            "{wanted} missing from {cookie}"
        );
    }
}

#[tokio::test]
async fn a_wrong_password_is_401() {
    let api = Api::start().await;
    let response = api.login(DEMO_LOGIN, "nope", FIREFOX, "203.0.113.7").await;
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn without_a_cookie_every_route_is_401_unauthorized() {
    let api = Api::start().await;
    for (method, path) in [
        (reqwest::Method::GET, "/me/sessions"),
        (reqwest::Method::DELETE, "/me/sessions/abc"),
        (reqwest::Method::POST, "/me/sessions/revoke-all"),
    ] {
        let (status, body) = api.call(method, path, "session=not-a-session").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(body, json!({ "error": "Unauthorized" }), "{path}");
    }
}

#[tokio::test]
async fn sessions_are_a_bare_array_newest_first_with_sqlite_times() {
    let api = Api::start().await;
    let _older = api.session_cookie(CHROME_MAC, "1.2.3.4").await;
    api.advance("PT5S").await;
    let mine = api.session_cookie(FIREFOX, "203.0.113.7").await;
    let (status, body) = api.call(reqwest::Method::GET, "/me/sessions", &mine).await;
    assert_eq!(status, StatusCode::OK);
    let sessions = body.as_array().expect("a bare array");
    assert_eq!(sessions.len(), 2);
    let (first, second) = (&sessions[0], &sessions[1]);
    assert_eq!(first["deviceName"], "Firefox on Linux");
    assert_eq!(
        first["ip"], "203.0.113.7",
        "the first X-Forwarded-For entry"
    );
    assert_eq!(first["isCurrent"], true);
    assert_eq!(second["deviceName"], "Chrome on macOS");
    assert_eq!(second["isCurrent"], false);
    let time = first["lastActiveAt"].as_str().expect("text");
    assert!(
        chrono::NaiveDateTime::parse_from_str(time, "%Y-%m-%d %H:%M:%S").is_ok(),
        "YYYY-MM-DD HH:MM:SS, got {time}"
    );
    assert_eq!(
        first.as_object().map(|o| o.len()),
        Some(6),
        "exactly id, deviceName, ip, lastActiveAt, createdAt, isCurrent: {first}"
    );
}

#[tokio::test]
async fn the_current_session_cannot_be_revoked_by_id() {
    let api = Api::start().await;
    let mine = api.session_cookie(FIREFOX, "203.0.113.7").await;
    let (status, body) = api.revoke(&mine, &mine).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({ "error": "Use POST /logout to end your current session." })
    );
}

#[tokio::test]
async fn another_users_session_is_not_found() {
    let api = Api::start().await;
    api.server
        .control()
        .create_user("eve@example.com", "eve-pw")
        .await
        .expect("eve is created");
    let eve = api
        .session_cookie_as("eve@example.com", "eve-pw", FIREFOX, "192.0.2.66")
        .await;
    let mine = api.session_cookie(FIREFOX, "203.0.113.7").await;
    let (status, body) = api.revoke(&eve, &mine).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({ "error": "Session not found" }));
    assert_eq!(
        api.list_status(&eve).await,
        StatusCode::OK,
        "Eve is still signed in"
    );
}

#[tokio::test]
async fn revoking_a_device_ends_it_and_its_cookie_stops_working() {
    let api = Api::start().await;
    let other = api.session_cookie(CHROME_MAC, "1.2.3.4").await;
    let mine = api.session_cookie(FIREFOX, "203.0.113.7").await;
    let (status, body) = api.revoke(&other, &mine).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({ "message": "Session revoked." }));
    assert_eq!(api.list_status(&other).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn revoke_all_keeps_only_the_current_session() {
    let api = Api::start().await;
    let other = api.session_cookie(CHROME_MAC, "1.2.3.4").await;
    let mine = api.session_cookie(FIREFOX, "203.0.113.7").await;
    let (status, body) = api
        .call(reqwest::Method::POST, "/me/sessions/revoke-all", &mine)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({ "message": "All other sessions have been revoked." })
    );
    assert_eq!(api.list_status(&other).await, StatusCode::UNAUTHORIZED);
    let (_, sessions) = api.call(reqwest::Method::GET, "/me/sessions", &mine).await;
    assert_eq!(sessions.as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_session_idle_for_30_minutes_has_ended() {
    let api = Api::start().await;
    let mine = api.session_cookie(FIREFOX, "203.0.113.7").await;
    api.advance("PT29M").await;
    assert_eq!(api.list_status(&mine).await, StatusCode::OK);
    api.advance("PT31M").await;
    assert_eq!(api.list_status(&mine).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_session_ends_24_hours_after_sign_in_however_active() {
    let api = Api::start().await;
    let mine = api.session_cookie(FIREFOX, "203.0.113.7").await;
    for _ in 0..48 {
        api.advance("PT29M").await;
        if api.list_status(&mine).await != StatusCode::OK {
            break;
        }
    }
    // 48 × 29 min = 23 h 12 min of activity: alive. Past 24 h it is over.
    assert_eq!(api.list_status(&mine).await, StatusCode::OK);
    api.advance("PT50M").await;
    assert_eq!(api.list_status(&mine).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_control_api_refuses_a_peer_that_is_not_loopback() {
    let router = warden_mock::router(MockState::with_demo_user());
    let peer: SocketAddr = "192.0.2.10:40000".parse().expect("addr");
    let mut request = Request::get(format!("/__mock/sessions?login={DEMO_LOGIN}"))
        .body(Body::empty())
        .expect("request");
    request.extensions_mut().insert(ConnectInfo(peer));
    let response = router.oneshot(request).await.expect("answers");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_control_api_creates_and_lists_sessions_for_loopback() {
    let api = Api::start().await;
    let control = api.server.control();
    let id = control
        .sign_in_device(DEMO_LOGIN, FIREFOX, "203.0.113.7")
        .await
        .expect("creates");
    assert_eq!(control.live_ids(DEMO_LOGIN).await.expect("lists"), vec![id]);
}

#[tokio::test]
async fn the_clock_refuses_what_is_not_a_precise_duration() {
    let api = Api::start().await;
    let http = reqwest::Client::new();
    for (advance, why) in [("25 hours", "ISO-8601"), ("P1M", "not years or months")] {
        let response = http
            .post(format!("{}__mock/clock", api.server.url()))
            .json(&json!({ "advance": advance }))
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status(), 400, "{advance}");
        let body: Value = response.json().await.expect("JSON");
        let error = body["error"].as_str().unwrap_or_default();
        assert!(error.contains(why), "{advance}: {error}");
    }
}

#[tokio::test]
async fn advancing_the_clock_moves_the_servers_now() {
    let api = Api::start().await;
    let http = reqwest::Client::new();
    let url = format!("{}__mock/clock", api.server.url());
    let now = |body: Value| {
        chrono::DateTime::parse_from_rfc3339(body["now"].as_str().expect("now")).expect("RFC 3339")
    };
    let before = now(http
        .get(&url)
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON"));
    let advanced = http
        .post(&url)
        .json(&json!({ "advance": "PT25H" }))
        .send()
        .await
        .expect("answers");
    let after = now(advanced.json().await.expect("JSON"));
    let moved = after - before;
    let slack = chrono::Duration::seconds(5);
    assert!(
        moved >= chrono::Duration::hours(25) && moved < chrono::Duration::hours(25) + slack,
        "moved {moved}"
    );
}

#[tokio::test]
async fn a_session_the_service_ends_itself_stops_working() {
    let api = Api::start().await;
    let other = api.session_cookie(CHROME_MAC, "1.2.3.4").await;
    let id = other.trim_start_matches("session=");
    api.server.control().end_session(id).await.expect("ends");
    assert_eq!(api.list_status(&other).await, StatusCode::UNAUTHORIZED);
    let again = api.server.control().end_session(id).await;
    assert_eq!(
        again.err().and_then(|e| e.status()).map(|s| s.as_u16()),
        Some(404),
        "ending it twice is a 404"
    );
}

#[tokio::test]
async fn activity_moves_last_active_and_can_change_the_address() {
    let api = Api::start().await;
    let other = api.session_cookie(CHROME_MAC, "1.2.3.4").await;
    let mine = api.session_cookie(FIREFOX, "203.0.113.7").await;
    api.advance("PT10M").await;
    let id = other.trim_start_matches("session=");
    api.server
        .control()
        .record_activity(id, Some("198.51.100.99"))
        .await
        .expect("records");
    let (_, sessions) = api.call(reqwest::Method::GET, "/me/sessions", &mine).await;
    let chrome = sessions
        .as_array()
        .and_then(|all| all.iter().find(|s| s["id"] == id))
        .expect("listed");
    assert_eq!(chrome["ip"], "198.51.100.99");
    assert_eq!(
        chrome["lastActiveAt"], sessions[0]["lastActiveAt"],
        "as recent as our own request"
    );
}

#[tokio::test]
async fn a_created_user_signs_in_and_reset_forgets_everyone_but_the_demo_user() {
    let api = Api::start().await;
    let control = api.server.control();
    control
        .create_user("bob@example.com", "bob-pw")
        .await
        .expect("creates");
    let bob = api
        .login("bob@example.com", "bob-pw", FIREFOX, "192.0.2.5")
        .await;
    assert_eq!(bob.status(), 200);
    control.reset().await.expect("resets");
    let bob = api
        .login("bob@example.com", "bob-pw", FIREFOX, "192.0.2.5")
        .await;
    assert_eq!(bob.status(), 401, "bob is gone");
    assert!(
        control
            .live_ids(DEMO_LOGIN)
            .await
            .expect("lists")
            .is_empty()
    );
    let demo = api
        .login(DEMO_LOGIN, DEMO_PASSWORD, FIREFOX, "192.0.2.5")
        .await;
    assert_eq!(demo.status(), 200, "the demo user remains");
}
