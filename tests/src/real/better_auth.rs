//! An app on the real `better-auth` (npm, pinned by `tests/servers/better-auth/
//! package-lock.json`): our `server.mjs` on Node, its memory adapter, cookies only (the
//! Origin check on) unless the bearer plugin is asked for.

use std::process::Command;
use std::time::Duration;

use super::{Process, servers_dir};

pub struct BetterAuth {
    _process: Process,
    _dir: tempfile::TempDir,
    /// The app's root, ending in `/`; Better Auth under `api/auth/`.
    pub url: String,
    http: reqwest::Client,
}

/// A user the test created.
pub struct User {
    pub id: String,
    /// The authenticator's secret, where two-factor sign-in is on.
    pub totp_secret: Option<String>,
}

/// A device signed in through the real routes: the cookie it holds.
pub struct Device {
    pub cookie: String,
}

impl BetterAuth {
    /// `fresh_age`: Better Auth's `session.freshAge` in seconds (the library's day if `None`).
    pub async fn start(fresh_age: Option<u64>) -> anyhow::Result<BetterAuth> {
        let dir = tempfile::tempdir()?;
        let app = servers_dir("better-auth");
        anyhow::ensure!(
            app.join("node_modules").join("better-auth").exists(),
            "better-auth is not installed: `cargo xtask setup` installs it"
        );
        let mut node = Command::new("node");
        node.arg(app.join("server.mjs")).current_dir(&app);
        if let Some(age) = fresh_age {
            node.env("FRESH_AGE", age.to_string());
        }
        let log = dir.path().join("better-auth.log");
        let mut process = Process::spawn(node, &log)?;
        // It prints its address first.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let url = loop {
            if let Some(url) = process
                .output()
                .lines()
                .find_map(|l| l.strip_prefix("listening on "))
            {
                break url.trim().to_owned();
            }
            anyhow::ensure!(
                std::time::Instant::now() < deadline,
                "the Better Auth app did not start:\n{}",
                process.output()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        process
            .wait_for(
                &format!("{url}api/auth/get-session"),
                Duration::from_secs(30),
            )
            .await?;
        Ok(BetterAuth {
            _process: process,
            _dir: dir,
            url,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
        })
    }

    /// A user; with `totp`, two-factor sign-in on.
    pub async fn create_user(
        &self,
        email: &str,
        password: &str,
        totp: bool,
    ) -> anyhow::Result<User> {
        let created: serde_json::Value = self
            .http
            .post(format!("{}test/users", self.url))
            .json(&serde_json::json!({ "email": email, "password": password, "totp": totp }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let totp_secret = created["totpURI"].as_str().and_then(|uri| {
            let url = url::Url::parse(uri).ok()?;
            url.query_pairs()
                .find(|(k, _)| k == "secret")
                .map(|(_, v)| v.into_owned())
        });
        Ok(User {
            id: created["id"].as_str().unwrap_or_default().to_owned(),
            totp_secret,
        })
    }

    /// How many sessions of `user` Session Warden holds on the server now (by their agent).
    pub async fn sessions_of_ours(&self, user: &User) -> anyhow::Result<usize> {
        Ok(self
            .sessions()
            .await?
            .iter()
            .filter(|s| s["userId"] == user.id.as_str())
            .filter(|s| {
                s["userAgent"]
                    .as_str()
                    .is_some_and(|a| a.starts_with("SessionWarden/"))
            })
            .count())
    }

    /// A device signs in through `sign-in/email`, with its own agent and address.
    pub async fn sign_in_device(
        &self,
        email: &str,
        password: &str,
        agent: &str,
        ip: &str,
    ) -> anyhow::Result<Device> {
        let response = self
            .http
            .post(format!("{}api/auth/sign-in/email", self.url))
            .header("user-agent", agent)
            .header("x-forwarded-for", ip)
            .json(&serde_json::json!({ "email": email, "password": password }))
            .send()
            .await?
            .error_for_status()?;
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("better-auth.session_token="))
            .and_then(|c| c.split(';').next())
            .map(str::to_owned)
            .ok_or_else(|| anyhow::anyhow!("no session cookie"))?;
        Ok(Device { cookie })
    }

    /// Whether the server still knows the device's credential (get-session is not `null`).
    pub async fn knows(&self, device: &Device) -> anyhow::Result<bool> {
        let body = self
            .http
            .get(format!("{}api/auth/get-session", self.url))
            .header("cookie", &device.cookie)
            .send()
            .await?
            .text()
            .await?;
        Ok(body.trim() != "null")
    }

    /// Every session in the server's database, live tokens included (the test looks for
    /// them where they must never be).
    pub async fn sessions(&self) -> anyhow::Result<Vec<serde_json::Value>> {
        Ok(self
            .http
            .get(format!("{}test/sessions", self.url))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }
}
