//! Playing the other devices through `warden-mock`'s control API, over HTTP like any client.

use anyhow::Context;

pub const FIREFOX_LINUX: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
pub const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
pub const CHROME_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";

pub struct Mock {
    pub server: warden_mock::MockServer,
    http: reqwest::Client,
}

impl Mock {
    pub async fn start() -> anyhow::Result<Mock> {
        Ok(Mock {
            server: warden_mock::spawn().await?,
            http: reqwest::Client::new(),
        })
    }

    pub fn hectoday_url(&self) -> String {
        self.server.hectoday_url().to_string()
    }

    /// A device signs in to the demo account; returns the server's session id.
    pub async fn sign_in_device(&self, user_agent: &str, ip: &str) -> anyhow::Result<String> {
        let response: serde_json::Value = self
            .http
            .post(self.server.url().join("__mock/sessions")?)
            .json(&serde_json::json!({
                "login": warden_mock::DEMO_LOGIN, "userAgent": user_agent, "ip": ip
            }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(response["id"].as_str().context("no id")?.to_owned())
    }

    /// The server's ids of every live session of the demo user.
    pub async fn live_ids(&self) -> anyhow::Result<Vec<String>> {
        let url = self.server.url().join(&format!(
            "__mock/sessions?login={}",
            warden_mock::DEMO_LOGIN
        ))?;
        let sessions: Vec<serde_json::Value> = self
            .http
            .get(url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(sessions
            .iter()
            .filter_map(|s| s["id"].as_str().map(str::to_owned))
            .collect())
    }
}
