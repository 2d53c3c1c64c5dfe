//! The control API and the binary's own options: snapshot, users with TOTP, the outbox,
//! `--state FILE` across a restart, `--scenario`, and the start-up banner.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Api, FIREFOX};
use serde_json::{Value, json};
use warden_mock::{DEMO_LOGIN, DEMO_PHONE, Dialect};

#[tokio::test]
async fn a_snapshot_put_back_restores_users_sessions_and_the_clock() {
    let api = Api::start(Dialect::Hectoday).await;
    let http = reqwest::Client::new();
    let url = api.server.url().join("__mock/snapshot").expect("url");
    let (kept, _) = api.other_device(DEMO_LOGIN, FIREFOX, "198.51.100.1").await;
    let saved: Value = http
        .get(url.clone())
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    assert!(saved["store"]["sessions"][&kept].is_object());
    let (later, _) = api.other_device(DEMO_LOGIN, FIREFOX, "198.51.100.2").await;
    api.advance("PT3H").await;
    let put = http.put(url).json(&saved).send().await.expect("answers");
    assert_eq!(put.status(), 204);
    let ids = api.control().live_ids(DEMO_LOGIN).await.expect("ids");
    assert_eq!(ids, vec![kept]);
    assert!(!ids.contains(&later));
}

#[tokio::test]
async fn a_user_created_with_totp_gets_a_secret_and_backup_codes() {
    let api = Api::start(Dialect::Rtc).await;
    let created: Value = reqwest::Client::new()
        .post(api.server.url().join("__mock/users").expect("url"))
        .json(&json!({ "login": "ada@example.com", "password": "pw", "totp": true }))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    let secret = created["totp"]["secret"].as_str().expect("a secret");
    let info = api.control().totp("ada@example.com").await.expect("totp");
    assert_eq!(info.secret, secret);
    assert_eq!(info.backup_codes.len(), 10);
    assert_eq!(info.code.len(), 6);
    let none = reqwest::get(
        api.server
            .url()
            .join("__mock/users/demo@example.com/totp")
            .expect("url"),
    )
    .await
    .expect("answers");
    assert_eq!(none.status(), 404, "the demo user has no second factor");
}

#[tokio::test]
async fn the_outbox_holds_each_code_sent_by_phone() {
    let api = Api::start(Dialect::SecureAuth).await;
    for phone in [DEMO_PHONE, "+15550009999", DEMO_PHONE] {
        api.post("/api/auth/send-otp", "", json!({ "phoneNumber": phone }))
            .await;
    }
    let mut url = api.server.url().join("__mock/outbox").expect("url");
    url.query_pairs_mut().append_pair("to", DEMO_PHONE);
    let sent: Vec<Value> = reqwest::get(url)
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    assert_eq!(sent.len(), 2);
    for message in &sent {
        assert_eq!(message["to"], DEMO_PHONE);
        let code = message["code"].as_str().expect("code");
        assert!(message["body"].as_str().unwrap_or_default().contains(code));
    }
}

/// The `warden-mock` binary, stopped (SIGTERM) when dropped.
struct Binary {
    child: Child,
    url: String,
    banner: Vec<String>,
}

impl Binary {
    fn start(args: &[&str]) -> Binary {
        let mut child = Command::new(env!("CARGO_BIN_EXE_warden-mock"))
            .args(["--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("warden-mock starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().expect("a first line").expect("utf-8");
        let url = first
            .strip_prefix("warden-mock listening on ")
            .expect("the first line names the URL")
            .to_owned();
        let banner = lines
            .map_while(Result::ok)
            .take_while(|l| !l.contains("control API"))
            .collect();
        Binary { child, url, banner }
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn live_ids(url: &str) -> Vec<String> {
    warden_mock::ControlClient::new(url.parse().expect("url"))
        .live_ids(DEMO_LOGIN)
        .await
        .expect("ids")
}

#[tokio::test]
async fn the_state_file_survives_a_restart_and_is_written_atomically() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("mock-state.json");
    let path = file.to_str().expect("utf-8");
    let first = Binary::start(&["--no-devices", "--state", path]);
    let control = warden_mock::ControlClient::new(first.url.parse().expect("url"));
    let id = control
        .sign_in_device(DEMO_LOGIN, FIREFOX, "198.51.100.5")
        .await
        .expect("signs in");
    // Written within the saver's period, whole.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&file).is_ok_and(|t| t.contains(&id)) {
        assert!(
            Instant::now() < deadline,
            "the state file never got the session"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.stop();
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left: {leftovers:?}");

    let second = Binary::start(&["--no-devices", "--state", path]);
    assert!(second.banner.iter().any(|l| l.contains("(restored)")));
    assert_eq!(live_ids(&second.url).await, vec![id]);
    second.stop();
}

#[tokio::test]
async fn the_banner_names_every_api_and_its_demo_credentials() {
    let binary = Binary::start(&["--scenario", "demo"]);
    let banner = binary.banner.join("\n");
    for wanted in [
        "/secureauth",
        "/node-auth",
        "/hectoday",
        "/rtc",
        "/home-assistant  demo / demo-password",
        DEMO_PHONE,
        "TOTP secret",
        "demo-admin-secret",
        "scenario    demo:",
    ] {
        assert!(banner.contains(wanted), "{wanted} missing from:\n{banner}");
    }
    // Three devices on the web service, and the same person's three Home Assistant tokens
    // (the app, a browser, Node-RED's long-lived one).
    assert_eq!(live_ids(&binary.url).await.len(), 6);
}

#[test]
fn an_unknown_scenario_is_refused_in_words() {
    let out = Command::new(env!("CARGO_BIN_EXE_warden-mock"))
        .args(["--port", "0", "--scenario", "no-such-thing"])
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("neither a scenario (quiet, demo, credential-stuffing"),
        "{err}"
    );
}

/// A web page in the person's browser reaches loopback too: through DNS rebinding (its own
/// name resolving to 127.0.0.1, so its requests carry its `Host`) or a cross-site request
/// (which carries its `Origin`). Neither may reset the mock or read its snapshot.
#[tokio::test]
async fn the_control_api_refuses_a_foreign_host_or_origin() {
    let api = Api::start(Dialect::Hectoday).await;
    let http = reqwest::Client::new();
    let snapshot = api.server.url().join("__mock/snapshot").expect("url");
    let reset = api.server.url().join("__mock/reset").expect("url");
    let port = snapshot.port().expect("a port");
    let (kept, _) = api.other_device(DEMO_LOGIN, FIREFOX, "198.51.100.1").await;
    // The status of one request carrying `header: value`.
    let status = |request: reqwest::RequestBuilder, header: &str, value: &str| {
        let request = request.header(header, value);
        async move { request.send().await.expect("answers").status() }
    };
    for (header, value) in [
        ("host", format!("rebound.example:{port}")),
        ("host", format!("127.0.0.1.rebound.example:{port}")),
        ("origin", "http://attacker.example".to_owned()),
        ("origin", "null".to_owned()),
    ] {
        let read = status(http.get(snapshot.clone()), header, &value).await;
        assert_eq!(read, 403, "{header}: {value} must not read");
        let wipe = status(http.post(reset.clone()), header, &value).await;
        assert_eq!(wipe, 403, "{header}: {value} must not reset");
    }
    assert_eq!(
        api.control().live_ids(DEMO_LOGIN).await.expect("ids"),
        vec![kept.clone()],
        "nothing was reset"
    );
    for (header, value) in [
        ("host", format!("localhost:{port}")),
        ("origin", format!("http://127.0.0.1:{port}")),
    ] {
        let read = status(http.get(snapshot.clone()), header, &value).await;
        assert_eq!(read, 200, "{header}: {value} is this machine");
    }
}
