//! A real Synapse homeserver (PyPI `matrix-synapse`, pinned by `tests/servers/python/
//! requirements.lock`) on SQLite in a temp dir, with a config written here: one client
//! listener on 127.0.0.1 that believes `X-Forwarded-For` (so each test device has its own
//! address), registration by shared secret only, rate limits out of the way.

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use super::{Process, free_port, python, run};

const SHARED_SECRET: &str = "session-warden-tests-only-registration-secret";

pub struct Synapse {
    _process: Process,
    dir: tempfile::TempDir,
    /// The homeserver's root, ending in `/`.
    pub url: String,
    http: reqwest::Client,
}

fn config(dir: &std::path::Path, port: u16) -> String {
    let d = dir.display();
    format!(
        r#"server_name: "localhost"
pid_file: {d}/homeserver.pid
listeners:
  - port: {port}
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    x_forwarded: true
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: {d}/homeserver.db
media_store_path: {d}/media
signing_key_path: {d}/signing.key
registration_shared_secret: "{SHARED_SECRET}"
macaroon_secret_key: "session-warden-tests-only-macaroon"
form_secret: "session-warden-tests-only-form"
report_stats: false
trusted_key_servers: []
suppress_key_server_warning: true
enable_registration: false
rc_login:
  address: {{per_second: 1000, burst_count: 1000}}
  account: {{per_second: 1000, burst_count: 1000}}
  failed_attempts: {{per_second: 1000, burst_count: 1000}}
"#
    )
}

impl Synapse {
    pub async fn start() -> anyhow::Result<Synapse> {
        let python = python()?;
        let dir = tempfile::tempdir()?;
        let port = free_port()?;
        let config_path = dir.path().join("homeserver.yaml");
        std::fs::write(&config_path, config(dir.path(), port))?;
        let mut keys = Command::new(&python);
        keys.args(["-m", "synapse.app.homeserver", "--generate-keys", "-c"])
            .arg(&config_path);
        run(keys, "generating Synapse's signing key")?;
        let mut server = Command::new(&python);
        server
            .args(["-m", "synapse.app.homeserver", "-c"])
            .arg(&config_path)
            .current_dir(dir.path());
        let mut process = Process::spawn(server, &dir.path().join("synapse.log"))?;
        let url = format!("http://127.0.0.1:{port}/");
        process
            .wait_for(
                &format!("{url}_matrix/client/versions"),
                Duration::from_secs(90),
            )
            .await?;
        Ok(Synapse {
            _process: process,
            dir,
            url,
            http: reqwest::Client::new(),
        })
    }

    fn api(&self, path: &str) -> String {
        format!("{}_matrix/client/v3/{path}", self.url)
    }

    /// A user, with no device signed in (registering signs one in: it is signed out here).
    pub async fn register(&self, user: &str, password: &str) -> anyhow::Result<()> {
        let script = python()?.with_file_name("register_new_matrix_user");
        let mut register = Command::new(script);
        register
            .args(["-u", user, "-p", password, "--no-admin", "-c"])
            .arg(self.dir.path().join("homeserver.yaml"))
            .arg(&self.url);
        run(register, "registering a Matrix user")?;
        let token = self
            .sign_in_device(user, password, "setup", "127.0.0.1")
            .await?;
        let devices: Value = self
            .http
            .get(self.api("devices"))
            .bearer_auth(&token.token)
            .send()
            .await?
            .json()
            .await?;
        let all: Vec<&str> = devices["devices"]
            .as_array()
            .map(|d| d.iter().filter_map(|d| d["device_id"].as_str()).collect())
            .unwrap_or_default();
        let challenge: Value = self
            .http
            .post(self.api("delete_devices"))
            .bearer_auth(&token.token)
            .json(&json!({ "devices": all }))
            .send()
            .await?
            .json()
            .await?;
        self.http
            .post(self.api("delete_devices"))
            .bearer_auth(&token.token)
            .json(&json!({ "devices": all, "auth": {
                "type": "m.login.password",
                "identifier": { "type": "m.id.user", "user": user },
                "password": password,
                "session": challenge["session"],
            }}))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    /// A device signs in with its own agent and address, then calls once from there, so the
    /// server has seen it (Synapse records addresses of authenticated requests only).
    pub async fn sign_in_device(
        &self,
        user: &str,
        password: &str,
        name: &str,
        ip: &str,
    ) -> anyhow::Result<Device> {
        let answer: Value = self
            .http
            .post(self.api("login"))
            .header("x-forwarded-for", ip)
            .json(&json!({
                "type": "m.login.password",
                "identifier": { "type": "m.id.user", "user": user },
                "password": password,
                "initial_device_display_name": name,
            }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let device = Device {
            token: answer["access_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            id: answer["device_id"].as_str().unwrap_or_default().to_owned(),
        };
        self.http
            .get(self.api("account/whoami"))
            .header("x-forwarded-for", ip)
            .bearer_auth(&device.token)
            .send()
            .await?
            .error_for_status()?;
        Ok(device)
    }

    /// What the server answers the device's token now: `None` when it is still good, else
    /// the `errcode` (`M_UNKNOWN_TOKEN` once signed out).
    pub async fn refusal(&self, device: &Device) -> anyhow::Result<Option<String>> {
        let response = self
            .http
            .get(self.api("account/whoami"))
            .bearer_auth(&device.token)
            .send()
            .await?;
        if response.status().is_success() {
            return Ok(None);
        }
        let body: Value = response.json().await?;
        Ok(body["errcode"].as_str().map(str::to_owned))
    }
}

/// A device signed in by the test.
pub struct Device {
    pub id: String,
    pub token: String,
}
