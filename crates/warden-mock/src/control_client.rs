//! A client for the control API, over HTTP like any other client: what tests and demos use
//! to play the other devices and to look at the server's side.

use serde::Deserialize;
use url::Url;

use crate::dialect::{Credentials, Dialect};
use crate::faults::FaultSpec;
use crate::store::Location;

/// A device the control API signed in.
#[derive(Debug, Clone, Deserialize)]
pub struct SignedInDevice {
    /// The server's session id.
    pub id: String,
    pub credentials: Credentials,
}

/// A user's TOTP second factor, as `GET /__mock/users/:login/totp` shows it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TotpInfo {
    pub secret: String,
    pub code: String,
    pub backup_codes: Vec<String>,
}

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

    /// A device signs in to `login` through `dialect`, from `ip` (and `location`); returns
    /// its session id and the credentials it holds.
    pub async fn sign_in_via(
        &self,
        dialect: Dialect,
        login: &str,
        user_agent: &str,
        ip: &str,
        location: Option<Location>,
    ) -> Result<SignedInDevice, reqwest::Error> {
        self.http
            .post(self.url("__mock/sessions"))
            .json(&serde_json::json!({
                "login": login,
                "userAgent": user_agent,
                "ip": ip,
                "location": location,
                "dialect": dialect,
            }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }

    /// A Home Assistant long-lived access token named `name` is made on `login`'s account
    /// (by an integration's owner, or an intruder); returns its id.
    pub async fn long_lived_token(
        &self,
        login: &str,
        name: &str,
    ) -> Result<String, reqwest::Error> {
        let made: SignedInDevice = self
            .http
            .post(self.url("__mock/sessions"))
            .json(&serde_json::json!({
                "login": login,
                "userAgent": "",
                "dialect": Dialect::HomeAssistant,
                "name": name,
            }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(made.id)
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

    /// node-auth: the device refreshes, so its session gets a new id; returns it.
    pub async fn refresh_device(&self, id: &str) -> Result<String, reqwest::Error> {
        #[derive(serde::Deserialize)]
        struct Rotated {
            id: String,
        }
        let rotated: Rotated = self
            .http
            .post(self.url(&format!("__mock/sessions/{id}/refresh")))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(rotated.id)
    }

    /// The latest one-time code "sent" to `phone`.
    pub async fn last_code_sent_to(&self, phone: &str) -> Result<Option<String>, reqwest::Error> {
        let mut url = self.url("__mock/outbox");
        url.query_pairs_mut().append_pair("to", phone);
        let sent: Vec<serde_json::Value> = self
            .http
            .get(url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(sent
            .last()
            .and_then(|m| m["code"].as_str())
            .map(str::to_owned))
    }

    /// The user's TOTP secret and the code of the moment, at the mock's time.
    pub async fn totp(&self, login: &str) -> Result<TotpInfo, reqwest::Error> {
        self.http
            .get(self.url(&format!("__mock/users/{login}/totp")))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }

    /// Switches a fault on; returns its id.
    pub async fn add_fault(&self, fault: &FaultSpec) -> Result<u64, reqwest::Error> {
        let created: serde_json::Value = self
            .http
            .post(self.url("__mock/faults"))
            .json(fault)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(created["id"].as_u64().unwrap_or_default())
    }

    /// Switches every fault off (and releases hung requests).
    pub async fn clear_faults(&self) -> Result<(), reqwest::Error> {
        self.http
            .delete(self.url("__mock/faults"))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    /// How many requests each API route was sent ("GET /hectoday/me/sessions" → n).
    pub async fn requests(
        &self,
    ) -> Result<std::collections::BTreeMap<String, u64>, reqwest::Error> {
        self.http
            .get(self.url("__mock/requests"))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }

    /// Sets Better Auth's `freshAge` (an ISO-8601 duration, "PT10M").
    pub async fn set_better_auth_fresh_age(&self, age: &str) -> Result<(), reqwest::Error> {
        self.http
            .put(self.url("__mock/settings"))
            .json(&serde_json::json!({ "betterAuthFreshAge": age }))
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
