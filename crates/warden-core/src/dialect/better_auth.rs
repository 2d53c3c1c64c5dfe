//! Better Auth (docs/apis.md §5): an app's auth routes under `/api/auth` (or wherever
//! the person's URL points), a signed session cookie or a bearer token, a bare array of
//! sessions in which **every row carries that session's live token**.
//!
//! Those tokens are credentials to other people's sessions: they are read into a `Secret`
//! while a listing is parsed, compared with ours, and dropped. What the person sees, and
//! what the ledger keeps, is the session's `id`. Revoking one looks its token up in a
//! fresh listing at that moment (`revoke`), since the API revokes by token only.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use reqwest::{RequestBuilder, StatusCode};
use serde::Deserialize;
use url::Url;

use super::{CallError, Ctx, wire_time};
use crate::accounts::account::AccountId;
use crate::dialect::device::AgentNames;
use crate::dialect::http;
use crate::error::{Error, Result};
use crate::prompt::{CodePrompt, CodeRequest};
use crate::secret::Secret;
use crate::session::{Session, SessionId};

/// Where apps mount Better Auth unless they say otherwise.
const DEFAULT_PATH: &str = "api/auth/";
/// The session cookie is `better-auth.session_token` (with `__Secure-` on https, and the
/// app's own prefix where it set one): found by this ending.
const SESSION_COOKIE_END: &str = "session_token";
const TWO_FACTOR_COOKIE_END: &str = "two_factor";
/// How often `updatedAt` moves at most (the library's `updateAge` default): the closest a
/// listing comes to "last active".
pub(crate) const ACTIVITY_GRANULARITY: chrono::TimeDelta = chrono::TimeDelta::days(1);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireSession {
    id: String,
    /// That session's live credential: compared with ours, never kept.
    #[serde(default)]
    token: Option<Secret>,
    #[serde(default, deserialize_with = "wire_time::optional")]
    created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "wire_time::optional")]
    updated_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "wire_time::optional")]
    expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    ip_address: Option<String>,
    #[serde(default)]
    user_agent: Option<String>,
}

#[derive(Deserialize)]
struct CurrentSession {
    session: SessionRef,
}

#[derive(Deserialize)]
struct SessionRef {
    id: String,
}

/// How our calls carry the credential.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Via {
    /// `Authorization: Bearer`, where the app enabled the `bearer` plugin.
    Bearer,
    /// The session cookie, by its name on this server.
    Cookie(String),
}

/// What we hold, kept as one secret: "bearer" or "cookie:<name>", our session's id, and
/// the signed token (`<raw>.<signature>`), one per line.
struct Held {
    via: Via,
    session_id: String,
    signed: Secret,
}

impl Held {
    fn from_secret(token: &Secret) -> Result<Held> {
        let damaged = || Error::Protocol("the stored Better Auth credential is damaged".into());
        let mut lines = token.expose().splitn(3, '\n');
        let via = match lines.next().ok_or_else(damaged)? {
            "bearer" => Via::Bearer,
            other => Via::Cookie(other.strip_prefix("cookie:").ok_or_else(damaged)?.into()),
        };
        let session_id = lines.next().ok_or_else(damaged)?.to_owned();
        let signed = Secret::new(lines.next().ok_or_else(damaged)?);
        Ok(Held {
            via,
            session_id,
            signed,
        })
    }

    fn into_secret(self) -> Secret {
        let via = match &self.via {
            Via::Bearer => "bearer".to_owned(),
            Via::Cookie(name) => format!("cookie:{name}"),
        };
        Secret::new(format!(
            "{via}\n{}\n{}",
            self.session_id,
            self.signed.expose()
        ))
    }

    /// The raw token (before the signature): what the listing's `token` of our row is.
    fn raw(&self) -> &str {
        let signed = self.signed.expose();
        signed.split_once('.').map_or(signed, |(raw, _)| raw)
    }

    fn authorize(&self, request: RequestBuilder) -> RequestBuilder {
        match &self.via {
            Via::Bearer => request.bearer_auth(self.signed.expose()),
            // A POST with a cookie must name the app's origin, or Better Auth refuses it
            // (403 MISSING_OR_NULL_ORIGIN): `post` sends it, once (two Origin headers are
            // an invalid origin too).
            Via::Cookie(name) => http::with_cookie(request, name, &self.signed),
        }
    }
}

fn origin(base: &Url) -> String {
    base.origin().ascii_serialization()
}

/// The auth routes: the person's URL as given, or its `/api/auth/` when they gave the app's
/// root.
pub(crate) fn auth_base(base: &Url) -> Url {
    if base.path() == "/" {
        base.join(DEFAULT_PATH).unwrap_or_else(|_| base.clone())
    } else {
        base.clone()
    }
}

fn endpoint(ctx: &Ctx<'_>, path: &str) -> Result<Url> {
    auth_base(ctx.base)
        .join(path)
        .map_err(|e| Error::InvalidInput(format!("bad URL {}{path}: {e}", ctx.base)))
}

/// The secret parts of what we hold: the signed token, and the raw token the listing shows.
pub(crate) fn secret_parts(token: &Secret) -> Vec<String> {
    Held::from_secret(token)
        .map(|held| vec![held.signed.expose().to_owned(), held.raw().to_owned()])
        .unwrap_or_default()
}

/// The id of our session, which `token` names: read from the held secret.
pub(crate) fn session_id_of(token: &Secret) -> Option<String> {
    Held::from_secret(token).ok().map(|h| h.session_id)
}

fn post(ctx: &Ctx<'_>, path: &str) -> Result<RequestBuilder> {
    Ok(ctx
        .http
        .post(endpoint(ctx, path)?)
        .header(reqwest::header::ORIGIN, origin(ctx.base)))
}

pub(crate) async fn login(
    ctx: &Ctx<'_>,
    email: &str,
    password: &Secret,
    prompt: &Arc<dyn CodePrompt>,
) -> Result<Secret> {
    let body = serde_json::json!({
        "email": email, "password": password.expose(), "rememberMe": true,
    });
    let response = http::send(post(ctx, "sign-in/email")?.json(&body)).await?;
    match (response.status, response.error_code().as_deref()) {
        (StatusCode::OK, _) => {}
        (StatusCode::UNAUTHORIZED, _) => {
            return Err(Error::BadCredentials {
                login: email.to_owned(),
            });
        }
        (StatusCode::BAD_REQUEST, Some("INVALID_EMAIL")) => {
            return Err(Error::InvalidInput(format!(
                "Better Auth signs in with an email address, and {email:?} is not one"
            )));
        }
        (StatusCode::FORBIDDEN, _) => {
            return Err(Error::Refused(format!(
                "Better Auth refused the sign-in: {}",
                response.error_message()
            )));
        }
        _ => return Err(response.server_error()),
    }
    let two_factor = serde_json::from_slice::<serde_json::Value>(&response.body)
        .ok()
        .and_then(|b| b.get("twoFactorRedirect")?.as_bool())
        .unwrap_or(false);
    // The first answer of a two-factor sign-in also carries a token, of a session the
    // server already deleted: only the verified answer's credential counts.
    let signed_in = if two_factor {
        verify_totp(ctx, &response, prompt).await?
    } else {
        response
    };
    let held = credential_of(&signed_in)?;
    // Which listed session is ours: get-session names its id.
    let response = http::send(held.authorize(ctx.http.get(endpoint(ctx, "get-session")?))).await?;
    let session_id = match response.status {
        StatusCode::OK => response
            .json::<Option<CurrentSession>>()?
            .map(|c| c.session.id)
            .ok_or_else(|| {
                Error::Protocol("Better Auth signed us in but does not know the session".into())
            })?,
        _ => return Err(response.server_error()),
    };
    Ok(Held { session_id, ..held }.into_secret())
}

/// The second step of a two-factor sign-in: the code, sent with the `two_factor` cookie.
async fn verify_totp(
    ctx: &Ctx<'_>,
    first: &http::Response,
    prompt: &Arc<dyn CodePrompt>,
) -> Result<http::Response> {
    let (name, pending) = first.cookie_ending(TWO_FACTOR_COOKIE_END).ok_or_else(|| {
        Error::Protocol("Better Auth asked for a second factor but set no two-factor cookie".into())
    })?;
    let code = ctx.ask(prompt, CodeRequest::Totp).await?;
    let body = serde_json::json!({ "code": code.expose().trim() });
    let request = http::with_cookie(post(ctx, "two-factor/verify-totp")?, &name, &pending);
    let response = http::send(request.json(&body)).await?;
    match response.status {
        StatusCode::OK => Ok(response),
        StatusCode::UNAUTHORIZED | StatusCode::BAD_REQUEST => Err(Error::BadCode(format!(
            "Better Auth says: {}",
            response.error_message()
        ))),
        _ => Err(response.server_error()),
    }
}

/// The credential a sign-in answer hands out: the bearer token where the app offers one,
/// else the session cookie.
fn credential_of(response: &http::Response) -> Result<Held> {
    if let Some(token) = response
        .headers
        .get("set-auth-token")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        return Ok(Held {
            via: Via::Bearer,
            session_id: String::new(),
            signed: Secret::new(token),
        });
    }
    let (name, signed) = response.cookie_ending(SESSION_COOKIE_END).ok_or_else(|| {
        Error::Protocol("Better Auth accepted the sign-in but set no session cookie".into())
    })?;
    Ok(Held {
        via: Via::Cookie(name),
        session_id: String::new(),
        signed,
    })
}

pub(crate) async fn logout(ctx: &Ctx<'_>, token: &Secret) -> Result<()> {
    let held = Held::from_secret(token)?;
    let response = http::send(held.authorize(post(ctx, "sign-out")?)).await?;
    match response.status {
        s if s.is_success() || s == StatusCode::UNAUTHORIZED => Ok(()),
        _ => Err(response.server_error()),
    }
}

/// The listing's body as the server sent it, or why not: 401 is our session gone; 403
/// `SESSION_NOT_FRESH` is our session too old to list with (Better Auth's `freshAge`), which
/// a new sign-in answers (the caller then ends the old one, so ours never pile up).
async fn fetch(ctx: &Ctx<'_>, held: &Held) -> Result<http::Response, CallError> {
    let url = endpoint(ctx, "list-sessions")?;
    let response = http::send(held.authorize(ctx.http.get(url))).await?;
    match response.status {
        StatusCode::OK => Ok(response),
        StatusCode::UNAUTHORIZED => Err(CallError::Expired),
        StatusCode::FORBIDDEN if response.error_code().as_deref() == Some("SESSION_NOT_FRESH") => {
            // Signed out first, with its own credential (freshness does not gate signing
            // out), then signed in anew: at no moment are two sessions of ours alive, so a
            // process stopped in between leaves none behind.
            tracing::debug!(account = %ctx.account, "Better Auth: our session is no longer fresh");
            let signed_out = http::send(held.authorize(post(ctx, "sign-out")?)).await;
            if let Err(e) = signed_out {
                tracing::info!(account = %ctx.account, "could not sign the stale session out: {e}");
            }
            Err(CallError::Expired)
        }
        _ => Err(response.server_error().into()),
    }
}

pub(crate) async fn list(ctx: &Ctx<'_>, token: &Secret) -> Result<Vec<Session>, CallError> {
    let held = Held::from_secret(token)?;
    let response = fetch(ctx, &held).await?;
    Ok(parse_list(ctx.account, &response.body, Some(&held))?)
}

/// Ends the session with this id: its token is looked up in a listing made now (the API
/// revokes by token, and we keep none but ours). The answer is `true` for anything, so only
/// the caller's listing afterwards tells whether it worked.
pub(crate) async fn revoke(
    ctx: &Ctx<'_>,
    token: &Secret,
    server_id: &Secret,
) -> Result<(), CallError> {
    let held = Held::from_secret(token)?;
    let response = fetch(ctx, &held).await?;
    let wire: Vec<WireSession> =
        serde_json::from_slice(&response.body).map_err(http::unreadable)?;
    learn_tokens(&wire);
    let their_token = wire
        .into_iter()
        .find(|w| w.id == server_id.expose())
        .and_then(|w| w.token)
        .ok_or_else(|| Error::SessionNotFound("on the server".into()))?;
    let body = serde_json::json!({ "token": their_token.expose() });
    let response = http::send(held.authorize(post(ctx, "revoke-session")?).json(&body)).await?;
    match response.status {
        StatusCode::OK => Ok(()),
        StatusCode::UNAUTHORIZED => Err(CallError::Expired),
        _ => Err(response.server_error().into()),
    }
}

pub(crate) async fn sign_out_others(ctx: &Ctx<'_>, token: &Secret) -> Result<(), CallError> {
    let held = Held::from_secret(token)?;
    let response = http::send(held.authorize(post(ctx, "revoke-other-sessions")?)).await?;
    match response.status {
        StatusCode::OK => Ok(()),
        StatusCode::UNAUTHORIZED => Err(CallError::Expired),
        _ => Err(response.server_error().into()),
    }
}

/// A listing's body, into the domain model. Ours is the row whose `token` is ours (or whose
/// `id` our sign-in was told); every row's token is dropped here.
fn parse_list(account: &AccountId, body: &[u8], held: Option<&Held>) -> Result<Vec<Session>> {
    let wire: Vec<WireSession> = serde_json::from_slice(body).map_err(http::unreadable)?;
    learn_tokens(&wire);
    let is_ours = |w: &WireSession| {
        held.is_some_and(|h| {
            w.id == h.session_id || w.token.as_ref().is_some_and(|t| t.expose() == h.raw())
        })
    };
    let marked = wire.iter().filter(|w| is_ours(w)).count();
    let mut ours = super::Ours::new(None, marked);
    let mut names = AgentNames::default();
    Ok(wire
        .into_iter()
        .map(|w| {
            let current = ours.claim(&w.id, is_ours(&w));
            into_session(account, w, current, &mut names)
        })
        .collect())
}

/// Every session's token is a secret the server handed us: never to be repeated (`scrub`).
fn learn_tokens(wire: &[WireSession]) {
    for token in wire.iter().filter_map(|w| w.token.as_ref()) {
        crate::dialect::scrub::learn(token.expose());
    }
}

/// For `dialect::parse_listing` (benchmarks, fuzzing): nothing is ours.
pub(crate) fn parse_anonymous(account: &AccountId, body: &[u8]) -> Result<Vec<Session>> {
    parse_list(account, body, None)
}

fn into_session(
    account: &AccountId,
    wire: WireSession,
    current: bool,
    names: &mut AgentNames,
) -> Session {
    let server_id = Secret::new(wire.id);
    let (device, user_agent) = names.describe(wire.user_agent.as_deref(), current);
    Session {
        account: account.clone(),
        id: SessionId::derive(account, &server_id),
        server_id,
        device,
        user_agent,
        // "" when the request that signed in carried no X-Forwarded-For.
        ip: wire.ip_address.filter(|ip| !ip.is_empty()),
        location: None,
        coordinates: None,
        location_margin_km: None,
        location_shown: None,
        unreadable: None,
        operator: None,
        label: None,
        created_at: wire.created_at,
        // `updatedAt` moves at most once a day: activity to the day, never finer
        // (`ACTIVITY_GRANULARITY`); before the first move, the sign-in.
        last_active_at: wire.updated_at.or(wire.created_at),
        expires_at: wire.expires_at,
        is_current: current,
        ours_earlier: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTING: &str = r#"[
      {"id":"s1","token":"rawOURS","userId":"u","createdAt":"2026-11-20T10:00:00.000Z",
       "updatedAt":"2026-11-21T10:00:00.000Z","expiresAt":"2026-11-27T10:00:00.000Z",
       "ipAddress":"","userAgent":"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"},
      {"id":"s2","token":"rawTHEIRS","userId":"u","createdAt":"2026-11-20T11:00:00.000Z",
       "updatedAt":"2026-11-20T11:00:00.000Z","expiresAt":"2026-11-27T11:00:00.000Z",
       "ipAddress":"198.51.100.7","userAgent":""}
    ]"#;

    fn held(session_id: &str, signed: &str) -> Held {
        Held {
            via: Via::Cookie("better-auth.session_token".into()),
            session_id: session_id.into(),
            signed: Secret::new(signed),
        }
    }

    #[test]
    fn ours_is_the_row_holding_our_token_and_no_token_survives_the_parse() {
        let account = AccountId::from_stored("acc".into());
        let sessions = parse_list(
            &account,
            LISTING.as_bytes(),
            Some(&held("", "rawOURS.c2ln")),
        )
        .expect("parses");
        assert_eq!(sessions.len(), 2);
        assert!(sessions[0].is_current && !sessions[1].is_current);
        assert_eq!(sessions[1].ip.as_deref(), Some("198.51.100.7"));
        assert_eq!(sessions[0].ip, None, "an empty address is none");
        assert_eq!(
            sessions[1].server_id.expose(),
            "s2",
            "the id, not the token"
        );
        let printed = format!("{sessions:?}");
        assert!(!printed.contains("rawTHEIRS") && !printed.contains("rawOURS"));
        let by_id =
            parse_list(&account, LISTING.as_bytes(), Some(&held("s2", "x.y"))).expect("parses");
        assert!(by_id[1].is_current, "or by the id get-session named");
    }

    #[test]
    fn the_held_credential_round_trips_and_refuses_damage() {
        let secret = held("s1", "raw.sig=").into_secret();
        let back = Held::from_secret(&secret).expect("reads back");
        assert_eq!((back.session_id.as_str(), back.raw()), ("s1", "raw"));
        assert_eq!(back.via, Via::Cookie("better-auth.session_token".into()));
        assert!(Held::from_secret(&Secret::new("nonsense")).is_err());
    }

    #[test]
    fn the_auth_routes_default_to_api_auth_at_an_apps_root() {
        let at = |u: &str| auth_base(&u.parse().expect("a URL")).to_string();
        assert_eq!(at("https://app.example/"), "https://app.example/api/auth/");
        assert_eq!(at("https://app.example/auth/"), "https://app.example/auth/");
    }
}
