//! The hectoday course's API (docs/apis.md §3): cookie `session=<id>`, a bare array of
//! sessions with SQLite-style UTC times, and an id that *is* the session cookie.

use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};
use reqwest::StatusCode;
use serde::Deserialize;

use super::{CallError, Ctx};
use crate::accounts::account::AccountId;
use crate::dialect::http::{self, with_cookie};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::session::{Device, Session, SessionId};

const COOKIE: &str = "session";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireSession {
    id: String,
    device_name: Option<String>,
    ip: Option<String>,
    last_active_at: Option<String>,
    created_at: Option<String>,
    #[serde(default)]
    is_current: bool,
}

/// Signs in; the session cookie is the token.
pub(crate) async fn login(ctx: &Ctx<'_>, login: &str, password: &Secret) -> Result<Secret> {
    let body = serde_json::json!({ "email": login, "password": password.expose() });
    let response = http::send(ctx.http.post(ctx.endpoint("login")?).json(&body)).await?;
    match response.status {
        s if s.is_success() => response.cookie(COOKIE).ok_or_else(|| {
            Error::Protocol("the server accepted the sign-in but set no session cookie".into())
        }),
        StatusCode::UNAUTHORIZED | StatusCode::BAD_REQUEST | StatusCode::FORBIDDEN => {
            Err(Error::BadCredentials {
                login: login.to_owned(),
            })
        }
        _ => Err(response.server_error()),
    }
}

/// Ends our own session on the server (used when the account is removed).
pub(crate) async fn logout(ctx: &Ctx<'_>, token: &Secret) -> Result<()> {
    let response = http::send(with_cookie(
        ctx.http.post(ctx.endpoint("logout")?),
        COOKIE,
        token,
    ))
    .await?;
    match response.status {
        s if s.is_success() || s == StatusCode::UNAUTHORIZED => Ok(()),
        _ => Err(response.server_error()),
    }
}

pub(crate) async fn list(ctx: &Ctx<'_>, token: &Secret) -> Result<Vec<Session>, CallError> {
    let url = ctx.endpoint("me/sessions")?;
    let response = http::send(with_cookie(ctx.http.get(url), COOKIE, token)).await?;
    match response.status {
        // The id is the cookie: ours is the row whose id is our token.
        StatusCode::OK => Ok(parse_list(
            ctx.account,
            &response.body,
            Some(token.expose()),
        )?),
        StatusCode::UNAUTHORIZED => Err(CallError::Expired),
        _ => Err(response.server_error().into()),
    }
}

pub(crate) async fn revoke(
    ctx: &Ctx<'_>,
    token: &Secret,
    server_id: &Secret,
) -> Result<(), CallError> {
    // The id is a session cookie: it goes in the path because the API says so.
    let url = ctx.endpoint_with_id("me/sessions/", server_id)?;
    let response = http::send(with_cookie(ctx.http.delete(url), COOKIE, token)).await?;
    match response.status {
        StatusCode::OK => Ok(()),
        StatusCode::BAD_REQUEST => Err(Error::Refused(
            "this is Session Warden's own session: hectoday ends it only by signing out \
             (remove the account to do that)"
                .into(),
        )
        .into()),
        StatusCode::NOT_FOUND => Err(Error::SessionNotFound("on the server".into()).into()),
        StatusCode::UNAUTHORIZED => Err(CallError::Expired),
        _ => Err(response.server_error().into()),
    }
}

pub(crate) async fn sign_out_others(ctx: &Ctx<'_>, token: &Secret) -> Result<(), CallError> {
    let url = ctx.endpoint("me/sessions/revoke-all")?;
    let response = http::send(with_cookie(ctx.http.post(url), COOKIE, token)).await?;
    match response.status {
        StatusCode::OK => Ok(()),
        StatusCode::UNAUTHORIZED => Err(CallError::Expired),
        _ => Err(response.server_error().into()),
    }
}

/// A listing's body, into the domain model; `ours`: our session's id (`dialect::Ours`).
pub(crate) fn parse_list(
    account: &AccountId,
    body: &[u8],
    ours: Option<&str>,
) -> Result<Vec<Session>> {
    let wire: Vec<WireSession> = serde_json::from_slice(body).map_err(http::unreadable)?;
    // Each id is that session's cookie (docs/apis.md §3): a secret, never to be repeated.
    for w in &wire {
        crate::dialect::scrub::learn(&w.id);
    }
    let marked = wire.iter().filter(|w| w.is_current).count();
    let mut ours = super::Ours::new(ours, marked);
    wire.into_iter()
        .map(|w| {
            let current = ours.claim(&w.id, w.is_current);
            into_session(account, w, current)
        })
        .collect()
}

fn into_session(account: &AccountId, wire: WireSession, current: bool) -> Result<Session> {
    let created_at = wire.created_at.as_deref().map(parse_time);
    let last_active_at = wire.last_active_at.as_deref().map(parse_time);
    let server_id = Secret::new(wire.id);
    Ok(Session {
        account: account.clone(),
        id: SessionId::derive(account, &server_id),
        server_id,
        device: Arc::new(if current {
            Device::ours()
        } else {
            Device::from_label(wire.device_name.as_deref().unwrap_or_default())
        }),
        user_agent: None,
        ip: wire.ip.filter(|ip| !ip.is_empty() && ip != "unknown"),
        location: None,
        coordinates: None,
        location_margin_km: None,
        location_shown: None,
        unreadable: None,
        operator: None,
        label: None,
        created_at,
        last_active_at,
        // hectoday lists no expiry; the course's policy gives one: 30 minutes after the last
        // activity, and never more than 24 hours after signing in.
        expires_at: course_expiry(created_at, last_active_at),
        is_current: current,
        ours_earlier: false,
    })
}

const IDLE_TIMEOUT: chrono::Duration = chrono::Duration::minutes(30);
const ABSOLUTE_TIMEOUT: chrono::Duration = chrono::Duration::hours(24);

fn course_expiry(
    created: Option<DateTime<Utc>>,
    last_active: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    let readable = super::wire_time::readable;
    let idle = readable(last_active).and_then(|t| t.checked_add_signed(IDLE_TIMEOUT));
    let absolute = readable(created).and_then(|t| t.checked_add_signed(ABSOLUTE_TIMEOUT));
    match (idle, absolute) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// SQLite's `YYYY-MM-DD HH:MM:SS`, in UTC with no zone; anything else is unreadable
/// (`wire_time::UNREADABLE`), left out of its session by `admitted`, which says so.
fn parse_time(text: &str) -> DateTime<Utc> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .map(|t| t.and_utc())
        .unwrap_or(super::wire_time::UNREADABLE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> AccountId {
        AccountId::from_stored("acc".into())
    }

    #[test]
    fn a_listed_session_becomes_the_domain_model() {
        let wire: Vec<WireSession> = serde_json::from_str(
            r#"[{"id":"abc","deviceName":"Chrome on macOS","ip":"1.2.3.4",
                 "lastActiveAt":"2026-01-15 10:30:00","createdAt":"2026-01-15 09:00:00",
                 "isCurrent":true}]"#,
        )
        .expect("the documented example parses");
        let session = into_session(&account(), wire.into_iter().next().expect("one"), true)
            .expect("converts");
        assert_eq!(
            session.device.label, "Session Warden",
            "the current session is ours"
        );
        assert_eq!(session.ip.as_deref(), Some("1.2.3.4"));
        assert!(session.is_current);
        assert_eq!(
            session.last_active_at.map(|t| t.to_rfc3339()),
            Some("2026-01-15T10:30:00+00:00".into())
        );
        assert_eq!(session.server_id.expose(), "abc");
    }

    #[test]
    fn an_unknown_ip_is_absent() {
        let wire = WireSession {
            id: "x".into(),
            device_name: None,
            ip: Some("unknown".into()),
            last_active_at: None,
            created_at: None,
            is_current: false,
        };
        assert_eq!(
            into_session(&account(), wire, false).expect("converts").ip,
            None
        );
    }

    #[test]
    fn the_course_policy_gives_the_expiry_idle_or_absolute_whichever_is_first() {
        let t = parse_time;
        assert_eq!(
            course_expiry(
                Some(t("2026-01-15 09:00:00")),
                Some(t("2026-01-15 10:30:00"))
            ),
            Some(t("2026-01-15 11:00:00")),
            "30 minutes after the last activity"
        );
        assert_eq!(
            course_expiry(
                Some(t("2026-01-14 11:00:00")),
                Some(t("2026-01-15 10:50:00"))
            ),
            Some(t("2026-01-15 11:00:00")),
            "24 hours after signing in, however active"
        );
        assert_eq!(course_expiry(None, None), None);
    }

    #[test]
    fn an_iso_time_is_unreadable_not_a_panic() {
        assert_eq!(
            parse_time("2026-01-15T10:30:00Z"),
            crate::dialect::wire_time::UNREADABLE
        );
        assert_eq!(
            course_expiry(Some(parse_time("10000-01-01 00:00:00")), None),
            None,
            "nothing is derived from an unreadable time"
        );
    }
}
