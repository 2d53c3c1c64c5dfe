//! RTC Collector's API (docs/apis.md §4, our own design from the seed's behaviour): a JWT
//! in the `token` cookie, a fixed expiry of 24 hours or 30 days with "remember me", TOTP or
//! backup codes, sessions that become inactive when revoked, and `logout-all` ending all.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::MockState;
use crate::device::rtc_fields;
use crate::dialect::{self, Credentials, Dialect};
use crate::jwt;
use crate::peer::{ClientAddr, user_agent};
use crate::respond::{Refusal, clear_cookie, cookie_value, error, set_cookie};
use crate::store::{Device, Session, User};
use crate::totp;

const COOKIE: &str = "token";
const TEMP_LIFETIME: Duration = Duration::minutes(5);

/// Fixed at sign-in, never extended by activity.
pub fn lifetime(remember_me: bool) -> Duration {
    if remember_me {
        Duration::days(30)
    } else {
        Duration::hours(24)
    }
}

pub fn routes() -> Router<MockState> {
    Router::new()
        .route("/api/auth/login", post(login))
        .route("/api/auth/2fa", post(second_factor))
        .route("/api/auth/logout", post(logout))
        .route("/api/auth/me", get(me))
        .route("/api/sessions", get(list))
        .route("/api/sessions/logout-all", post(logout_all))
        .route("/api/sessions/{id}", delete(revoke))
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Claims {
    session_id: String,
    user_id: String,
    iat: i64,
    exp: i64,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TempClaims {
    pending_user_id: String,
    remember_me: bool,
    iat: i64,
    exp: i64,
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn token(state: &MockState, session: &Session) -> String {
    let now = state.clock.now();
    let claims = Claims {
        session_id: session.id.clone(),
        user_id: session.user_id.clone(),
        iat: now.timestamp(),
        exp: session
            .expires_at
            .unwrap_or(now + lifetime(false))
            .timestamp(),
    };
    jwt::sign(&state.store.jwt_secret(), Dialect::Rtc, &claims)
}

pub fn credentials(state: &MockState, session: &Session) -> Credentials {
    Credentials {
        cookie: Some(format!("{COOKIE}={}", token(state, session))),
        ..Credentials::default()
    }
}

fn signed_in(
    state: &MockState,
    user: &User,
    headers: &HeaderMap,
    addr: &ClientAddr,
    remember_me: bool,
) -> Response {
    let device = Device {
        user_agent: user_agent(headers),
        ip: addr.rtc(),
        location: None,
        name: None,
    };
    let (session, _) = dialect::sign_in(state, user, Dialect::Rtc, device, remember_me);
    let body = json!({
        "user": { "id": user.id, "username": user.username, "email": user.email },
        "expiresAt": session.expires_at.map(iso),
    });
    set_cookie(
        Json(body).into_response(),
        &format!(
            "{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/",
            token(state, &session)
        ),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LoginBody {
    identifier: Option<String>,
    password: Option<String>,
    #[serde(default)]
    remember_me: bool,
}

async fn login(
    State(state): State<MockState>,
    addr: ClientAddr,
    headers: HeaderMap,
    body: Option<Json<LoginBody>>,
) -> Response {
    let Some(Json(body)) = body else {
        return error(
            StatusCode::BAD_REQUEST,
            "Identifier and password are required",
        );
    };
    let (Some(identifier), Some(password)) = (body.identifier, body.password) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Identifier and password are required",
        );
    };
    let Some(user) = state
        .store
        .user_by_identifier(&identifier)
        .filter(|u| u.password == password)
    else {
        return error(StatusCode::UNAUTHORIZED, "Invalid credentials");
    };
    if user.totp.is_some() {
        let now = state.clock.now();
        let temp = jwt::sign(
            &state.store.jwt_secret(),
            Dialect::Rtc,
            &TempClaims {
                pending_user_id: user.id.clone(),
                remember_me: body.remember_me,
                iat: now.timestamp(),
                exp: (now + TEMP_LIFETIME).timestamp(),
            },
        );
        return Json(json!({ "requires2FA": true, "tempToken": temp })).into_response();
    }
    signed_in(&state, &user, &headers, &addr, body.remember_me)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SecondFactor {
    temp_token: Option<String>,
    code: Option<String>,
}

/// A 6-digit TOTP code, or one of the backup codes (each works once).
async fn second_factor(
    State(state): State<MockState>,
    addr: ClientAddr,
    headers: HeaderMap,
    body: Option<Json<SecondFactor>>,
) -> Response {
    let (Some(temp), Some(code)) = body
        .map(|Json(b)| (b.temp_token, b.code))
        .unwrap_or_default()
    else {
        return error(StatusCode::BAD_REQUEST, "Token and code are required");
    };
    let now = state.clock.now();
    let pending = jwt::verify::<TempClaims>(&state.store.jwt_secret(), Dialect::Rtc, &temp, now)
        .ok()
        .and_then(|claims| Some((state.store.user(&claims.pending_user_id)?, claims)));
    let Some((user, claims)) = pending else {
        return error(StatusCode::UNAUTHORIZED, "Invalid or expired 2FA session");
    };
    let code = code.trim();
    let valid = user.totp.as_ref().is_some_and(|t| {
        (code.len() == 6 && totp::check(&t.secret, code, now))
            || state.store.use_backup_code(&user.id, code)
    });
    if !valid {
        return error(StatusCode::UNAUTHORIZED, "Invalid 2FA code");
    }
    signed_in(&state, &user, &headers, &addr, claims.remember_me)
}

/// The token, then the session: revoked and expired are told apart, as the seed describes.
/// Each authenticated call is activity.
fn authenticate(state: &MockState, headers: &HeaderMap) -> Result<(User, Session), Refusal> {
    let refuse = |message| -> Refusal {
        clear_cookie(error(StatusCode::UNAUTHORIZED, message), COOKIE, "/").into()
    };
    let Some(token) = cookie_value(headers, COOKIE) else {
        return Err(error(StatusCode::UNAUTHORIZED, "Authentication required").into());
    };
    let now = state.clock.now();
    let secret = state.store.jwt_secret();
    let claims = match jwt::verify::<Claims>(&secret, Dialect::Rtc, &token, now) {
        Ok(claims) => claims,
        Err(jwt::JwtError::Expired) => return Err(refuse("Session expired")),
        Err(_) => return Err(refuse("Invalid session")),
    };
    let Some(session) = state.store.session(&claims.session_id) else {
        return Err(refuse("Invalid session"));
    };
    if session.ended_at.is_some() {
        return Err(refuse("Session revoked"));
    }
    if session.is_expired(now) {
        return Err(refuse("Session expired"));
    }
    let Some(user) = state.store.user(&session.user_id) else {
        return Err(refuse("Invalid session"));
    };
    let session = state.store.touch(&session.id, now).unwrap_or(session);
    Ok((user, session))
}

async fn me(State(state): State<MockState>, headers: HeaderMap) -> Response {
    match authenticate(&state, &headers) {
        Ok((user, _)) => Json(json!({
            "user": { "id": user.id, "username": user.username, "email": user.email }
        }))
        .into_response(),
        Err(response) => *response,
    }
}

async fn logout(State(state): State<MockState>, headers: HeaderMap) -> Response {
    if let Ok((_, session)) = authenticate(&state, &headers) {
        state.store.end_session(&session.id, state.clock.now());
    }
    clear_cookie(
        Json(json!({ "success": true })).into_response(),
        COOKIE,
        "/",
    )
}

fn session_json(s: &Session, current: &str) -> Value {
    let (kind, browser) = rtc_fields(&s.user_agent);
    json!({
        "id": s.id,
        "deviceInfo": format!("{kind} - {browser}"),
        "deviceType": kind,
        "browser": browser,
        "ipAddress": s.ip,
        "location": s.location.as_ref().map(|l| format!("{}, {}", l.city, l.country)),
        "createdAt": iso(s.created_at),
        "lastActivity": iso(s.last_active_at),
        "expiresAt": iso(s.expires_at.unwrap_or(s.created_at + lifetime(false))),
        "isActive": true,
        "isCurrent": s.id == current,
    })
}

async fn list(State(state): State<MockState>, headers: HeaderMap) -> Response {
    let (user, current) = match authenticate(&state, &headers) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let sessions: Vec<Value> = state
        .store
        .sessions_of(&user.id, state.clock.now())
        .iter()
        .map(|s| session_json(s, &current.id))
        .collect();
    Json(json!({ "sessions": sessions })).into_response()
}

async fn revoke(
    State(state): State<MockState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let (user, current) = match authenticate(&state, &headers) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    if id == current.id {
        return error(StatusCode::BAD_REQUEST, "Cannot revoke current session");
    }
    let ended = state
        .store
        .end_sessions_where(&user.id, state.clock.now(), |s| s.id == id);
    if ended == 0 {
        return error(StatusCode::NOT_FOUND, "Session not found");
    }
    Json(json!({ "success": true })).into_response()
}

/// Every session ends, the caller's own included.
async fn logout_all(State(state): State<MockState>, headers: HeaderMap) -> Response {
    let (user, _) = match authenticate(&state, &headers) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let count = state
        .store
        .end_sessions_where(&user.id, state.clock.now(), |_| true);
    clear_cookie(
        Json(json!({ "success": true, "count": count })).into_response(),
        COOKIE,
        "/",
    )
}
