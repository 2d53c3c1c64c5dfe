//! A client for the control API, over HTTP like any other client: what tests and demos use
//! to play the other devices and to look at the server's side.

use url::Url;

#[derive(Clone)]
pub struct ControlClient {
    root: Url,
    http: reqwest::Client,
}

impl ControlClient {
    /// `root` is the server's root URL, ending in `/`.
    pub fn new(root: Url) -> Self {
        Self {
            root,
            http: reqwest::Client::new(),
        }
    }

    /// A device signs in to `login`'s account; returns the server's session id.
    pub async fn sign_in_device(
        &self,
        login: &str,
        user_agent: &str,
        ip: &str,
    ) -> Result<String, reqwest::Error> {
        #[derive(serde::Deserialize)]
        struct Created {
            id: String,
        }
        let created: Created = self
            .http
            .post(self.url("__mock/sessions"))
            .json(&serde_json::json!({ "login": login, "userAgent": user_agent, "ip": ip }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(created.id)
    }

    /// The server's ids of every live session of `login`.
    pub async fn live_ids(&self, login: &str) -> Result<Vec<String>, reqwest::Error> {
        let mut url = self.url("__mock/sessions");
        url.query_pairs_mut().append_pair("login", login);
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

    /// Moves the server's clock by an ISO-8601 duration ("PT31M", "P1DT1H").
    pub async fn advance_clock(&self, by: &str) -> Result<(), reqwest::Error> {
        self.http
            .post(self.url("__mock/clock"))
            .json(&serde_json::json!({ "advance": by }))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    /// The service ends a session itself, as an admin or an expiry would.
    pub async fn end_session(&self, id: &str) -> Result<(), reqwest::Error> {
        self.http
            .delete(self.url(&format!("__mock/sessions/{id}")))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    /// The device used the service just now, from `ip` when given.
    pub async fn record_activity(&self, id: &str, ip: Option<&str>) -> Result<(), reqwest::Error> {
        self.http
            .post(self.url(&format!("__mock/sessions/{id}/activity")))
            .json(&serde_json::json!({ "ip": ip }))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    /// A new user who can sign in with `login` / `password`.
    pub async fn create_user(&self, login: &str, password: &str) -> Result<(), reqwest::Error> {
        self.http
            .post(self.url("__mock/users"))
            .json(&serde_json::json!({ "login": login, "password": password }))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    /// Back to the demo user alone, no session, real time.
    pub async fn reset(&self) -> Result<(), reqwest::Error> {
        self.http
            .post(self.url("__mock/reset"))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    fn url(&self, path: &str) -> Url {
        let mut url = self.root.clone();
        url.set_path(path);
        url
    }
}
