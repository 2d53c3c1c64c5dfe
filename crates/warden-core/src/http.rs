//! The HTTP plumbing every dialect shares: one client with timeouts, transport errors in
//! words, bodies read with a size cap so a hostile or broken server cannot exhaust memory.

use std::time::Duration;

use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::{RequestBuilder, StatusCode};

use crate::error::{Error, Result};
use crate::secret::Secret;

/// How Session Warden names itself to servers, so a session it left behind is known as its
/// own when a server still lists it.
pub(crate) const USER_AGENT_NAME: &str = "SessionWarden/";

/// No session list of any real account comes near this; a larger body is refused.
pub(crate) const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

pub(crate) fn client() -> reqwest::Client {
    client_with_timeout(REQUEST_TIMEOUT)
}

/// A client whose every request gives up after `timeout` (the whole exchange, body
/// included), so a server that hangs costs one timeout, never a stuck watcher.
pub(crate) fn client_with_timeout(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(format!("{USER_AGENT_NAME}{}", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(5).min(timeout))
        .timeout(timeout)
        // A session API that redirects is sending us to a login page: treat it as an answer.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// Adds our session token as the cookie `name`, as the cookie-based APIs expect it.
pub(crate) fn with_cookie(request: RequestBuilder, name: &str, token: &Secret) -> RequestBuilder {
    request.header(
        reqwest::header::COOKIE,
        format!("{name}={}", token.expose()),
    )
}

pub(crate) struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Sends the request and reads the whole body, at most `MAX_BODY_BYTES` of it.
pub(crate) async fn send(request: RequestBuilder) -> Result<Response> {
    let mut response = request.send().await.map_err(transport_error)?;
    let status = response.status();
    let headers = response.headers().clone();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(Error::Protocol(format!(
                "the answer is larger than {} MiB",
                MAX_BODY_BYTES / (1024 * 1024)
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn transport_error(e: reqwest::Error) -> Error {
    let url = e.url().map(|u| u.to_string()).unwrap_or_default();
    if e.is_timeout() {
        Error::Timeout
    } else if e.is_connect() {
        Error::Unreachable {
            url,
            reason: "connection refused or no route".into(),
        }
    } else {
        Error::Unreachable {
            url,
            reason: root_cause(&e),
        }
    }
}

fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

impl Response {
    /// The body as `T`, which may borrow from it.
    pub fn json<'a, T: serde::Deserialize<'a>>(&'a self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| Error::Protocol(e.to_string()))
    }

    /// The server's own words for an error: `{"error": "..."}`, else the start of the body.
    pub fn error_message(&self) -> String {
        #[derive(serde::Deserialize)]
        struct ErrorBody {
            error: String,
        }
        if let Ok(body) = serde_json::from_slice::<ErrorBody>(&self.body) {
            return body.error;
        }
        let text = String::from_utf8_lossy(&self.body);
        let text = text.trim();
        if text.is_empty() {
            self.status
                .canonical_reason()
                .unwrap_or("no message")
                .to_owned()
        } else {
            text.chars().take(200).collect()
        }
    }

    /// The error for an answer the dialect did not expect; a 429 is a rate limit, with the
    /// server's `Retry-After` when it gives seconds.
    pub fn server_error(&self) -> Error {
        if self.status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            let retry_after = self
                .headers
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok());
            return Error::RateLimited { retry_after };
        }
        Error::Server {
            status: self.status.as_u16(),
            message: self.error_message(),
        }
    }

    /// The value of a cookie the response sets, if it sets it to something non-empty.
    pub fn cookie(&self, name: &str) -> Option<Secret> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next()?.split_once('='))
            .find(|(n, value)| n.trim() == name && !value.trim().is_empty())
            .map(|(_, value)| Secret::new(value.trim()))
    }
}
