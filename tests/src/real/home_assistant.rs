//! A real Home Assistant (PyPI `homeassistant` 2024.3.3, pinned by
//! `tests/servers/home-assistant/requirements.lock`, on Debian's Python 3.11), configured
//! fresh in a temp dir, on 127.0.0.1 on a free port, onboarded over HTTP as a person's
//! browser would: its owner is the person whose account Session Warden watches. Devices sign
//! in through the real login flow from addresses of their own (`X-Forwarded-For` from the
//! trusted proxy 127.0.0.1, as HA is set up here).

use std::path::PathBuf;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use super::{Process, free_port, servers_dir};

pub const OWNER: &str = "owner";
pub const PASSWORD: &str = "ha-owner-password";

pub struct HomeAssistant {
    _process: Process,
    dir: tempfile::TempDir,
    /// The server's root, ending in `/`.
    pub url: String,
    http: reqwest::Client,
}

/// `hass` of the virtualenv `cargo xtask setup` made.
fn hass() -> anyhow::Result<PathBuf> {
    let hass = servers_dir("home-assistant")
        .join(".venv")
        .join("bin")
        .join("hass");
    anyhow::ensure!(
        hass.exists(),
        "{} is missing: `cargo xtask setup` installs the real servers",
        hass.display()
    );
    Ok(hass)
}

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Whether HA closes `socket` within `within`: what it does to every open connection of a
/// refresh token it deletes, so a revoked device loses its live view at once, not only its
/// next renewal.
pub async fn closes(socket: &mut Socket, within: Duration) -> bool {
    let ended = async {
        loop {
            match socket.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            }
        }
    };
    tokio::time::timeout(within, ended).await.is_ok()
}

/// The next text frame, as JSON.
async fn read(socket: &mut Socket) -> anyhow::Result<Value> {
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => return Ok(serde_json::from_str(text.as_str())?),
            Some(Ok(_)) => {}
            other => anyhow::bail!("the WebSocket ended: {other:?}"),
        }
    }
}

impl HomeAssistant {
    /// Started and onboarded. `ban_after`: HA's `login_attempts_threshold` (its default, -1,
    /// never bans).
    pub async fn start(ban_after: i64) -> anyhow::Result<HomeAssistant> {
        let dir = tempfile::tempdir()?;
        let port = free_port()?;
        let config = dir.path().join("config");
        std::fs::create_dir_all(&config)?;
        std::fs::write(
            config.join("configuration.yaml"),
            format!(
                "homeassistant:\n  name: Warden Test Home\n  latitude: 52.37\n  longitude: 4.89\n  \
                 elevation: 0\n  unit_system: metric\n  time_zone: UTC\n  currency: EUR\n  \
                 country: NL\n  auth_providers: [{{type: homeassistant}}]\n  \
                 auth_mfa_modules: [{{type: totp}}]\n\
                 http:\n  server_host: 127.0.0.1\n  server_port: {port}\n  \
                 use_x_forwarded_for: true\n  trusted_proxies: [127.0.0.1]\n  \
                 ip_ban_enabled: true\n  login_attempts_threshold: {ban_after}\n\
                 logger: {{default: warning}}\n"
            ),
        )?;
        let mut command = std::process::Command::new(hass()?);
        command
            .arg("-c")
            .arg(&config)
            .args(["--skip-pip", "--log-file"])
            .arg(dir.path().join("hass.log"));
        let mut process = Process::spawn(command, &dir.path().join("hass.out"))?;
        let url = format!("http://127.0.0.1:{port}/");
        process
            .wait_for(&format!("{url}api/onboarding"), Duration::from_secs(180))
            .await?;
        let ha = HomeAssistant {
            _process: process,
            dir,
            url,
            http: reqwest::Client::new(),
        };
        ha.onboard().await?;
        Ok(ha)
    }

    /// The owner, created as the onboarding page does, and signed in once in a browser.
    async fn onboard(&self) -> anyhow::Result<()> {
        let client_id = self.url.clone();
        let made: Value = self
            .http
            .post(format!("{}api/onboarding/users", self.url))
            .json(&json!({
                "client_id": client_id, "name": "Owner", "username": OWNER,
                "password": PASSWORD, "language": "en",
            }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let code = made["auth_code"].as_str().unwrap_or_default();
        self.token_for(code, &client_id, None).await?;
        Ok(())
    }

    async fn token_for(
        &self,
        code: &str,
        client_id: &str,
        ip: Option<&str>,
    ) -> anyhow::Result<Value> {
        let mut request = self.http.post(format!("{}auth/token", self.url)).form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", client_id),
        ]);
        if let Some(ip) = ip {
            request = request.header("X-Forwarded-For", ip);
        }
        Ok(request.send().await?.error_for_status()?.json().await?)
    }

    /// A device signs in through the login flow as `client_id` from `ip`: its tokens
    /// (`refresh_token`, `access_token`).
    pub async fn sign_in_device(&self, client_id: &str, ip: &str) -> anyhow::Result<Value> {
        let redirect = if client_id.starts_with("https://home-assistant.io/") {
            "homeassistant://auth-callback".to_owned()
        } else {
            format!("{client_id}?auth_callback=1")
        };
        let flow: Value = self
            .http
            .post(format!("{}auth/login_flow", self.url))
            .header("X-Forwarded-For", ip)
            .json(&json!({
                "client_id": client_id, "handler": ["homeassistant", null],
                "redirect_uri": redirect,
            }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let flow_id = flow["flow_id"].as_str().unwrap_or_default();
        let done: Value = self
            .http
            .post(format!("{}auth/login_flow/{flow_id}", self.url))
            .header("X-Forwarded-For", ip)
            .json(&json!({ "client_id": client_id, "username": OWNER, "password": PASSWORD }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let code = done["result"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("no auth code: {done}"))?;
        self.token_for(code, client_id, Some(ip)).await
    }

    /// Whether HA still renews this refresh token (a refused one counts as a failed login:
    /// only for tests that do not ban).
    pub async fn refreshes(&self, client_id: &str, refresh: &str) -> anyhow::Result<bool> {
        let response = self
            .http
            .post(format!("{}auth/token", self.url))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh),
                ("client_id", client_id),
            ])
            .send()
            .await?;
        Ok(response.status().is_success())
    }

    /// A WebSocket signed in with `access`, as an open app or browser tab holds one.
    pub async fn connect(&self, access: &str) -> anyhow::Result<Socket> {
        let url = format!("{}api/websocket", self.url.replacen("http", "ws", 1));
        let (mut socket, _) = tokio_tungstenite::connect_async(url.as_str()).await?;
        anyhow::ensure!(read(&mut socket).await?["type"] == "auth_required");
        let auth = json!({ "type": "auth", "access_token": access });
        socket.send(Message::text(auth.to_string())).await?;
        let answer = read(&mut socket).await?;
        anyhow::ensure!(answer["type"] == "auth_ok", "{answer}");
        Ok(socket)
    }

    /// One WebSocket command with `access`; its `result`.
    pub async fn command(&self, access: &str, mut command: Value) -> anyhow::Result<Value> {
        let mut socket = self.connect(access).await?;
        command["id"] = json!(1);
        socket.send(Message::text(command.to_string())).await?;
        loop {
            let frame = read(&mut socket).await?;
            if frame["type"] == "result" {
                anyhow::ensure!(frame["success"] == true, "refused: {frame}");
                return Ok(frame["result"].clone());
            }
        }
    }

    /// Every token of the owner, as HA lists them.
    pub async fn tokens(&self, access: &str) -> anyhow::Result<Vec<Value>> {
        let listed = self
            .command(access, json!({ "type": "auth/refresh_tokens" }))
            .await?;
        Ok(listed.as_array().cloned().unwrap_or_default())
    }

    /// Whether HA has banned 127.0.0.1 (the machine's own address) for failed logins.
    pub fn banned_here(&self) -> bool {
        std::fs::read_to_string(self.dir.path().join("config").join("ip_bans.yaml"))
            .is_ok_and(|bans| bans.contains("127.0.0.1"))
    }

    /// HA's own log, for a failure message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("hass.log")).unwrap_or_default()
    }
}
