//! Each built-in scenario's timeline, fast-forwarded on the mock's clock, seen from the
//! server's side through the control API.

use serde_json::Value;
use warden_mock::{DEMO_LOGIN, MockServer, MockState, Scenario};

async fn playing(name: &str) -> MockServer {
    let state = MockState::with_demo_user();
    state.start_scenario(Scenario::load(name).expect("a scenario"), false);
    warden_mock::spawn_with(state).await.expect("mock starts")
}

/// Every live session of the demo user, server side.
async fn live(server: &MockServer) -> Vec<Value> {
    let mut url = server.url().join("__mock/sessions").expect("url");
    url.query_pairs_mut().append_pair("login", DEMO_LOGIN);
    reqwest::get(url)
        .await
        .expect("answers")
        .json()
        .await
        .expect("json")
}

async fn advance(server: &MockServer, by: &str) {
    server.control().advance_clock(by).await.expect("advances");
}

/// The sessions of the web service, and Home Assistant's tokens (a server of its own).
fn web_and_home_assistant(sessions: Vec<Value>) -> (Vec<Value>, Vec<Value>) {
    sessions
        .into_iter()
        .partition(|s| s["dialect"] != "home-assistant")
}

fn agents(sessions: &[Value]) -> Vec<String> {
    sessions
        .iter()
        .map(|s| s["userAgent"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn demo_a_stranger_from_another_country_signs_in_after_a_minute() {
    let server = playing("demo").await;
    let (before, home) = web_and_home_assistant(live(&server).await);
    assert_eq!(before.len(), 3, "phone, work PC, home Mac");
    assert_eq!(home.len(), 3, "the iOS app, a browser, Node-RED's token");
    assert!(before.iter().all(|s| s["location"]["country"] == "DE"));
    let dialects: Vec<&str> = before
        .iter()
        .filter_map(|s| s["dialect"].as_str())
        .collect();
    for d in ["secureauth", "node-auth", "rtc"] {
        assert!(dialects.contains(&d), "{dialects:?}");
    }
    // hectoday, one of the scene's APIs, keeps no session longer than 24 hours: the scene
    // must not show one older than that.
    let now = server.state().clock.now();
    for session in before.iter().chain(&home) {
        let created = session["createdAt"].as_str().unwrap_or_default();
        let created = chrono::DateTime::parse_from_rfc3339(created).expect("an RFC 3339 time");
        assert!(
            now.signed_duration_since(created) < chrono::TimeDelta::hours(24),
            "{session}"
        );
    }
    advance(&server, "PT59S").await;
    assert_eq!(live(&server).await.len(), 6);
    advance(&server, "PT2S").await;
    let (after, _) = web_and_home_assistant(live(&server).await);
    assert_eq!(after.len(), 4);
    let stranger = after
        .iter()
        .find(|s| s["location"]["country"] == "BR")
        .expect("a sign-in from Brazil");
    assert!(
        stranger["userAgent"]
            .as_str()
            .unwrap_or_default()
            .contains("Firefox")
    );
    assert_eq!(stranger["ip"], "203.0.113.77");
    // A minute later the stranger is in the home server too, and half a minute after that
    // has made a long-lived token there.
    advance(&server, "PT1M").await;
    let (_, home) = web_and_home_assistant(live(&server).await);
    assert_eq!(home.len(), 4);
    assert!(home.iter().any(|s| s["ip"] == "189.100.20.3"), "{home:#?}");
    advance(&server, "PT30S").await;
    let (_, home) = web_and_home_assistant(live(&server).await);
    assert_eq!(home.len(), 5);
    // At four minutes the home Mac's own session is used from São Paulo: its cookie, copied.
    let mac = |sessions: &[Value]| {
        sessions
            .iter()
            .find(|s| s["dialect"] == "rtc")
            .cloned()
            .expect("the home Mac's session")
    };
    let at_home = mac(&before);
    advance(&server, "PT2M").await;
    let (web, _) = web_and_home_assistant(live(&server).await);
    let copied = mac(&web);
    assert_eq!(copied["id"], at_home["id"], "the same session");
    assert_eq!(copied["ip"], "189.100.20.3");
    assert_eq!(copied["location"]["country"], "BR");
    // The devices stay in use: an hour later, every session is still live.
    advance(&server, "PT1H").await;
    assert_eq!(live(&server).await.len(), 9);
}

#[tokio::test]
async fn credential_stuffing_twenty_sign_ins_from_datacenters_with_scripting_tools() {
    let server = playing("credential-stuffing").await;
    assert_eq!(live(&server).await.len(), 1);
    advance(&server, "PT30S").await;
    assert_eq!(live(&server).await.len(), 2, "the first attempt");
    advance(&server, "PT5M").await;
    let sessions = live(&server).await;
    assert_eq!(sessions.len(), 21, "twenty attempts, then it stops");
    let agents = agents(&sessions);
    for tool in ["python-requests", "curl", "HeadlessChrome"] {
        assert!(agents.iter().any(|a| a.contains(tool)), "{tool}");
    }
    assert!(agents.iter().any(String::is_empty), "and no agent at all");
    let ips: std::collections::HashSet<&str> =
        sessions.iter().filter_map(|s| s["ip"].as_str()).collect();
    assert!(ips.len() >= 7, "{ips:?}");
}

#[tokio::test]
async fn impossible_travel_berlin_then_sydney_then_the_laptops_token_in_sao_paulo() {
    let server = playing("impossible-travel").await;
    let laptop = live(&server).await;
    assert_eq!(laptop.len(), 1);
    let laptop_id = laptop[0]["id"].clone();
    assert_eq!(laptop[0]["location"]["city"], "Berlin");
    advance(&server, "PT1M").await;
    let sessions = live(&server).await;
    assert_eq!(sessions.len(), 2);
    assert!(sessions.iter().any(|s| s["location"]["city"] == "Sydney"));
    advance(&server, "PT1M").await;
    let moved = live(&server)
        .await
        .into_iter()
        .find(|s| s["id"] == laptop_id)
        .expect("the laptop's session, same id");
    assert_eq!(moved["ip"], "192.0.2.45");
    assert_eq!(moved["location"]["city"], "São Paulo");
}

#[tokio::test]
async fn refresh_storm_the_same_three_devices_under_new_handles() {
    let server = playing("refresh-storm").await;
    let before = live(&server).await;
    assert_eq!(before.len(), 3);
    advance(&server, "PT1M").await;
    let after = live(&server).await;
    assert_eq!(after.len(), 3, "refreshes add no session");
    let mut before_agents = agents(&before);
    let mut after_agents = agents(&after);
    before_agents.sort();
    after_agents.sort();
    assert_eq!(before_agents, after_agents, "the same devices");
    for session in &after {
        assert!(
            !before.iter().any(|b| b["id"] == session["id"]),
            "every handle rotated"
        );
        assert!(
            session["createdAt"].as_str() > before[0]["createdAt"].as_str(),
            "createdAt reset"
        );
    }
}

async fn faults(server: &MockServer) -> Vec<Value> {
    reqwest::get(server.url().join("__mock/faults").expect("url"))
        .await
        .expect("answers")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn flaky_cycles_through_errors_latency_bad_bodies_throttling_and_calm() {
    let server = playing("flaky").await;
    let mut seen = Vec::new();
    for step in ["PT15S", "PT20S", "PT20S", "PT20S", "PT30S"] {
        advance(&server, step).await;
        let on = faults(&server).await;
        assert!(on.len() <= 1, "one at a time: {on:?}");
        let what = on.first().map(|f| {
            if f["status"] == 500 {
                "500s"
            } else if f["latencyMs"] == 2500 {
                "slow"
            } else if f["body"] == "malformed" {
                "malformed"
            } else if f["status"] == 429 {
                "429"
            } else {
                "other"
            }
        });
        seen.push(what.unwrap_or("calm"));
    }
    assert_eq!(seen, ["500s", "slow", "malformed", "429", "calm"]);
    // …and again on the next cycle.
    advance(&server, "PT25S").await;
    assert_eq!(faults(&server).await.len(), 1);
}

#[tokio::test]
async fn reset_plays_the_scenario_again_from_its_start() {
    let server = playing("demo").await;
    advance(&server, "PT3M").await;
    assert_eq!(live(&server).await.len(), 9);
    server.control().reset().await.expect("reset");
    assert_eq!(
        live(&server).await.len(),
        6,
        "the scene again, no stranger yet"
    );
}

#[tokio::test]
async fn a_big_jump_catches_up_without_running_every_occurrence() {
    let server = playing("refresh-storm").await;
    // 3 days of refreshes every few seconds would be ~200,000 occurrences; only the last
    // thousand of each step run, and the devices end up as they would have anyway.
    advance(&server, "P3D").await;
    assert_eq!(live(&server).await.len(), 3);
}
