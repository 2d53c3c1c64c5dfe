//! django-allauth's headless API with `usersessions` (docs/apis.md §7), through its `app`
//! client: `X-Session-Token`, no cookies, no CSRF. Every answer is an envelope
//! `{"status", "data", "meta"}`; a dead or ended token is 410 Gone. Where activity tracking
//! is on, a session's address and agent are where it was *last seen*, rewritten on every
//! request, not where it signed in.

use std::sync::Arc;

use reqwest::{RequestBuilder, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{CallError, Ctx, Held};
use crate::accounts::account::AccountId;
use crate::dialect::device::AgentNames;
use crate::dialect::http;
use crate::error::{Error, Result};
use crate::prompt::{CodePrompt, CodeRequest};
use crate::secret::Secret;
use crate::session::{Session, SessionId};

const API: &str = "_allauth/app/v1/";
const TOKEN_HEADER: &str = "X-Session-Token";

#[derive(Deserialize)]
struct Listing {
    data: Vec<WireSession>,
}

#[derive(Deserialize)]
struct WireSession {
    id: Value,
    #[serde(default)]
    user_agent: Option<String>,
    #[serde(default)]
    ip: Option<String>,
    #[serde(default)]
    created_at: Option<f64>,
    #[serde(default)]
    last_seen_at: Option<f64>,
    #[serde(default)]
    is_current: bool,
}

fn read_held(token: &Secret) -> Result<Held> {
    Held::from_secret(token, "allauth")
}

fn authorize(request: RequestBuilder, token: &Secret) -> RequestBuilder {
    request.header(TOKEN_HEADER, token.expose())
}

/// Our session's id, which `token` names.
pub(crate) fn session_id_of(token: &Secret) -> Option<String> {
    read_held(token)
        .ok()
        .map(|h| h.id)
        .filter(|id| !id.is_empty())
}

fn endpoint(ctx: &Ctx<'_>, path: &str) -> Result<url::Url> {
    ctx.endpoint(&format!("{API}{path}"))
}

fn session_token(body: &Value) -> Option<Secret> {
    body.pointer("/meta/session_token")?
        .as_str()
        .filter(|t| !t.is_empty())
        .map(Secret::new)
}

/// The flow a 401 says is pending (`data.flows[].is_pending`).
fn pending_flow(body: &Value) -> Option<String> {
    body.pointer("/data/flows")?
        .as_array()?
        .iter()
        .find(|f| f.get("is_pending").and_then(Value::as_bool) == Some(true))?
        .get("id")?
        .as_str()
        .map(str::to_owned)
}

pub(crate) async fn login(
    ctx: &Ctx<'_>,
    login: &str,
    password: &Secret,
    prompt: &Arc<dyn CodePrompt>,
) -> Result<Secret> {
    // The site decides whether accounts sign in by email or username: an address with an
    // @ is an email.
    let field = if login.contains('@') {
        "email"
    } else {
        "username"
    };
    let body = json!({ field: login, "password": password.expose() });
    let response = http::send(ctx.http.post(endpoint(ctx, "auth/login")?).json(&body)).await?;
    let token = match response.status {
        StatusCode::OK => session_token(&response.json()?),
        StatusCode::UNAUTHORIZED => {
            let body: Value = response.json()?;
            let pending = session_token(&body);
            match (pending_flow(&body).as_deref(), pending) {
                (Some("mfa_authenticate"), Some(pending)) => {
                    Some(second_factor(ctx, &pending, prompt).await?)
                }
                (flow, _) => return Err(pending_explained(ctx, flow)),
            }
        }
        StatusCode::BAD_REQUEST => {
            return Err(match response.error_code().as_deref() {
                Some(code) if code.ends_with("password_mismatch") => Error::BadCredentials {
                    login: login.to_owned(),
                },
                _ => Error::InvalidInput(format!(
                    "the site refused the sign-in: {}",
                    response.error_message()
                )),
            });
        }
        StatusCode::CONFLICT => {
            return Err(Error::Protocol(
                "the site says this client is already signed in".into(),
            ));
        }
        _ => return Err(response.server_error()),
    };
    let token = token.ok_or_else(|| {
        Error::Protocol(
            "the site signed us in but gave no session token (is the app client on?)".into(),
        )
    })?;
    // Which listed session is ours: the one the listing marks current for our token.
    let response = http::send(authorize(
        ctx.http.get(endpoint(ctx, "auth/sessions")?),
        &token,
    ))
    .await?;
    let session_id = match response.status {
        StatusCode::OK => response
            .json::<Listing>()?
            .data
            .iter()
            .find(|w| w.is_current)
            .map(|w| id_text(&w.id))
            .unwrap_or_default(),
        _ => return Err(response.server_error()),
    };
    Ok(Held {
        id: session_id,
        token,
    }
    .into_secret())
}

/// The authenticator step of a sign-in (allauth's `mfa_authenticate` flow): a TOTP code,
/// or one of the recovery codes, which the same route takes.
async fn second_factor(
    ctx: &Ctx<'_>,
    pending: &Secret,
    prompt: &Arc<dyn CodePrompt>,
) -> Result<Secret> {
    let code = ctx.ask(prompt, CodeRequest::TotpOrBackup).await?;
    let body = json!({ "code": code.expose().trim() });
    let request = authorize(
        ctx.http.post(endpoint(ctx, "auth/2fa/authenticate")?),
        pending,
    );
    let response = http::send(request.json(&body)).await?;
    match response.status {
        StatusCode::OK => Ok(session_token(&response.json()?).unwrap_or_else(|| pending.clone())),
        StatusCode::BAD_REQUEST => Err(Error::BadCode(format!(
            "the site says: {}",
            response.error_message()
        ))),
        _ => Err(response.server_error()),
    }
}

/// A step of the sign-in that Session Warden cannot take for the person, in words.
fn pending_explained(ctx: &Ctx<'_>, flow: Option<&str>) -> Error {
    let reason = match flow {
        Some("verify_email") => {
            "the site wants the email address confirmed first: open the link or enter the \
             code it sent, then add the account again"
        }
        Some("login_by_code") => {
            "the site signs this account in with a code sent by email, not a password"
        }
        Some("mfa_authenticate") => "the site asks for a second factor but gave no way to answer",
        Some("reauthenticate" | "mfa_reauthenticate") => {
            "the site asks to confirm the password again in its own pages"
        }
        Some("provider_redirect" | "provider_signup" | "provider_token") => {
            "this account signs in through another provider (single sign-on), not a password"
        }
        _ => "the site asks for a step Session Warden does not know",
    };
    Error::NeedsSignIn {
        account: ctx.label.to_owned(),
        reason: reason.to_owned(),
    }
}

pub(crate) async fn logout(ctx: &Ctx<'_>, token: &Secret) -> Result<()> {
    let held = read_held(token)?;
    let request = authorize(ctx.http.delete(endpoint(ctx, "auth/session")?), &held.token);
    let response = http::send(request).await?;
    match response.status {
        // allauth answers a sign-out with 401 (nobody signed in now); 410: already gone.
        s if s.is_success() || s == StatusCode::UNAUTHORIZED || s == StatusCode::GONE => Ok(()),
        _ => Err(response.server_error()),
    }
}

fn gone(response: &http::Response) -> bool {
    matches!(response.status, StatusCode::GONE | StatusCode::UNAUTHORIZED)
}

pub(crate) async fn list(ctx: &Ctx<'_>, token: &Secret) -> Result<Vec<Session>, CallError> {
    let held = read_held(token)?;
    let request = authorize(ctx.http.get(endpoint(ctx, "auth/sessions")?), &held.token);
    let response = http::send(request).await?;
    match response.status {
        StatusCode::OK => Ok(parse_list(
            ctx.account,
            &response.body,
            Some(held.id.as_str()).filter(|id| !id.is_empty()),
        )?),
        _ if gone(&response) => Err(CallError::Expired),
        _ => Err(response.server_error().into()),
    }
}

/// Ends the sessions with these ids, in one request.
async fn delete(ctx: &Ctx<'_>, held: &Held, ids: &[&str]) -> Result<(), CallError> {
    // The ids are integers on the wire; one that is not cannot be a session of this site.
    let ids: Vec<i64> = ids
        .iter()
        .map(|id| id.parse::<i64>())
        .collect::<Result<_, _>>()
        .map_err(|_| Error::SessionNotFound("on the server".into()))?;
    let request = authorize(
        ctx.http.delete(endpoint(ctx, "auth/sessions")?),
        &held.token,
    )
    .json(&json!({ "sessions": ids }));
    let response = http::send(request).await?;
    match response.status {
        StatusCode::OK => Ok(()),
        StatusCode::BAD_REQUEST if response.error_code().as_deref() == Some("invalid_choice") => {
            Err(Error::SessionNotFound("on the server".into()).into())
        }
        _ if gone(&response) => Err(CallError::Expired),
        _ => Err(response.server_error().into()),
    }
}

pub(crate) async fn revoke(
    ctx: &Ctx<'_>,
    token: &Secret,
    server_id: &Secret,
) -> Result<(), CallError> {
    let held = read_held(token)?;
    delete(ctx, &held, &[server_id.expose()]).await
}

/// allauth has no "all others" call: one DELETE with every id but ours.
pub(crate) async fn sign_out_others(
    ctx: &Ctx<'_>,
    token: &Secret,
    listed: &[Session],
) -> Result<(), CallError> {
    let held = read_held(token)?;
    let others = held.others(listed);
    if others.is_empty() {
        return Ok(());
    }
    delete(ctx, &held, &others).await
}

/// An id as text: allauth's are integers; anything else is kept as the server wrote it.
fn id_text(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn parse_list(account: &AccountId, body: &[u8], ours: Option<&str>) -> Result<Vec<Session>> {
    let wire: Listing = serde_json::from_slice(body).map_err(http::unreadable)?;
    let marked = wire.data.iter().filter(|w| w.is_current).count();
    let mut ours = super::Ours::new(ours, marked);
    let mut names = AgentNames::default();
    wire.data
        .into_iter()
        .map(|w| {
            let id = id_text(&w.id);
            let current = ours.claim(&id, w.is_current);
            into_session(account, w, id, current, &mut names)
        })
        .collect()
}

pub(crate) fn parse_anonymous(account: &AccountId, body: &[u8]) -> Result<Vec<Session>> {
    parse_list(account, body, None)
}

/// Epoch seconds, as a float; one out of any calendar is `wire_time::UNREADABLE`.
fn seconds(value: Option<f64>) -> Option<chrono::DateTime<chrono::Utc>> {
    value.map(|s| {
        let millis = (s * 1000.0).round();
        if millis.is_finite() {
            // `as` saturates; past chrono's range is unreadable.
            super::wire_time::millis(millis as i64)
        } else {
            super::wire_time::UNREADABLE
        }
    })
}

fn into_session(
    account: &AccountId,
    wire: WireSession,
    id: String,
    current: bool,
    names: &mut AgentNames,
) -> Result<Session> {
    let server_id = Secret::new(id);
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
        created_at: seconds(wire.created_at),
        last_active_at: seconds(wire.last_seen_at),
        expires_at: None,
        is_current: current,
        ours_earlier: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_s_sessions_become_the_domain_model() {
        let account = AccountId::from_stored("acc".into());
        let body = br#"{"status":200,"data":[
            {"id":7,"user_agent":"curl/8.0","ip":"203.0.113.9","created_at":1795000000.25,
             "last_seen_at":1795000100.5,"is_current":true},
            {"id":9,"user_agent":"","ip":"","created_at":1795000000.0,"is_current":false}]}"#;
        let sessions = parse_list(&account, body, Some("7")).expect("parses");
        assert!(sessions[0].is_current && !sessions[1].is_current);
        assert_eq!(sessions[1].server_id.expose(), "9");
        assert_eq!(sessions[1].ip, None);
        assert_eq!(sessions[1].last_active_at, None, "no tracking, no activity");
        assert_eq!(
            sessions[0].created_at.map(|t| t.timestamp_millis()),
            Some(1_795_000_000_250)
        );
    }

    #[test]
    fn a_time_out_of_any_calendar_is_unreadable_not_a_panic() {
        for bad in [f64::INFINITY, f64::NAN, 1e300, -1e300] {
            assert_eq!(
                seconds(Some(bad)),
                Some(crate::dialect::wire_time::UNREADABLE),
                "{bad}"
            );
        }
    }
}
