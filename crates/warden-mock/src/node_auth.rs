//! awesome-node-auth's API (docs/apis.md §2): password + optional TOTP, 15-minute access
//! JWTs carrying the session handle as `sid`, refresh that rotates the handle, bearer and
//! cookie modes, and the admin API. Its three quirks are reproduced on purpose: one refresh
//! token per user, a new handle on every refresh, and access tokens that outlive a revoke.

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::MockState;
use crate::dialect::{self, Credentials, Dialect};
use crate::jwt;
use crate::peer::{ClientAddr, user_agent};
use crate::respond::{Refusal, bearer, clear_cookie, coded_error, cookie_value, error, set_cookie};
use crate::store::{Device, Session, User};
use crate::totp;

pub const ACCESS_LIFETIME: Duration = Duration::minutes(15);
pub const REFRESH_LIFETIME: Duration = Duration::days(7);
const TEMP_LIFETIME: Duration = Duration::minutes(5);
const ACCESS_COOKIE: &str = "accessToken";
const REFRESH_COOKIE: &str = "refreshToken";
const REFRESH_PATH: &str = "/auth/refresh";

pub fn routes() -> Router<MockState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/2fa/verify", post(verify_2fa))
        .route("/auth/refresh", post(refresh))
        .route("/auth/logout", post(logout))
        .route("/auth/sessions", get(list))
        .route("/auth/sessions/cleanup", post(cleanup))
        .route("/auth/sessions/{handle}", delete(revoke))
        .route("/admin/api/sessions", get(admin_list))
        .route("/admin/api/sessions/{handle}", delete(admin_revoke))
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccessClaims {
    sub: String,
    email: String,
    role: String,
    login_provider: String,
    is_email_verified: bool,
    is_totp_enabled: bool,
    sid: String,
    iat: i64,
    exp: i64,
}

#[derive(Serialize, Deserialize)]
struct RefreshClaims {
    sub: String,
    sid: String,
    jti: String,
    typ: Refresh,
    iat: i64,
    exp: i64,
}

#[derive(Serialize, Deserialize)]
struct TempClaims {
    sub: String,
    typ: TwoFactor,
    iat: i64,
    exp: i64,
}

/// Token kinds as types, so one kind never verifies as another.
#[derive(Serialize, Deserialize)]
enum Refresh {
    #[serde(rename = "refresh")]
    Refresh,
}

#[derive(Serialize, Deserialize)]
enum TwoFactor {
    #[serde(rename = "2fa")]
    TwoFactor,
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// New access and refresh tokens for `session`; the refresh token becomes the user's only
/// valid one (quirk 1).
pub fn issue_tokens(state: &MockState, user: &User, session: &Session) -> Credentials {
    let now = state.clock.now();
    let secret = state.store.jwt_secret();
    let access = jwt::sign(
        &secret,
        Dialect::NodeAuth,
        &AccessClaims {
            sub: user.id.clone(),
            email: user.email.clone(),
            role: "user".into(),
            login_provider: "local".into(),
            is_email_verified: true,
            is_totp_enabled: user.totp.is_some(),
            sid: session.id.clone(),
            iat: now.timestamp(),
            exp: (now + ACCESS_LIFETIME).timestamp(),
        },
    );
    let jti = uuid::Uuid::new_v4().to_string();
    let refresh = jwt::sign(
        &secret,
        Dialect::NodeAuth,
        &RefreshClaims {
            sub: user.id.clone(),
            sid: session.id.clone(),
            jti: jti.clone(),
            typ: Refresh::Refresh,
            iat: now.timestamp(),
            exp: (now + REFRESH_LIFETIME).timestamp(),
        },
    );
    state.store.set_refresh_token(&user.id, &jti);
    Credentials {
        cookie: Some(format!("{ACCESS_COOKIE}={access}")),
        access_token: Some(access),
        refresh_token: Some(refresh),
    }
}

fn bearer_mode(headers: &HeaderMap) -> bool {
    headers
        .get("x-auth-strategy")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("bearer"))
}

/// The tokens as the client asked for them: in the body (bearer) or as cookies.
fn tokens_response(headers: &HeaderMap, tokens: &Credentials) -> Response {
    let access = tokens.access_token.as_deref().unwrap_or_default();
    let refresh = tokens.refresh_token.as_deref().unwrap_or_default();
    if bearer_mode(headers) {
        return Json(json!({ "success": true, "accessToken": access, "refreshToken": refresh }))
            .into_response();
    }
    let response = Json(json!({ "success": true })).into_response();
    let response = set_cookie(
        response,
        &format!(
            "{ACCESS_COOKIE}={access}; Max-Age={}; Path=/; HttpOnly; SameSite=Lax",
            ACCESS_LIFETIME.num_seconds()
        ),
    );
    set_cookie(
        response,
        &format!(
            "{REFRESH_COOKIE}={refresh}; Max-Age={}; Path={REFRESH_PATH}; HttpOnly; SameSite=Lax",
            REFRESH_LIFETIME.num_seconds()
        ),
    )
}

/// A cookie under its plain name or with the `__Host-` / `__Secure-` prefixes.
fn any_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    ["", "__Host-", "__Secure-"]
        .iter()
        .find_map(|prefix| cookie_value(headers, &format!("{prefix}{name}")))
}

fn device(headers: &HeaderMap, addr: &ClientAddr) -> Device {
    Device {
        user_agent: user_agent(headers),
        ip: addr.express(),
        location: None,
        name: None,
    }
}

#[derive(Deserialize)]
struct LoginBody {
    email: Option<String>,
    password: Option<String>,
}

async fn login(
    State(state): State<MockState>,
    addr: ClientAddr,
    headers: HeaderMap,
    body: Option<Json<LoginBody>>,
) -> Response {
    let (Some(email), Some(password)) = body
        .map(|Json(b)| (b.email, b.password))
        .unwrap_or_default()
    else {
        return coded_error(
            StatusCode::BAD_REQUEST,
            "Email and password are required",
            "VALIDATION_ERROR",
        );
    };
    let Some(user) = state
        .store
        .user_by_email(&email)
        .filter(|u| u.password == password)
    else {
        return coded_error(
            StatusCode::UNAUTHORIZED,
            "Invalid credentials",
            "INVALID_CREDENTIALS",
        );
    };
    if user.totp.is_some() {
        let now = state.clock.now();
        let temp = jwt::sign(
            &state.store.jwt_secret(),
            Dialect::NodeAuth,
            &TempClaims {
                sub: user.id.clone(),
                typ: TwoFactor::TwoFactor,
                iat: now.timestamp(),
                exp: (now + TEMP_LIFETIME).timestamp(),
            },
        );
        return Json(json!({
            "requiresTwoFactor": true,
            "tempToken": temp,
            "available2faMethods": ["totp"],
        }))
        .into_response();
    }
    let (_, tokens) = dialect::sign_in(
        &state,
        &user,
        Dialect::NodeAuth,
        device(&headers, &addr),
        false,
    );
    tokens_response(&headers, &tokens)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VerifyBody {
    temp_token: Option<String>,
    totp_code: Option<String>,
}

async fn verify_2fa(
    State(state): State<MockState>,
    addr: ClientAddr,
    headers: HeaderMap,
    body: Option<Json<VerifyBody>>,
) -> Response {
    let (Some(temp), Some(code)) = body
        .map(|Json(b)| (b.temp_token, b.totp_code))
        .unwrap_or_default()
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "tempToken and totpCode are required",
        );
    };
    let now = state.clock.now();
    let user = jwt::verify::<TempClaims>(&state.store.jwt_secret(), Dialect::NodeAuth, &temp, now)
        .ok()
        .and_then(|claims| state.store.user(&claims.sub));
    let Some(user) = user else {
        return error(StatusCode::UNAUTHORIZED, "Invalid or expired temp token");
    };
    let valid = user
        .totp
        .as_ref()
        .is_some_and(|t| totp::check(&t.secret, &code, now));
    if !valid {
        return error(StatusCode::UNAUTHORIZED, "Invalid TOTP code");
    }
    let (_, tokens) = dialect::sign_in(
        &state,
        &user,
        Dialect::NodeAuth,
        device(&headers, &addr),
        false,
    );
    tokens_response(&headers, &tokens)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RefreshBody {
    refresh_token: Option<String>,
}

async fn refresh(
    State(state): State<MockState>,
    addr: ClientAddr,
    headers: HeaderMap,
    body: Option<Json<RefreshBody>>,
) -> Response {
    let token = body
        .and_then(|Json(b)| b.refresh_token)
        .or_else(|| any_cookie(&headers, REFRESH_COOKIE));
    let Some(token) = token else {
        return error(StatusCode::UNAUTHORIZED, "Refresh token required");
    };
    let now = state.clock.now();
    let Ok(claims) =
        jwt::verify::<RefreshClaims>(&state.store.jwt_secret(), Dialect::NodeAuth, &token, now)
    else {
        return coded_error(
            StatusCode::UNAUTHORIZED,
            "Invalid or expired refresh token",
            "INVALID_REFRESH_TOKEN",
        );
    };
    // Quirk 1: a later login or refresh of the same user replaced this token.
    if state.store.refresh_token(&claims.sub).as_deref() != Some(claims.jti.as_str()) {
        return error(StatusCode::UNAUTHORIZED, "Invalid refresh token");
    }
    let live = state.store.session(&claims.sid).filter(|s| s.is_live(now));
    let (Some(session), Some(user)) = (live, state.store.user(&claims.sub)) else {
        return coded_error(
            StatusCode::UNAUTHORIZED,
            "Session has been revoked",
            "SESSION_REVOKED",
        );
    };
    // Quirk 2: a new handle, `createdAt` reset, the old handle gone.
    let Some(rotated) = state.store.rotate_session(
        &session.id,
        device(&headers, &addr),
        Some(now + REFRESH_LIFETIME),
        now,
    ) else {
        return coded_error(
            StatusCode::UNAUTHORIZED,
            "Session has been revoked",
            "SESSION_REVOKED",
        );
    };
    tokens_response(&headers, &issue_tokens(&state, &user, &rotated))
}

/// Rotates a device's session as its own refresh would (used by scenarios).
pub fn refresh_device(state: &MockState, session: &Session, now: DateTime<Utc>) -> Option<Session> {
    let user = state.store.user(&session.user_id)?;
    let device = Device {
        user_agent: session.user_agent.clone(),
        ip: session.ip.clone(),
        location: session.location.clone(),
        name: None,
    };
    let rotated =
        state
            .store
            .rotate_session(&session.id, device, Some(now + REFRESH_LIFETIME), now)?;
    issue_tokens(state, &user, &rotated);
    Some(rotated)
}

/// Only the cookie is read: a bearer-mode client's logout ends nothing.
async fn logout(State(state): State<MockState>, headers: HeaderMap) -> Response {
    let now = state.clock.now();
    if let Some(token) = any_cookie(&headers, ACCESS_COOKIE)
        && let Ok(claims) =
            jwt::verify::<AccessClaims>(&state.store.jwt_secret(), Dialect::NodeAuth, &token, now)
    {
        state.store.end_session(&claims.sid, now);
    }
    let response = Json(json!({ "success": true })).into_response();
    let response = clear_cookie(response, ACCESS_COOKIE, "/");
    clear_cookie(response, REFRESH_COOKIE, REFRESH_PATH)
}

/// The access token only: its signature and expiry, never the session (quirk 3).
fn authenticate(state: &MockState, headers: &HeaderMap) -> Result<AccessClaims, Refusal> {
    let Some(token) = bearer(headers).or_else(|| any_cookie(headers, ACCESS_COOKIE)) else {
        return Err(error(StatusCode::FORBIDDEN, "No access token provided").into());
    };
    jwt::verify(
        &state.store.jwt_secret(),
        Dialect::NodeAuth,
        &token,
        state.clock.now(),
    )
    .map_err(|_| error(StatusCode::FORBIDDEN, "Invalid or expired access token").into())
}

fn session_json(s: &Session) -> Value {
    json!({
        "sessionHandle": s.id,
        "userId": s.user_id,
        "userAgent": s.user_agent,
        "ipAddress": s.ip,
        "createdAt": iso(s.created_at),
        "expiresAt": iso(s.expires_at.unwrap_or(s.created_at + REFRESH_LIFETIME)),
        "lastActiveAt": iso(s.last_active_at),
    })
}

async fn list(State(state): State<MockState>, headers: HeaderMap) -> Response {
    let claims = match authenticate(&state, &headers) {
        Ok(claims) => claims,
        Err(response) => return *response,
    };
    let sessions: Vec<Value> = state
        .store
        .sessions_of(&claims.sub, state.clock.now())
        .iter()
        .map(session_json)
        .collect();
    Json(json!({ "sessions": sessions })).into_response()
}

async fn revoke(
    State(state): State<MockState>,
    headers: HeaderMap,
    Path(handle): Path<String>,
) -> Response {
    let claims = match authenticate(&state, &headers) {
        Ok(claims) => claims,
        Err(response) => return *response,
    };
    let ended = state
        .store
        .end_sessions_where(&claims.sub, state.clock.now(), |s| s.id == handle);
    if ended == 0 {
        return error(StatusCode::NOT_FOUND, "Session not found");
    }
    Json(json!({ "success": true })).into_response()
}

/// For cron, so unauthenticated.
async fn cleanup(State(state): State<MockState>) -> Response {
    let deleted = state.store.delete_expired(state.clock.now());
    Json(json!({ "success": true, "deleted": deleted })).into_response()
}

fn admin(state: &MockState, headers: &HeaderMap) -> Result<(), Refusal> {
    match bearer(headers) {
        None => Err(error(StatusCode::UNAUTHORIZED, "Unauthorized").into()),
        Some(secret) if secret == *state.admin_secret => Ok(()),
        Some(_) => Err(error(StatusCode::FORBIDDEN, "Forbidden").into()),
    }
}

#[derive(Deserialize)]
struct Page {
    limit: Option<usize>,
    offset: Option<usize>,
    filter: Option<String>,
}

async fn admin_list(
    State(state): State<MockState>,
    headers: HeaderMap,
    Query(page): Query<Page>,
) -> Response {
    if let Err(response) = admin(&state, &headers) {
        return *response;
    }
    let filter = page.filter.unwrap_or_default();
    let matching: Vec<Session> = state
        .store
        .all_live_sessions(state.clock.now())
        .into_iter()
        .filter(|s| {
            filter.is_empty()
                || s.user_id.contains(&filter)
                || s.ip.as_deref().is_some_and(|ip| ip.contains(&filter))
        })
        .collect();
    let sessions: Vec<Value> = matching
        .iter()
        .skip(page.offset.unwrap_or(0))
        .take(page.limit.unwrap_or(20).min(100))
        .map(session_json)
        .collect();
    Json(json!({ "sessions": sessions, "total": matching.len() })).into_response()
}

/// 200 whether or not the handle existed: the caller verifies by listing again.
async fn admin_revoke(
    State(state): State<MockState>,
    headers: HeaderMap,
    Path(handle): Path<String>,
) -> Response {
    if let Err(response) = admin(&state, &headers) {
        return *response;
    }
    state.store.end_session(&handle, state.clock.now());
    Json(json!({ "success": true })).into_response()
}
