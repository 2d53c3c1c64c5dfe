//! `--dialect auto`: which API a URL speaks, from what each answers without credentials.
//! Every API refuses an anonymous listing in its own way (docs/apis.md §9),
//! and the listing paths differ, so one anonymous GET per API tells them apart.

use reqwest::StatusCode;
use url::Url;

use super::DialectKind;
use crate::dialect::http;
use crate::error::{Error, Result};

/// The anonymous request each API answers in its own way, relative to the URL given.
const PROBES: [(DialectKind, &str); 7] = [
    (DialectKind::NodeAuth, "auth/sessions"),
    (DialectKind::SecureAuth, "api/auth/sessions"),
    (DialectKind::Rtc, "api/sessions"),
    (DialectKind::Hectoday, "me/sessions"),
    // Relative to the auth routes (`better_auth::auth_base`), not the URL given.
    (DialectKind::BetterAuth, "get-session"),
    (DialectKind::Matrix, "_matrix/client/v3/devices"),
    (DialectKind::Allauth, "_allauth/app/v1/auth/session"),
];

fn probe_url(kind: DialectKind, base: &Url, path: &str) -> Option<Url> {
    match kind {
        DialectKind::BetterAuth => super::better_auth::auth_base(base).join(path).ok(),
        _ => base.join(path).ok(),
    }
}

fn body(response: &http::Response) -> serde_json::Value {
    serde_json::from_slice(&response.body).unwrap_or_default()
}

fn answers_like(kind: DialectKind, response: &http::Response) -> bool {
    let said = response.error_message();
    let body = body(response);
    match kind {
        DialectKind::NodeAuth => {
            response.status == StatusCode::FORBIDDEN && said == "No access token provided"
        }
        // SecureAuth's rate limiter stamps every `/api/` answer.
        DialectKind::SecureAuth => {
            response.status == StatusCode::UNAUTHORIZED
                && response.headers.contains_key("x-ratelimit-limit")
        }
        // Better Auth, Matrix and allauth answer 401 on their own paths too, but in their
        // own shapes: those are told apart below, and these two are the plain 401s.
        DialectKind::Rtc | DialectKind::Hectoday => {
            response.status == StatusCode::UNAUTHORIZED
                && !response.headers.contains_key("x-ratelimit-limit")
                && body.get("errcode").is_none()
                && body.get("status").is_none()
        }
        // Nobody signed in: `null`, with 200.
        DialectKind::BetterAuth => {
            response.status == StatusCode::OK && response.body.trim_ascii() == b"null"
        }
        DialectKind::Matrix => {
            response.status == StatusCode::UNAUTHORIZED
                && response.error_code().as_deref() == Some("M_MISSING_TOKEN")
        }
        // The envelope, with the ways to sign in.
        DialectKind::Allauth => {
            response.status == StatusCode::UNAUTHORIZED
                && body.get("status").and_then(|s| s.as_u64()) == Some(401)
                && body.pointer("/data/flows").is_some()
        }
        // Its login providers, which anyone may ask for.
        DialectKind::HomeAssistant => {
            response.status == StatusCode::OK && body.get("providers").is_some_and(|p| p.is_array())
        }
        // Chosen by the person, never guessed: it needs the operator's secret.
        DialectKind::NodeAuthAdmin => false,
    }
}

/// Home Assistant is asked first, alone: the other probes' paths under `/api/` are 401s
/// there, and HA counts each 401 as a failed login of the address (and may ban it).
const HOME_ASSISTANT_PROBE: &str = "auth/providers";

/// Probes `base` (Home Assistant first, then every other API at once) and names the API it
/// speaks.
pub async fn detect(http: &reqwest::Client, base: &Url) -> Result<DialectKind> {
    let mut unreachable = None;
    if let Some(url) = probe_url(DialectKind::HomeAssistant, base, HOME_ASSISTANT_PROBE) {
        match http::send(http.get(url)).await {
            Ok(response) if answers_like(DialectKind::HomeAssistant, &response) => {
                return Ok(DialectKind::HomeAssistant);
            }
            Ok(_) => {}
            // A server out of reach is out of reach for every probe.
            Err(e @ (Error::Unreachable { .. } | Error::Timeout)) => return Err(e),
            Err(_) => {}
        }
    }
    let probes = PROBES.map(|(kind, path)| async move {
        let url = probe_url(kind, base, path)?;
        let response = http::send(http.get(url)).await;
        Some((kind, response))
    });
    let answers = futures_util::future::join_all(probes).await;
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
            "{base} does not answer like any API Session Warden knows ({}, {}); \
             check the URL, or name the API with --dialect",
            PROBES.map(|(d, _)| d.as_str()).join(", "),
            DialectKind::HomeAssistant.as_str()
        ))
    }))
}
