//! A hostile (or broken) session server of our own: it speaks the hectoday course's API
//! (docs/apis.md §3) on `127.0.0.1:0` — or Better Auth's, Matrix's or allauth's
//! (`Hostile::start_as`, module `apis`) — and answers with whatever bad answer a test sets:
//! escape sequences and bidi controls in every field, a "current" session that is not ours,
//! one id listed twice (an innocent's and an intruder's), an id of dots, a year past any
//! calendar, a 2 MB error text, a `Retry-After` of three years, a connection dropped on
//! revoke, errors that quote the password and the tokens back, thousands of headers. What
//! Session Warden makes of it is checked from outside: no panic, no escape in any output, no
//! session id or secret in an error.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};

/// Our own session's cookie, which hectoday also uses as its id: it must never be printed.
pub const OUR_COOKIE: &str = "our-cookie-5f0d2c8e9b1a";
/// Another device's id (and cookie): it must never be printed either.
pub const PHONE_COOKIE: &str = "phone-cookie-7c41aa03de";
pub const LAPTOP_COOKIE: &str = "laptop-cookie-51e0b2c9f4";
pub const PASSWORD: &str = "hostile-test-password";
/// Our token on the other APIs (Better Auth's raw session token, Matrix's access token,
/// allauth's session token).
pub const OUR_TOKEN: &str = "our-token-0d9e51c7a2";
/// The phone's token, as Better Auth's listing hands it out.
pub const PHONE_TOKEN: &str = "phone-token-3b88f01e6d";
/// The address of the intruder whose row shares the innocent phone's id (`OneIdTwice`).
pub const INTRUDER_IP: &str = "203.0.113.66";
/// The innocent phone's address (`OneIdTwice`, and `Honest`).
pub const PHONE_IP: &str = "198.51.100.20";

/// What the server answers, from now on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// A plain, honest list: ours and a phone.
    Honest,
    /// Text a terminal or a reader would be fooled by, in every field; three sessions claiming
    /// to be current; one id twice; an id of dots; an "address" that is a spreadsheet formula.
    Sneaky,
    /// Times no server means: a phone last active in the year 262142, a laptop signed in in
    /// the year 10000 (which no format of the API can even write); ours is readable.
    FarFuture,
    /// 500 with two megabytes of text, escape sequences and bidi controls included.
    HugeError,
    /// 429 asking to wait three years.
    RetryInThreeYears,
    /// An innocent phone and an intruder's laptop listed under one id; a revoke ends the
    /// first row with the id, as a server keyed by that id would.
    OneIdTwice,
    /// Every error, listing and revoke alike, quotes back the password, our token and the
    /// phone's token.
    QuotesSecrets,
    /// An honest listing, and a revoke refused with the secrets quoted back.
    RevokeQuotesSecrets,
    /// The listing comes with five thousand `Set-Cookie` headers.
    HugeHeaders,
    /// `RENAMED` sessions besides ours, under new ids at every listing (hectoday only).
    Renaming,
}

/// How many sessions `Answer::Renaming` lists each time.
pub const RENAMED: usize = 2500;

/// The API the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Hectoday,
    BetterAuth,
    Matrix,
    Allauth,
}

impl Api {
    /// Its `--dialect`.
    pub fn dialect(self) -> &'static str {
        match self {
            Api::Hectoday => "hectoday",
            Api::BetterAuth => "better-auth",
            Api::Matrix => "matrix",
            Api::Allauth => "allauth",
        }
    }

    /// The login the server knows.
    pub fn login(self) -> &'static str {
        match self {
            Api::Matrix => "me",
            _ => "me@example.com",
        }
    }
}

/// What the server is set to answer, and what it was asked.
#[derive(Debug)]
pub struct ServerState {
    pub answer: Answer,
    /// Requests to end a session (a revoke, a sign-out of others), answered or not.
    pub revokes: usize,
    /// The rows still signed in: the phone's (an innocent one, under `OneIdTwice`), and the
    /// intruder's that shares its id (`OneIdTwice`). Revoking the phone's id ends the first.
    pub innocent_alive: bool,
    pub intruder_alive: bool,
    /// Listings answered.
    pub listings: usize,
}

impl Default for ServerState {
    fn default() -> Self {
        ServerState {
            answer: Answer::Honest,
            revokes: 0,
            innocent_alive: true,
            intruder_alive: true,
            listings: 0,
        }
    }
}

/// The text a server that quotes secrets back puts in every error.
pub fn quoted_secrets() -> String {
    format!(
        "cannot do that for me@example.com: password {PASSWORD} is fine, but token {OUR_TOKEN} \
         (session {OUR_COOKIE}) clashes with {PHONE_TOKEN} (session {PHONE_COOKIE})"
    )
}

pub struct Hostile {
    pub url: url::Url,
    pub api: Api,
    state: Shared,
    task: tokio::task::JoinHandle<()>,
}

pub(crate) type Shared = Arc<Mutex<ServerState>>;

impl Hostile {
    /// The hectoday course's API.
    pub async fn start() -> anyhow::Result<Hostile> {
        Self::start_as(Api::Hectoday).await
    }

    pub async fn start_as(api: Api) -> anyhow::Result<Hostile> {
        let state = Shared::default();
        let app = match api {
            Api::Hectoday => Router::new()
                .route("/login", post(login))
                .route("/logout", post(|| async { "{\"message\":\"Logged out\"}" }))
                .route("/me/sessions", get(list))
                .route("/me/sessions/{id}", delete(revoke)),
            Api::BetterAuth => crate::hostile_apis::better_auth(),
            Api::Matrix => crate::hostile_apis::matrix(),
            Api::Allauth => crate::hostile_apis::allauth(),
        }
        // What web frameworks answer on a path they do not know: a page, not JSON.
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                axum::response::Html(
                    "<!DOCTYPE html><html><head><title>Page not found</title></head><body>\
                     <h1>Not Found</h1><p>The requested resource was not found on this \
                     server.</p></body></html>",
                ),
            )
        })
        .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/", listener.local_addr()?).parse()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Hostile {
            url,
            api,
            state,
            task,
        })
    }

    pub fn answer(&self, answer: Answer) {
        self.state().answer = answer;
    }

    /// What the server was asked, and which rows are still signed in.
    pub fn state(&self) -> std::sync::MutexGuard<'_, ServerState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub(crate) type Extract = State<Shared>;

pub(crate) fn answer_of(state: &Shared) -> Answer {
    state.lock().unwrap_or_else(|p| p.into_inner()).answer
}

/// Whether a revoke is refused with the secrets quoted back.
pub(crate) fn quotes_on_revoke(answer: Answer) -> bool {
    matches!(answer, Answer::QuotesSecrets | Answer::RevokeQuotesSecrets)
}

/// Five thousand `Set-Cookie` headers on a 200 with `body`.
pub(crate) fn huge_headers(body: String) -> Response {
    let mut response = body.into_response();
    for n in 0..5000 {
        if let Ok(value) = header::HeaderValue::from_str(&format!("crumb{n}=x")) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

async fn login(body: String) -> Response {
    if !body.contains(PASSWORD) {
        return (
            StatusCode::UNAUTHORIZED,
            "{\"error\":\"Invalid credentials\"}",
        )
            .into_response();
    }
    (
        [(
            header::SET_COOKIE,
            format!("session={OUR_COOKIE}; HttpOnly; Path=/"),
        )],
        "{\"message\":\"Logged in\"}",
    )
        .into_response()
}

fn row(id: &str, name: &str, ip: &str, last: &str, current: bool) -> serde_json::Value {
    serde_json::json!({
        "id": id, "deviceName": name, "ip": ip, "isCurrent": current,
        "lastActiveAt": last, "createdAt": "2026-12-01 09:00:00",
    })
}

async fn list(State(state): Extract, headers: HeaderMap) -> Response {
    let ours = headers
        .get(header::COOKIE)
        .and_then(|c| c.to_str().ok())
        .is_some_and(|c| c.contains(OUR_COOKIE));
    if !ours {
        return (StatusCode::UNAUTHORIZED, "{\"error\":\"Unauthorized\"}").into_response();
    }
    let answer = answer_of(&state);
    let listing = {
        let mut seen = state.lock().unwrap_or_else(|p| p.into_inner());
        seen.listings += 1;
        seen.listings
    };
    let now = "2026-12-02 10:00:00";
    let rows = match answer {
        Answer::Honest | Answer::RevokeQuotesSecrets => vec![
            row(OUR_COOKIE, "Chrome on Linux", "127.0.0.1", now, true),
            row(PHONE_COOKIE, "Safari on iOS", "198.51.100.20", now, false),
        ],
        Answer::Sneaky => vec![
            row("liar-1", "Session Warden", "198.51.100.66", now, true),
            row(OUR_COOKIE, "Chrome on Linux", "127.0.0.1", now, true),
            row(
                PHONE_COOKIE,
                "Safari\u{1b}[2J\u{1b}]0;pwned\u{7} on \u{202e}SOi\u{202c}\u{200b}",
                "198.51.100.20\u{2066}\u{feff}",
                now,
                true,
            ),
            row(
                PHONE_COOKIE,
                "Safari on iOS (again)",
                "198.51.100.21",
                now,
                false,
            ),
            row(
                "..",
                "Dots\u{2028}Browser on Linux",
                "=HYPERLINK(\"http://evil.example\")",
                now,
                false,
            ),
        ],
        Answer::FarFuture => {
            let mut laptop = row(
                LAPTOP_COOKIE,
                "Firefox on Linux",
                "198.51.100.30",
                now,
                false,
            );
            laptop["createdAt"] = "10000-01-01 00:00:00".into();
            vec![
                row(OUR_COOKIE, "Chrome on Linux", "127.0.0.1", now, true),
                row(
                    PHONE_COOKIE,
                    "Safari on iOS",
                    "198.51.100.20",
                    "+262142-12-31 23:59:59",
                    false,
                ),
                laptop,
            ]
        }
        Answer::HugeError => {
            let text = format!(
                "\u{1b}[31mboom\u{202e}{}",
                "\u{1b}[1m endless \u{200f}".repeat(2 * 1024 * 1024 / 16)
            );
            return (StatusCode::INTERNAL_SERVER_ERROR, text).into_response();
        }
        Answer::RetryInThreeYears => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, "94608000")],
                "Too many requests, please try again later.",
            )
                .into_response();
        }
        Answer::OneIdTwice => vec![
            row(OUR_COOKIE, "Chrome on Linux", "127.0.0.1", now, true),
            row(PHONE_COOKIE, "Safari on iOS", PHONE_IP, now, false),
            row(PHONE_COOKIE, "Chrome on Windows", INTRUDER_IP, now, false),
        ],
        Answer::QuotesSecrets => {
            let body = serde_json::json!({ "error": quoted_secrets() });
            return (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response();
        }
        Answer::HugeHeaders => {
            return huge_headers(
                serde_json::to_string(&[row(
                    OUR_COOKIE,
                    "Chrome on Linux",
                    "127.0.0.1",
                    now,
                    true,
                )])
                .unwrap_or_default(),
            );
        }
        Answer::Renaming => {
            let ours = row(OUR_COOKIE, "Chrome on Linux", "127.0.0.1", now, true);
            let renamed = (0..RENAMED).map(|n| {
                row(
                    &format!("renamed-{listing}-{n}"),
                    "Firefox on Linux",
                    "198.51.100.40",
                    now,
                    false,
                )
            });
            std::iter::once(ours).chain(renamed).collect()
        }
    };
    axum::Json(rows).into_response()
}

/// A revoke the server drops halfway: the client sees a broken connection, with the URL
/// (which holds the session's id, here its cookie) in reqwest's error. Quoting secrets, it
/// says them instead.
async fn revoke(State(state): Extract) -> Response {
    state.lock().unwrap_or_else(|p| p.into_inner()).revokes += 1;
    if quotes_on_revoke(answer_of(&state)) {
        // Not 400: hectoday's 400 means "that is your own session".
        let body = serde_json::json!({ "error": quoted_secrets() });
        return (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response();
    }
    let broken = futures_util::stream::iter([
        Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b"{\"mess")),
        Err(std::io::Error::other("dropped")),
    ]);
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_LENGTH, "64")
        .body(Body::from_stream(broken))
        .unwrap_or_default()
}
