//! `--dialect auto`: which API a URL speaks, from what each answers without credentials.
//! Every API refuses an anonymous listing in its own way (wire-formats.md, "not logged in"),
//! and the listing paths differ, so one anonymous GET per API tells them apart.

use reqwest::StatusCode;
use url::Url;

use super::DialectKind;
use crate::error::{Error, Result};
use crate::http;

/// The anonymous request each API answers in its own way.
const PROBES: [(DialectKind, &str); 4] = [
    (DialectKind::NodeAuth, "auth/sessions"),
    (DialectKind::SecureAuth, "api/auth/sessions"),
    (DialectKind::Rtc, "api/sessions"),
    (DialectKind::Hectoday, "me/sessions"),
];

fn answers_like(kind: DialectKind, response: &http::Response) -> bool {
    let said = response.error_message();
    match kind {
        DialectKind::NodeAuth => {
            response.status == StatusCode::FORBIDDEN && said == "No access token provided"
        }
        // SecureAuth's rate limiter stamps every `/api/` answer.
        DialectKind::SecureAuth => {
            response.status == StatusCode::UNAUTHORIZED
                && response.headers.contains_key("x-ratelimit-limit")
        }
        DialectKind::Rtc | DialectKind::Hectoday => {
            response.status == StatusCode::UNAUTHORIZED
                && !response.headers.contains_key("x-ratelimit-limit")
        }
        // Chosen by the person, never guessed: it needs the operator's secret.
        DialectKind::NodeAuthAdmin => false,
    }
}

/// Probes `base` (all four at once) and names the API it speaks.
pub async fn detect(http: &reqwest::Client, base: &Url) -> Result<DialectKind> {
    let probes = PROBES.map(|(kind, path)| async move {
        let url = base.join(path).ok()?;
        let response = http::send(http.get(url)).await;
        Some((kind, response))
    });
    let answers = futures_join(probes).await;
    let mut unreachable = None;
    for (kind, response) in answers.into_iter().flatten() {
        match response {
            Ok(response) if answers_like(kind, &response) => return Ok(kind),
            Ok(_) => {}
            Err(e @ (Error::Unreachable { .. } | Error::Timeout)) => unreachable = Some(e),
            Err(_) => {}
        }
    }
    Err(unreachable.unwrap_or_else(|| {
        Error::InvalidInput(format!(
            "{base} does not answer like any API Session Warden knows ({}); \
             check the URL, or name the API with --dialect",
            PROBES.map(|(d, _)| d.as_str()).join(", ")
        ))
    }))
}

async fn futures_join<F: std::future::Future>(futures: [F; 4]) -> [F::Output; 4] {
    let [a, b, c, d] = futures;
    let (a, b, c, d) = tokio::join!(a, b, c, d);
    [a, b, c, d]
}
