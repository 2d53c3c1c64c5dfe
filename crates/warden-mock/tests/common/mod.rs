//! What the contract tests share: a mock server, raw HTTP calls to one of its APIs, and
//! readers for what comes back (cookies, JWT payloads).
#![allow(dead_code)] // each test file uses its own part

use base64::Engine;
use reqwest::Method;
use reqwest::header::{HeaderMap, SET_COOKIE};
use serde_json::Value;
use warden_mock::{ControlClient, Dialect, MockServer};

pub const FIREFOX: &str = warden_mock::agents::FIREFOX_LINUX;
pub const IPHONE: &str = warden_mock::agents::SAFARI_IPHONE;
pub const CHROME_WINDOWS: &str = warden_mock::agents::CHROME_WINDOWS;

pub struct Api {
    pub server: MockServer,
    pub dialect: Dialect,
    http: reqwest::Client,
}

/// One answer, read whole.
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }

    /// Every `Set-Cookie` header, whole.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().expect("ascii").to_owned())
            .collect()
    }

    /// The whole `Set-Cookie` header that sets `name`.
    pub fn set_cookie(&self, name: &str) -> String {
        self.set_cookies()
            .into_iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} cookie in {:?}", self.set_cookies()))
    }

    /// `name=value` of the cookie set, as a client sends it back.
    pub fn cookie(&self, name: &str) -> String {
        self.set_cookie(name)
            .split(';')
            .next()
            .expect("name=value")
            .to_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Api {
    pub async fn start(dialect: Dialect) -> Api {
        Api {
            server: warden_mock::spawn().await.expect("mock starts"),
            dialect,
            http: reqwest::Client::new(),
        }
    }

    pub fn control(&self) -> ControlClient {
        self.server.control()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.api_url(self.dialect))
    }

    /// One request: `headers` as given, `body` as JSON when present.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.http.request(method, self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the mock answers");
        Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            text: response.text().await.expect("a body"),
        }
    }

    pub async fn get(&self, path: &str, cookie: &str) -> Reply {
        self.call(Method::GET, path, &[("cookie", cookie)], None)
            .await
    }

    pub async fn delete(&self, path: &str, cookie: &str) -> Reply {
        self.call(Method::DELETE, path, &[("cookie", cookie)], None)
            .await
    }

    pub async fn post(&self, path: &str, cookie: &str, body: Value) -> Reply {
        self.call(Method::POST, path, &[("cookie", cookie)], Some(body))
            .await
    }

    /// Moves the server's clock through the control API.
    pub async fn advance(&self, by: &str) {
        self.control()
            .advance_clock(by)
            .await
            .expect("the clock moves");
    }

    /// Another device of `login` signs in through this API; returns its session id and the
    /// cookie it holds.
    pub async fn other_device(&self, login: &str, agent: &str, ip: &str) -> (String, String) {
        let device = self
            .control()
            .sign_in_via(self.dialect, login, agent, ip, None)
            .await
            .expect("the device signs in");
        let cookie = device.credentials.cookie.unwrap_or_default();
        (device.id, cookie)
    }
}

fn b64_json(part: &str) -> Value {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("a JSON object")
}

/// A JWT's header and payload, unchecked.
pub fn jwt_parts(token: &str) -> (Value, Value) {
    let mut parts = token.split('.');
    let header = b64_json(parts.next().expect("header"));
    let payload = b64_json(parts.next().expect("payload"));
    assert!(parts.next().is_some(), "a signature");
    (header, payload)
}

/// The sorted keys of a JSON object.
pub fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

pub fn sorted(keys: &[&str]) -> Vec<String> {
    let mut keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
    keys.sort();
    keys
}
