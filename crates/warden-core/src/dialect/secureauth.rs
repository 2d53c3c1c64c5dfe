//! SecureAuth (docs/apis.md §1): a phone number and a texted code, a JWT in the `token`
//! cookie, a bare array of sessions in epoch milliseconds, and 403 for an unknown id.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use serde::Deserialize;

use super::{CallError, Ctx};
use crate::accounts::account::AccountId;
use crate::dialect::device::AgentNames;
use crate::dialect::http::{self, with_cookie};
use crate::error::{Error, Result};
use crate::prompt::{CodePrompt, CodeRequest};
use crate::secret::Secret;
use crate::session::{Session, SessionId};

const COOKIE: &str = "token";
/// Sessions never expire in SecureAuth's database; its JWTs last 7 days from the sign-in, so
/// a session signed in longer ago than that is dead whatever the list says.
const DEAD_AFTER: Duration = Duration::days(7);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireSession {
    id: String,
    #[serde(default)]
    user_agent: Option<String>,
    #[serde(default)]
    ip: Option<String>,
    #[serde(default)]
    created_at: Option<i64>,
    #[serde(default)]
    last_active_at: Option<i64>,
    #[serde(default)]
    revoked: bool,
    #[serde(default)]
    is_current: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Sent {
    verification_id: String,
}

#[derive(Deserialize)]
struct Verified {
    token: Option<String>,
}

/// Texts a code to `phone`, asks the person for it, and signs in with it.
pub(crate) async fn login(
    ctx: &Ctx<'_>,
    phone: &str,
    prompt: &Arc<dyn CodePrompt>,
) -> Result<Secret> {
    let request = CodeRequest::Sms {
        to: phone.to_owned(),
    };
    // A poll in the background has nobody to read the text: sending one anyway would text
    // the person a useless code on every retry.
    if !prompt.can_answer() {
        return Err(prompt
            .code(ctx.label, &request)
            .err()
            .unwrap_or_else(|| Error::NeedsSignIn {
                account: ctx.label.to_owned(),
                reason: format!("{} asks for {}", ctx.label, request.need()),
            }));
    }
    let body = serde_json::json!({ "phoneNumber": phone });
    let response = http::send(
        ctx.http
            .post(ctx.endpoint("api/auth/send-otp")?)
            .json(&body),
    )
    .await?;
    let sent: Sent = match response.status {
        StatusCode::OK => response.json()?,
        StatusCode::BAD_REQUEST => {
            return Err(Error::InvalidInput(format!(
                "SecureAuth wants a phone number: {}",
                response.error_message()
            )));
        }
        _ => return Err(response.server_error()),
    };
    let code = ctx.ask(prompt, request).await?;
    let body = serde_json::json!({
        "verificationId": sent.verification_id,
        "otp": code.expose().trim(),
    });
    let response = http::send(
        ctx.http
            .post(ctx.endpoint("api/auth/verify-otp")?)
            .json(&body),
    )
    .await?;
    match response.status {
        StatusCode::OK => response
            .cookie(COOKIE)
            .or_else(|| {
                response
                    .json::<Verified>()
                    .ok()
                    .and_then(|v| v.token)
                    .map(Secret::new)
            })
            .ok_or_else(|| Error::Protocol("SecureAuth signed us in but gave no token".into())),
        StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND => {
            let said = response.error_message();
            Err(Error::BadCode(match said.as_str() {
                "Invalid OTP" => "SecureAuth says the code is wrong".into(),
                "OTP expired" => "the code expired (they last 5 minutes); ask for a new one".into(),
                "Invalid verification" => "that code was already used; ask for a new one".into(),
                other => format!("SecureAuth says: {other}"),
            }))
        }
        _ => Err(response.server_error()),
    }
}

pub(crate) async fn logout(ctx: &Ctx<'_>, token: &Secret) -> Result<()> {
    let url = ctx.endpoint("api/auth/logout")?;
    let response = http::send(with_cookie(ctx.http.post(url), COOKIE, token)).await?;
    match response.status {
        s if s.is_success() => Ok(()),
        // Already signed out or expired: nothing left to end.
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Ok(()),
        _ => Err(response.server_error()),
    }
}

/// 401 means our session was revoked or is unknown; 403 with `details` is a JWT the server
/// no longer takes (expired, or signed with another key). Both mean: sign in again.
fn ours_is_gone(response: &http::Response) -> bool {
    matches!(
        response.status,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
    )
}

pub(crate) async fn list(ctx: &Ctx<'_>, token: &Secret) -> Result<Vec<Session>, CallError> {
    let url = ctx.endpoint("api/auth/sessions")?;
    let response = http::send(with_cookie(ctx.http.get(url), COOKIE, token)).await?;
    match response.status {
        StatusCode::OK => {
            let ours = super::own_server_id(super::DialectKind::SecureAuth, token);
            Ok(parse_list(
                ctx.account,
                &response.body,
                ctx.now,
                ours.as_deref(),
            )?)
        }
        _ if ours_is_gone(&response) => Err(CallError::Expired),
        _ => Err(response.server_error().into()),
    }
}

pub(crate) async fn revoke(
    ctx: &Ctx<'_>,
    token: &Secret,
    server_id: &Secret,
) -> Result<(), CallError> {
    let url = ctx.endpoint_with_id("api/auth/sessions/", server_id)?;
    let response = http::send(with_cookie(ctx.http.delete(url), COOKIE, token)).await?;
    match response.status {
        StatusCode::OK => Ok(()),
        // A refused JWT carries `details`; a bare Forbidden is SecureAuth's answer for an id
        // it will not act on: unknown, or another user's.
        StatusCode::FORBIDDEN if !response_has_details(&response) => Err(Error::Refused(
            "SecureAuth answered 403 Forbidden: it says this for a session that does not exist \
             (any more) or is not this account's"
                .into(),
        )
        .into()),
        _ if ours_is_gone(&response) => Err(CallError::Expired),
        _ => Err(response.server_error().into()),
    }
}

fn response_has_details(response: &http::Response) -> bool {
    serde_json::from_slice::<serde_json::Value>(&response.body)
        .is_ok_and(|body| body.get("details").is_some())
}

pub(crate) async fn sign_out_others(ctx: &Ctx<'_>, token: &Secret) -> Result<(), CallError> {
    let url = ctx.endpoint("api/auth/sessions/others")?;
    let response = http::send(with_cookie(ctx.http.delete(url), COOKIE, token)).await?;
    match response.status {
        StatusCode::OK => Ok(()),
        _ if ours_is_gone(&response) => Err(CallError::Expired),
        _ => Err(response.server_error().into()),
    }
}

/// A listing's body, into the domain model: revoked sessions and those whose JWT has run
/// out at `now` left out (the list keeps showing them; their devices are refused).
/// `ours`: the server id our token names (`dialect::Ours`).
pub(crate) fn parse_list(
    account: &AccountId,
    body: &[u8],
    now: DateTime<Utc>,
    ours: Option<&str>,
) -> Result<Vec<Session>> {
    let wire: Vec<WireSession> = serde_json::from_slice(body).map_err(http::unreadable)?;
    let mut names = AgentNames::default();
    let marked = wire.iter().filter(|w| !w.revoked && w.is_current).count();
    let mut ours = super::Ours::new(ours, marked);
    Ok(wire
        .into_iter()
        .filter(|w| !w.revoked)
        .map(|w| {
            let current = ours.claim(&w.id, w.is_current);
            into_session(account, w, current, &mut names)
        })
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .filter(|s| s.is_current || s.expires_at.is_none_or(|end| now < end))
        .collect())
}

fn millis(ms: Option<i64>) -> Option<DateTime<Utc>> {
    ms.map(super::wire_time::millis)
}

fn into_session(
    account: &AccountId,
    wire: WireSession,
    current: bool,
    names: &mut AgentNames,
) -> Result<Session> {
    let last_active_at = millis(wire.last_active_at);
    let created_at = millis(wire.created_at);
    let server_id = Secret::new(wire.id);
    let (device, user_agent) = names.describe(wire.user_agent.as_deref(), current);
    Ok(Session {
        account: account.clone(),
        id: SessionId::derive(account, &server_id),
        server_id,
        device,
        user_agent,
        ip: wire.ip.filter(|ip| !ip.is_empty()),
        location: None,
        coordinates: None,
        location_margin_km: None,
        location_shown: None,
        unreadable: None,
        operator: None,
        label: None,
        created_at,
        last_active_at,
        // Its JWT is signed once, at sign-in, for 7 days; activity does not renew it.
        expires_at: super::wire_time::readable(created_at)
            .and_then(|t| t.checked_add_signed(DEAD_AFTER)),
        is_current: current,
        ours_earlier: false,
    })
}
