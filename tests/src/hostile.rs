//! A hostile (or broken) session server of our own: it speaks the hectoday course's API
//! (docs/apis.md §3) on `127.0.0.1:0`, and answers with whatever bad answer a test sets:
//! escape sequences and bidi controls in every field, a "current" session that is not ours,
//! one id listed twice, an id of dots, a year past any calendar, a 2 MB error text, a
//! `Retry-After` of three years, a connection dropped on revoke. What Session Warden makes of
//! it is checked from outside: no panic, no escape in any output, no session id in an error.

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
}

pub struct Hostile {
    pub url: url::Url,
    answer: Arc<Mutex<Answer>>,
    task: tokio::task::JoinHandle<()>,
}

impl Hostile {
    pub async fn start() -> anyhow::Result<Hostile> {
        let answer = Arc::new(Mutex::new(Answer::Honest));
        let app = Router::new()
            .route("/login", post(login))
            .route("/logout", post(|| async { "{\"message\":\"Logged out\"}" }))
            .route("/me/sessions", get(list))
            .route("/me/sessions/{id}", delete(revoke))
            .with_state(Arc::clone(&answer));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/", listener.local_addr()?).parse()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Hostile { url, answer, task })
    }

    pub fn answer(&self, answer: Answer) {
        *self.answer.lock().unwrap_or_else(|p| p.into_inner()) = answer;
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Shared = State<Arc<Mutex<Answer>>>;

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

async fn list(State(answer): Shared, headers: HeaderMap) -> Response {
    let ours = headers
        .get(header::COOKIE)
        .and_then(|c| c.to_str().ok())
        .is_some_and(|c| c.contains(OUR_COOKIE));
    if !ours {
        return (StatusCode::UNAUTHORIZED, "{\"error\":\"Unauthorized\"}").into_response();
    }
    let answer = *answer.lock().unwrap_or_else(|p| p.into_inner());
    let now = "2026-12-02 10:00:00";
    let rows = match answer {
        Answer::Honest => vec![
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
    };
    axum::Json(rows).into_response()
}

/// A revoke the server drops halfway: the client sees a broken connection, with the URL
/// (which holds the session's id, here its cookie) in reqwest's error.
async fn revoke() -> Response {
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
