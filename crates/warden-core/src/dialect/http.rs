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

/// The two clients every call goes through: `proxied` honours the environment's proxies
/// (`HTTPS_PROXY`…) for servers out there; `direct` never uses one, for servers on this
/// machine (a proxy would see loopback traffic, passwords included, that never needed to
/// leave it).
#[derive(Clone)]
pub(crate) struct Clients {
    timeout: Duration,
    // Each built on first use: building one loads the system's CA roots, and most homes
    // need only one of the two.
    proxied: std::sync::OnceLock<reqwest::Client>,
    direct: std::sync::OnceLock<reqwest::Client>,
}

impl Clients {
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            proxied: std::sync::OnceLock::new(),
            direct: std::sync::OnceLock::new(),
        }
    }

    /// The client for requests to `url`.
    pub fn for_url(&self, url: &url::Url) -> &reqwest::Client {
        if crate::accounts::account::is_loopback(url) {
            self.direct
                .get_or_init(|| builder(self.timeout).no_proxy().build().unwrap_or_default())
        } else {
            self.proxied
                .get_or_init(|| builder(self.timeout).build().unwrap_or_default())
        }
    }
}

impl Default for Clients {
    fn default() -> Self {
        Self::new(REQUEST_TIMEOUT)
    }
}

/// A client whose every request gives up after `timeout` (the whole exchange, body
/// included), so a server that hangs costs one timeout, never a stuck watcher.
fn builder(timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(format!("{USER_AGENT_NAME}{}", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(5).min(timeout))
        .timeout(timeout)
        // A session API that redirects is sending us to a login page: treat it as an answer.
        .redirect(reqwest::redirect::Policy::none())
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

/// The longest a watcher waits on a server's `Retry-After`: a server asking for a day must not
/// stop the watching for a day. What the server asked is still said as it asked it.
pub(crate) const MAX_RETRY_AFTER_SECS: u64 = 3600;

/// A transport failure in words. It names the server by its origin only: the path may hold
/// a session id, and on hectoday that id is the session cookie.
fn transport_error(e: reqwest::Error) -> Error {
    let url = e
        .url()
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let e = e.without_url();
    if e.is_timeout() {
        Error::Timeout
    } else if let Some(parse) = hyper_parse_error(&e) {
        // Reached, and answered with what no HTTP client reads: a broken or hostile
        // server, not one out of reach.
        // hyper tells "too large" apart only with its server half built; its words say it.
        Error::Protocol(if parse.to_string().contains("too large") {
            "its headers are larger than any session API sends (a broken or hostile server)".into()
        } else {
            format!(
                "it is not readable HTTP ({})",
                crate::dialect::server_text::clean_error(&parse.to_string())
            )
        })
    } else if e.is_connect() {
        Error::Unreachable {
            url,
            reason: "connection refused or no route".into(),
        }
    } else {
        Error::Unreachable {
            url,
            reason: crate::dialect::server_text::clean_error(&root_cause(&e)),
        }
    }
}

/// A body that is not what the API sends. serde's message may quote the server's text, so
/// it is cleaned like any other.
pub(crate) fn unreadable(e: serde_json::Error) -> Error {
    Error::Protocol(crate::dialect::server_text::clean_error(&e.to_string()))
}

/// The HTTP parser's complaint about an answer, where that is what failed.
fn hyper_parse_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a hyper::Error> {
    let mut cause = Some(e);
    while let Some(error) = cause {
        if let Some(hyper) = error.downcast_ref::<hyper::Error>()
            && hyper.is_parse()
        {
            return Some(hyper);
        }
        cause = error.source();
    }
    None
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
        serde_json::from_slice(&self.body).map_err(unreadable)
    }

    /// The server's own words for an error: `{"error": "..."}` (most APIs, Matrix),
    /// `{"message": "..."}` (Better Auth), `{"errors": [{"message": "..."}]}` (allauth), else
    /// the start of the body; cleaned and capped (`server_text::clean_error`), as everything
    /// a server says.
    pub fn error_message(&self) -> String {
        let said = match serde_json::from_slice::<serde_json::Value>(&self.body) {
            Ok(body) => {
                let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
                let words = body
                    .get("error")
                    .and_then(text)
                    .or_else(|| body.get("message").and_then(text))
                    .or_else(|| body.pointer("/errors/0/message").and_then(text));
                match words {
                    Some(words) => crate::dialect::server_text::clean_error(&words),
                    None => crate::dialect::server_text::clean_error(&String::from_utf8_lossy(
                        &self.body,
                    )),
                }
            }
            // A web page where the API was expected (a wrong address, the wrong API): its
            // markup would say nothing a person can use.
            Err(_) if self.is_html() => {
                return format!(
                    "{} (a web page, not an answer of the API)",
                    self.status.canonical_reason().unwrap_or("an error")
                );
            }
            Err(_) => {
                crate::dialect::server_text::clean_error(&String::from_utf8_lossy(&self.body))
            }
        };
        if said.is_empty() {
            self.status
                .canonical_reason()
                .unwrap_or("no message")
                .to_owned()
        } else {
            said
        }
    }

    /// Whether the body is a web page (by its type, or by its first character).
    fn is_html(&self) -> bool {
        let typed = self
            .headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.to_ascii_lowercase().contains("html"));
        typed || self.body.trim_ascii_start().starts_with(b"<")
    }

    /// A machine-readable error code of the body: `code` (node-auth, Better Auth), `errcode`
    /// (Matrix), `errors[0].code` (allauth).
    pub fn error_code(&self) -> Option<String> {
        let body = serde_json::from_slice::<serde_json::Value>(&self.body).ok()?;
        ["/code", "/errcode", "/errors/0/code"]
            .into_iter()
            .find_map(|p| body.pointer(p)?.as_str().map(str::to_owned))
    }

    /// The error for an answer the dialect did not expect; a 429 is a rate limit, with the
    /// server's `Retry-After` as it asked, when it gives seconds (the watcher caps its wait).
    pub fn server_error(&self) -> Error {
        if self.status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            // `Retry-After`; Better Auth's `x-retry-after`; Matrix's `retry_after_ms` in the body.
            let header = |name: &str| {
                self.headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
            };
            let in_body = || {
                serde_json::from_slice::<serde_json::Value>(&self.body)
                    .ok()?
                    .get("retry_after_ms")?
                    .as_u64()
                    .map(|ms| ms.div_ceil(1000))
            };
            let retry_after = header("retry-after")
                .or_else(|| header("x-retry-after"))
                .or_else(in_body);
            return Error::RateLimited { retry_after };
        }
        Error::Server {
            status: self.status.as_u16(),
            message: self.error_message(),
        }
    }

    /// The value of a cookie the response sets, if it sets it to something non-empty.
    pub fn cookie(&self, name: &str) -> Option<Secret> {
        self.set_cookies()
            .find(|(n, _)| *n == name)
            .map(|(_, value)| Secret::new(value))
    }

    /// The name and value of the first cookie set whose name ends with `end` (Better Auth's
    /// names carry the app's prefix, and `__Secure-` on https).
    pub fn cookie_ending(&self, end: &str) -> Option<(String, Secret)> {
        self.set_cookies()
            .find(|(n, _)| n.ends_with(end))
            .map(|(name, value)| (name.to_owned(), Secret::new(value)))
    }

    /// Every cookie the response sets to something non-empty, as (name, value).
    fn set_cookies(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next()?.split_once('='))
            .map(|(n, value)| (n.trim(), value.trim()))
            .filter(|(_, value)| !value.is_empty())
    }
}
