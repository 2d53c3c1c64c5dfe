//! awesome-node-auth in user mode (docs/apis.md §2), bearer strategy: 15-minute access
//! tokens whose `sid` names our own session, refresh tokens that rotate the session handle,
//! and no "revoke all others" endpoint. Its quirks are handled here: a refresh that fails
//! because another login replaced our refresh token means signing in again;
//! `SESSION_REVOKED` is final for that token; and since a revoked access token still lists,
//! a listing without our own `sid` means our session is gone.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde::Deserialize;

use super::{CallError, Ctx, wire_time};
use crate::accounts::account::AccountId;
use crate::dialect::device::AgentNames;
use crate::dialect::http;
use crate::error::{Error, Result};
use crate::prompt::{CodePrompt, CodeRequest};
use crate::secret::Secret;
use crate::session::{Session, SessionId};

const STRATEGY: (&str, &str) = ("x-auth-strategy", "bearer");

/// One listed session, as the user API and the admin API both send it. Its text is
/// borrowed from the body where it can be (no escapes): a large listing then allocates
/// only what the domain model keeps.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireSession<'a> {
    #[serde(borrow)]
    session_handle: Cow<'a, str>,
    #[serde(default, borrow)]
    user_agent: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    ip_address: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "wire_time::optional")]
    created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "wire_time::optional")]
    expires_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "wire_time::optional")]
    last_active_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct Listing<'a> {
    #[serde(borrow)]
    sessions: Vec<WireSession<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Tokens {
    access_token: Option<String>,
    refresh_token: Option<String>,
    #[serde(default)]
    requires_two_factor: bool,
    #[serde(default)]
    temp_token: Option<String>,
}

/// Our two tokens, kept as one secret: "access\nrefresh".
struct Pair {
    access: Secret,
    refresh: Secret,
}

impl Pair {
    fn from_secret(token: &Secret) -> Result<Pair> {
        let (access, refresh) = super::split_held(token, "node-auth")?;
        Ok(Pair {
            access: Secret::new(access),
            refresh: Secret::new(refresh),
        })
    }

    fn into_secret(self) -> Secret {
        super::join_held(self.access.expose(), self.refresh.expose())
    }

    fn from_answer(tokens: Tokens) -> Result<Pair> {
        match (tokens.access_token, tokens.refresh_token) {
            (Some(access), Some(refresh)) => Ok(Pair {
                access: Secret::new(access),
                refresh: Secret::new(refresh),
            }),
            _ => Err(Error::Protocol(
                "node-auth signed us in but returned no tokens (is the bearer strategy on?)".into(),
            )),
        }
    }

    /// The `sid` of the access token: which listed session is ours. The token is not
    /// verified here (the server does that); only read.
    fn sid(&self) -> Option<String> {
        super::jwt_claim(self.access.expose(), "sid")
    }

    /// How long the server's access tokens last, from ours (`exp - iat`), when it is a
    /// sensible figure.
    fn access_lifetime(&self) -> Option<chrono::TimeDelta> {
        let access = self.access.expose();
        let lifetime = super::jwt_time(access, "exp")? - super::jwt_time(access, "iat")?;
        (lifetime > chrono::TimeDelta::zero() && lifetime <= chrono::TimeDelta::days(30))
            .then_some(lifetime)
    }
}

/// The lifetime of the access tokens of the server that gave us `token`.
pub(crate) fn access_lifetime(token: &Secret) -> Option<chrono::TimeDelta> {
    Pair::from_secret(token).ok()?.access_lifetime()
}

/// What the person should know before watching a node-auth account: our sign-in takes the
/// user's one refresh token from their other devices. `access_lifetime` is the server's, read
/// from the tokens it gave us; before signing in, the library's default is named.
pub(crate) fn caveat(access_lifetime: Option<chrono::TimeDelta>) -> String {
    let within = match access_lifetime {
        Some(lifetime) => format!("within {}", minutes(lifetime)),
        None => "within 15 minutes on node-auth's default settings".into(),
    };
    format!(
        "node-auth keeps one refresh token per user: Session Warden's own sign-in takes it \
         from your other devices, which are then signed out {within}, when their access token \
         runs out. If you run this server, watch the account through its admin API \
         (node-auth-admin) instead."
    )
}

/// node-auth lets a revoked device keep using the access token it holds until that runs out
/// (quirk 3): until when, or `None` when nothing of it is left.
pub(crate) fn after_revoke(
    access_lifetime: Option<chrono::TimeDelta>,
    session: &Session,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<String> {
    let lifetime = access_lifetime.unwrap_or(DEFAULT_ACCESS_LIFETIME);
    // Its access token was issued when its session (handle) was, at sign-in or at its last
    // refresh: node-auth resets `createdAt` on both.
    let until = session.created_at?.checked_add_signed(lifetime)?;
    (until > now).then(|| {
        format!(
            "node-auth lets that device keep using the access token it holds until {} UTC \
             (at most {} from now): a server cannot take back a token it already issued",
            until.format("%H:%M"),
            minutes(until - now)
        )
    })
}

/// "15 minutes", "1 minute", "2 hours": rounded up, since it bounds how long a token may
/// still work ("at most 14 minutes" when 13 minutes 59 seconds are left).
pub(crate) fn minutes(lifetime: chrono::TimeDelta) -> String {
    let minutes = lifetime
        .num_milliseconds()
        .saturating_add(59_999)
        .div_euclid(60_000)
        .max(1);
    match minutes {
        1 => "1 minute".into(),
        m if m % 60 == 0 && m >= 120 => format!("{} hours", m / 60),
        m => format!("{m} minutes"),
    }
}

/// The `sid` our stored tokens name: the server id of our session.
pub(crate) fn sid_of(token: &Secret) -> Option<String> {
    Pair::from_secret(token).ok()?.sid()
}

fn bearer(request: reqwest::RequestBuilder, pair: &Pair) -> reqwest::RequestBuilder {
    request.bearer_auth(pair.access.expose())
}

pub(crate) async fn login(
    ctx: &Ctx<'_>,
    email: &str,
    password: &Secret,
    prompt: &Arc<dyn CodePrompt>,
) -> Result<Secret> {
    let body = serde_json::json!({ "email": email, "password": password.expose() });
    let request = ctx
        .http
        .post(ctx.endpoint("auth/login")?)
        .header(STRATEGY.0, STRATEGY.1);
    let response = http::send(request.json(&body)).await?;
    let tokens: Tokens = match response.status {
        StatusCode::OK => response.json()?,
        StatusCode::UNAUTHORIZED | StatusCode::BAD_REQUEST => {
            return Err(Error::BadCredentials {
                login: email.to_owned(),
            });
        }
        _ => return Err(response.server_error()),
    };
    let tokens = match (tokens.requires_two_factor, tokens.temp_token.clone()) {
        (true, Some(temp)) => {
            let code = ctx.ask(prompt, CodeRequest::Totp).await?;
            let body = serde_json::json!({ "tempToken": temp, "totpCode": code.expose().trim() });
            let request = ctx
                .http
                .post(ctx.endpoint("auth/2fa/verify")?)
                .header(STRATEGY.0, STRATEGY.1);
            let response = http::send(request.json(&body)).await?;
            match response.status {
                StatusCode::OK => response.json()?,
                StatusCode::UNAUTHORIZED | StatusCode::BAD_REQUEST => {
                    return Err(Error::BadCode(format!(
                        "node-auth says: {}",
                        response.error_message()
                    )));
                }
                _ => return Err(response.server_error()),
            }
        }
        _ => tokens,
    };
    Ok(Pair::from_answer(tokens)?.into_secret())
}

/// A new token pair from our refresh token, or `None` when the server will not give one:
/// `SESSION_REVOKED` (ours was revoked: final for this token), or a refresh token that a
/// later login of the same user replaced. Either way the caller signs in again.
pub(crate) async fn refresh(ctx: &Ctx<'_>, token: &Secret) -> Option<Secret> {
    let pair = Pair::from_secret(token).ok()?;
    let body = serde_json::json!({ "refreshToken": pair.refresh.expose() });
    let request = ctx
        .http
        .post(ctx.endpoint("auth/refresh").ok()?)
        .header(STRATEGY.0, STRATEGY.1)
        .json(&body);
    let response = http::send(request).await.ok()?;
    if response.status != StatusCode::OK {
        // The server's word, cleaned before it reaches a log line.
        let code = serde_json::from_slice::<serde_json::Value>(&response.body)
            .ok()
            .and_then(|b| {
                b.get("code")
                    .and_then(|c| c.as_str())
                    .map(crate::dialect::server_text::clean_error)
            });
        tracing::info!(
            account = %ctx.account,
            status = response.status.as_u16(),
            code = code.as_deref().unwrap_or("-"),
            "node-auth refused our refresh token"
        );
        return None;
    }
    let tokens: Tokens = response.json().ok()?;
    Pair::from_answer(tokens).ok().map(Pair::into_secret)
}

/// node-auth's logout reads only the cookie, so the access token goes as one.
pub(crate) async fn logout(ctx: &Ctx<'_>, token: &Secret) -> Result<()> {
    let pair = Pair::from_secret(token)?;
    let request = ctx.http.post(ctx.endpoint("auth/logout")?).header(
        reqwest::header::COOKIE,
        format!("accessToken={}", pair.access.expose()),
    );
    let response = http::send(request).await?;
    match response.status {
        s if s.is_success() || s == StatusCode::FORBIDDEN => Ok(()),
        _ => Err(response.server_error()),
    }
}

pub(crate) async fn list(ctx: &Ctx<'_>, token: &Secret) -> Result<Vec<Session>, CallError> {
    let pair = Pair::from_secret(token)?;
    let response = http::send(bearer(ctx.http.get(ctx.endpoint("auth/sessions")?), &pair)).await?;
    match response.status {
        StatusCode::OK => {
            let listing: Listing =
                serde_json::from_slice(&response.body).map_err(http::unreadable)?;
            let lifetime = pair.access_lifetime().unwrap_or(DEFAULT_ACCESS_LIFETIME);
            let sessions = into_sessions(
                ctx.account,
                listing.sessions,
                pair.sid().as_deref(),
                lifetime,
            );
            // A revoked session's access token still lists (quirk 3): ours missing from
            // the list means it is gone.
            if !sessions.iter().any(|s| s.is_current) {
                return Err(CallError::Expired);
            }
            Ok(sessions)
        }
        // No token, or an expired or bad one.
        StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED => Err(CallError::Expired),
        _ => Err(response.server_error().into()),
    }
}

pub(crate) async fn revoke(
    ctx: &Ctx<'_>,
    token: &Secret,
    server_id: &Secret,
) -> Result<(), CallError> {
    let pair = Pair::from_secret(token)?;
    let url = ctx.endpoint_with_id("auth/sessions/", server_id)?;
    let response = http::send(bearer(ctx.http.delete(url), &pair)).await?;
    match response.status {
        StatusCode::OK => Ok(()),
        StatusCode::NOT_FOUND => Err(Error::SessionNotFound("on the server".into()).into()),
        StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED => Err(CallError::Expired),
        _ => Err(response.server_error().into()),
    }
}

/// A listing's body, into the domain model; `sid` (from our access token) marks ours.
pub(crate) fn parse_list(
    account: &AccountId,
    body: &[u8],
    sid: Option<&str>,
) -> Result<Vec<Session>> {
    let listing: Listing = serde_json::from_slice(body).map_err(http::unreadable)?;
    Ok(into_sessions(
        account,
        listing.sessions,
        sid,
        DEFAULT_ACCESS_LIFETIME,
    ))
}

/// Listed sessions into the domain model; `sid` marks ours; `lifetime`: the server's
/// access tokens'.
pub(crate) fn into_sessions<'a>(
    account: &AccountId,
    wires: impl IntoIterator<Item = WireSession<'a>>,
    sid: Option<&str>,
    lifetime: chrono::TimeDelta,
) -> Vec<Session> {
    let mut names = AgentNames::default();
    // node-auth marks no session current: only our `sid` names ours.
    let mut ours = super::Ours::new(sid, 0);
    let mut sessions: Vec<Session> = wires
        .into_iter()
        .map(|w| {
            let current = ours.claim(&w.session_handle, false);
            into_session(account, w, current, &mut names)
        })
        .collect();
    mark_superseded(&mut sessions, lifetime);
    sessions
}

/// How long node-auth's access tokens last by default; a server's own figure is read from
/// the tokens it gives us (`access_lifetime`) where we hold some.
pub(crate) const DEFAULT_ACCESS_LIFETIME: chrono::Duration = chrono::Duration::minutes(15);

/// node-auth keeps one refresh token per user (quirk 1): only the newest session's device
/// can refresh. Every other session ends when its access token runs out, though the list
/// shows it until its refresh token would have expired: that is when it is over.
fn mark_superseded(sessions: &mut [Session], lifetime: chrono::TimeDelta) {
    let Some(newest) = sessions.iter().filter_map(|s| s.created_at).max() else {
        return;
    };
    for session in sessions {
        if let Some(created) = session.created_at.filter(|c| *c < newest)
            && let Some(end) = created.checked_add_signed(lifetime)
        {
            session.expires_at = Some(session.expires_at.map_or(end, |e| e.min(end)));
        }
    }
}

fn into_session(
    account: &AccountId,
    wire: WireSession<'_>,
    current: bool,
    names: &mut AgentNames,
) -> Session {
    let server_id = Secret::new(wire.session_handle);
    let (device, user_agent) = names.describe(wire.user_agent.as_deref(), current);
    Session {
        account: account.clone(),
        id: SessionId::derive(account, &server_id),
        server_id,
        device,
        user_agent,
        ip: wire
            .ip_address
            .filter(|ip| !ip.is_empty())
            .map(Cow::into_owned),
        location: None,
        coordinates: None,
        location_margin_km: None,
        location_shown: None,
        unreadable: None,
        operator: None,
        label: None,
        created_at: wire.created_at,
        last_active_at: wire.last_active_at,
        expires_at: wire.expires_at,
        is_current: current,
        ours_earlier: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_newest_session_outlives_its_access_token() {
        let body = br#"{"sessions":[
            {"sessionHandle":"old","userId":"1","userAgent":"a","ipAddress":"198.51.100.1",
             "createdAt":"2026-11-22T06:00:00.000Z","expiresAt":"2026-11-29T06:00:00.000Z","lastActiveAt":"2026-11-22T06:05:00.000Z"},
            {"sessionHandle":"new","userId":"1","userAgent":"b","ipAddress":"198.51.100.2",
             "createdAt":"2026-11-22T07:00:00.000Z","expiresAt":"2026-11-29T07:00:00.000Z","lastActiveAt":"2026-11-22T07:00:00.000Z"}
        ]}"#;
        let account = AccountId::from_stored("acc".into());
        let sessions = parse_list(&account, body, None).expect("parses");
        let end = |agent: &str| {
            sessions
                .iter()
                .find(|s| s.user_agent.as_deref() == Some(agent))
                .and_then(|s| s.expires_at)
                .map(|t| t.to_rfc3339())
        };
        assert_eq!(
            end("a").as_deref(),
            Some("2026-11-22T06:15:00+00:00"),
            "the other device took the one refresh token: over when its access token is"
        );
        assert_eq!(end("b").as_deref(), Some("2026-11-29T07:00:00+00:00"));
    }
}
