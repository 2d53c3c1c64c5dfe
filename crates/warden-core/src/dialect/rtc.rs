//! RTC Collector (docs/apis.md §4): identifier + password + "remember me", an optional
//! TOTP or backup code, a JWT in the `token` cookie, `{"sessions":[…]}` with a location.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde::Deserialize;

use super::{CallError, Ctx, wire_time};
use crate::accounts::account::AccountId;
use crate::dialect::http::{self, with_cookie};
use crate::error::{Error, Result};
use crate::prompt::{CodePrompt, CodeRequest};
use crate::secret::Secret;
use crate::session::{Device, Session, SessionId};

const COOKIE: &str = "token";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireSession {
    id: String,
    #[serde(default)]
    device_type: Option<String>,
    #[serde(default)]
    browser: Option<String>,
    #[serde(default)]
    ip_address: Option<String>,
    #[serde(default)]
    location: Option<String>,
    #[serde(default, deserialize_with = "wire_time::optional")]
    created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "wire_time::optional")]
    last_activity: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "wire_time::optional")]
    expires_at: Option<DateTime<Utc>>,
    #[serde(default = "yes")]
    is_active: bool,
    #[serde(default)]
    is_current: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct Listing {
    sessions: Vec<WireSession>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LoginAnswer {
    #[serde(default, rename = "requires2FA")]
    requires_2fa: bool,
    #[serde(default)]
    temp_token: Option<String>,
}

/// Signs in with "remember me" (30 days, so the person is asked for a code rarely).
pub(crate) async fn login(
    ctx: &Ctx<'_>,
    identifier: &str,
    password: &Secret,
    prompt: &Arc<dyn CodePrompt>,
) -> Result<Secret> {
    let body = serde_json::json!({
        "identifier": identifier,
        "password": password.expose(),
        "rememberMe": true,
    });
    let response = http::send(ctx.http.post(ctx.endpoint("api/auth/login")?).json(&body)).await?;
    match response.status {
        StatusCode::OK => {}
        StatusCode::UNAUTHORIZED | StatusCode::BAD_REQUEST => {
            return Err(Error::BadCredentials {
                login: identifier.to_owned(),
            });
        }
        _ => return Err(response.server_error()),
    }
    if let Some(token) = response.cookie(COOKIE) {
        return Ok(token);
    }
    let answer: LoginAnswer = response.json()?;
    let temp = match (answer.requires_2fa, answer.temp_token) {
        (true, Some(temp)) => temp,
        _ => return Err(Error::Protocol("RTC signed us in but set no token".into())),
    };
    let code = ctx.ask(prompt, CodeRequest::TotpOrBackup).await?;
    let body = serde_json::json!({ "tempToken": temp, "code": code.expose().trim() });
    let response = http::send(ctx.http.post(ctx.endpoint("api/auth/2fa")?).json(&body)).await?;
    match response.status {
        StatusCode::OK => response
            .cookie(COOKIE)
            .ok_or_else(|| Error::Protocol("RTC accepted the code but set no token".into())),
        StatusCode::UNAUTHORIZED | StatusCode::BAD_REQUEST => Err(Error::BadCode(format!(
            "RTC says: {}",
            response.error_message()
        ))),
        _ => Err(response.server_error()),
    }
}

pub(crate) async fn logout(ctx: &Ctx<'_>, token: &Secret) -> Result<()> {
    let url = ctx.endpoint("api/auth/logout")?;
    let response = http::send(with_cookie(ctx.http.post(url), COOKIE, token)).await?;
    match response.status {
        s if s.is_success() || s == StatusCode::UNAUTHORIZED => Ok(()),
        _ => Err(response.server_error()),
    }
}

pub(crate) async fn list(ctx: &Ctx<'_>, token: &Secret) -> Result<Vec<Session>, CallError> {
    let url = ctx.endpoint("api/sessions")?;
    let response = http::send(with_cookie(ctx.http.get(url), COOKIE, token)).await?;
    match response.status {
        StatusCode::OK => {
            let ours = super::own_server_id(super::DialectKind::Rtc, token);
            Ok(parse_list(ctx.account, &response.body, ours.as_deref())?)
        }
        // "Session expired", "Session revoked", "Invalid session": ours is gone.
        StatusCode::UNAUTHORIZED => Err(CallError::Expired),
        _ => Err(response.server_error().into()),
    }
}

pub(crate) async fn revoke(
    ctx: &Ctx<'_>,
    token: &Secret,
    server_id: &Secret,
) -> Result<(), CallError> {
    let url = ctx.endpoint_with_id("api/sessions/", server_id)?;
    let response = http::send(with_cookie(ctx.http.delete(url), COOKIE, token)).await?;
    match response.status {
        StatusCode::OK => Ok(()),
        StatusCode::BAD_REQUEST => Err(Error::Refused(
            "this is Session Warden's own session: RTC does not let a session revoke itself \
             (remove the account to sign it out)"
                .into(),
        )
        .into()),
        StatusCode::NOT_FOUND => Err(Error::SessionNotFound("on the server".into()).into()),
        StatusCode::UNAUTHORIZED => Err(CallError::Expired),
        _ => Err(response.server_error().into()),
    }
}

/// A listing's body, into the domain model (inactive sessions left out); `ours`: the
/// server id our token names, where it names one (`dialect::Ours`).
pub(crate) fn parse_list(
    account: &AccountId,
    body: &[u8],
    ours: Option<&str>,
) -> Result<Vec<Session>> {
    let listing: Listing = serde_json::from_slice(body).map_err(http::unreadable)?;
    let marked = listing
        .sessions
        .iter()
        .filter(|w| w.is_active && w.is_current)
        .count();
    let mut ours = super::Ours::new(ours, marked);
    Ok(listing
        .sessions
        .into_iter()
        .filter(|w| w.is_active)
        .map(|w| {
            let current = ours.claim(&w.id, w.is_current);
            into_session(account, w, current)
        })
        .collect())
}

fn into_session(account: &AccountId, wire: WireSession, current: bool) -> Session {
    let server_id = Secret::new(wire.id);
    Session {
        account: account.clone(),
        id: SessionId::derive(account, &server_id),
        server_id,
        device: Arc::new(if current {
            Device::ours()
        } else {
            Device::from_type_and_browser(
                wire.device_type.as_deref().unwrap_or_default(),
                wire.browser.as_deref().unwrap_or_default(),
            )
        }),
        user_agent: None,
        ip: wire.ip_address.filter(|ip| !ip.is_empty()),
        location: wire.location.filter(|l| !l.is_empty()),
        coordinates: None,
        // The server's own place, taken as it comes.
        location_margin_km: Some(crate::rules::geo::margin::SERVER),
        location_shown: None,
        unreadable: None,
        operator: None,
        label: None,
        created_at: wire.created_at,
        last_active_at: wire.last_activity,
        expires_at: wire.expires_at,
        is_current: current,
        ours_earlier: false,
    }
}
