//! Faults per route through the control API: each does to a client what it says.

mod common;

use std::time::{Duration, Instant};

use common::{Api, FIREFOX};
use reqwest::Method;
use serde_json::json;
use warden_mock::{DEMO_LOGIN, Dialect, FaultSpec};

fn fault(route: &str) -> FaultSpec {
    serde_json::from_value(json!({ "route": route })).expect("a fault")
}

/// Signs a hectoday device in and returns its cookie.
async fn hectoday() -> (Api, String) {
    let api = Api::start(Dialect::Hectoday).await;
    let (_, cookie) = api.other_device(DEMO_LOGIN, FIREFOX, "198.51.100.1").await;
    (api, cookie)
}

#[tokio::test]
async fn an_error_rate_fails_that_share_of_requests_evenly() {
    let (api, cookie) = hectoday().await;
    let spec = FaultSpec {
        status: Some(500),
        rate: 0.5,
        ..fault("/hectoday/me/sessions")
    };
    api.control().add_fault(&spec).await.expect("fault on");
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(api.get("/me/sessions", &cookie).await.status);
    }
    assert_eq!(statuses, [200, 500, 200, 500, 200, 500]);
    let failed = api.get("/me/sessions", &cookie).await;
    assert_eq!(failed.status, 200);
    let failed = api.get("/me/sessions", &cookie).await;
    assert_eq!(failed.json(), json!({ "error": "Internal Server Error" }));
    // Another API's routes are untouched.
    let rtc = Api::start(Dialect::Rtc).await;
    assert_eq!(rtc.get("/api/sessions", "").await.status, 401);
}

#[tokio::test]
async fn a_429_carries_retry_after_and_times_removes_the_fault() {
    let (api, cookie) = hectoday().await;
    let spec = FaultSpec {
        status: Some(429),
        retry_after: Some(7),
        times: Some(2),
        ..fault("/hectoday")
    };
    api.control().add_fault(&spec).await.expect("fault on");
    for _ in 0..2 {
        let reply = api.get("/me/sessions", &cookie).await;
        assert_eq!(reply.status, 429);
        assert_eq!(reply.header("retry-after"), Some("7"));
    }
    assert_eq!(api.get("/me/sessions", &cookie).await.status, 200);
}

#[tokio::test]
async fn latency_delays_the_answer() {
    let (api, cookie) = hectoday().await;
    let spec = FaultSpec {
        latency_ms: 300,
        method: Some("GET".into()),
        ..fault("/hectoday/me")
    };
    api.control().add_fault(&spec).await.expect("fault on");
    let started = Instant::now();
    assert_eq!(api.get("/me/sessions", &cookie).await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn a_malformed_body_is_not_json() {
    let (api, cookie) = hectoday().await;
    let spec = FaultSpec {
        body: Some(warden_mock::faults::BodyFault::Malformed),
        ..fault("/hectoday/me/sessions")
    };
    api.control().add_fault(&spec).await.expect("fault on");
    let reply = api.get("/me/sessions", &cookie).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert!(serde_json::from_str::<serde_json::Value>(&reply.text).is_err());
}

#[tokio::test]
async fn a_truncated_body_ends_the_connection_early() {
    let (api, cookie) = hectoday().await;
    let spec = FaultSpec {
        body: Some(warden_mock::faults::BodyFault::Truncated),
        ..fault("/hectoday/me/sessions")
    };
    api.control().add_fault(&spec).await.expect("fault on");
    let response = reqwest::Client::new()
        .get(api.url("/me/sessions"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("headers arrive");
    assert_eq!(response.status(), 200);
    assert!(response.bytes().await.is_err(), "the body is cut short");
}

#[tokio::test]
async fn a_body_of_n_megabytes_is_still_json() {
    let (api, cookie) = hectoday().await;
    let spec = FaultSpec {
        size_mb: Some(10.0),
        ..fault("/hectoday/me/sessions")
    };
    api.control().add_fault(&spec).await.expect("fault on");
    let reply = api.get("/me/sessions", &cookie).await;
    assert_eq!(reply.text.len(), 10 * 1024 * 1024);
    assert!(reply.json().is_array());
}

#[tokio::test]
async fn a_hang_holds_the_request_until_the_fault_is_removed() {
    let (api, cookie) = hectoday().await;
    let spec = FaultSpec {
        hang: true,
        ..fault("/hectoday/me/sessions")
    };
    api.control().add_fault(&spec).await.expect("fault on");
    let request = reqwest::Client::new()
        .get(api.url("/me/sessions"))
        .header("cookie", &cookie)
        .send();
    let pending = tokio::spawn(request);
    reached_the_fault(&api).await;
    assert!(!pending.is_finished(), "still hanging");
    api.control().clear_faults().await.expect("faults off");
    let answered = tokio::time::timeout(Duration::from_secs(5), pending)
        .await
        .expect("released")
        .expect("joined")
        .expect("answered");
    assert_eq!(answered.status(), 200);
}

#[tokio::test]
async fn stopping_the_server_releases_a_hung_request() {
    let (mut api, cookie) = hectoday().await;
    let spec = FaultSpec {
        hang: true,
        ..fault("/")
    };
    api.control().add_fault(&spec).await.expect("fault on");
    let pending = tokio::spawn(
        reqwest::Client::new()
            .get(api.url("/me/sessions"))
            .header("cookie", &cookie)
            .send(),
    );
    reached_the_fault(&api).await;
    tokio::time::timeout(Duration::from_secs(5), api.server.stop())
        .await
        .expect("the server stops despite the hung request");
    let _ = tokio::time::timeout(Duration::from_secs(5), pending)
        .await
        .expect("the client is let go");
}

/// Waits until the one request sent has reached the fault (the fault counts it on arrival).
async fn reached_the_fault(api: &Api) {
    let arrived = async {
        loop {
            let faults: serde_json::Value = reqwest::get(control_url(api, "__mock/faults"))
                .await
                .expect("faults")
                .json()
                .await
                .expect("json");
            if faults[0]["hits"] == 1 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), arrived)
        .await
        .expect("the request reached the fault");
}

fn control_url(api: &Api, path: &str) -> String {
    format!("{}{path}", api.server.url())
}

#[tokio::test]
async fn a_fault_on_the_control_api_or_a_bad_rate_is_refused() {
    let api = Api::start(Dialect::Hectoday).await;
    let http = reqwest::Client::new();
    for body in [
        json!({ "route": "/__mock/clock", "status": 500 }),
        json!({ "route": "/hectoday", "rate": 2.0 }),
        json!({ "route": "hectoday" }),
        json!({ "route": "/hectoday", "status": 1000 }),
    ] {
        let reply = http
            .request(Method::POST, control_url(&api, "__mock/faults"))
            .json(&body)
            .send()
            .await
            .expect("answers");
        assert_eq!(reply.status(), 400, "{body}");
    }
}
