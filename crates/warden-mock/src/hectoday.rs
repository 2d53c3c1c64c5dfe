//! The hectoday course's session API (wire-formats.md §3), served as the course builds it:
//! cookie `session=<id>`, idle timeout 30 min, absolute 24 h, a bare array of sessions.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::json;

use crate::MockState;
use crate::device::hectoday_device_name;
use crate::peer::{forwarded_for, user_agent};
use crate::store::{Session, User};

const COOKIE: &str = "session";
const IDLE_TIMEOUT: Duration = Duration::minutes(30);
const ABSOLUTE_TIMEOUT: Duration = Duration::hours(24);

pub fn routes() -> Router<MockState> {
    Router::new()
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/me/sessions", get(list))
        .route("/me/sessions/revoke-all", post(revoke_all))
        .route("/me/sessions/{session_id}", delete(revoke))
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn unauthorized() -> Response {
    error(StatusCode::UNAUTHORIZED, "Unauthorized")
}

/// SQLite's `datetime('now')` text: `YYYY-MM-DD HH:MM:SS`, UTC, no zone.
fn sqlite_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn expired(session: &Session, now: DateTime<Utc>) -> bool {
    now - session.last_active_at > IDLE_TIMEOUT || now - session.created_at > ABSOLUTE_TIMEOUT
}

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_owned())
}

/// The course's `authenticate`: the session cookie, still within both timeouts; each
/// authenticated request counts as activity. `None` is answered with 401.
fn authenticate(state: &MockState, headers: &HeaderMap) -> Option<(User, Session)> {
    let id = cookie_value(headers, COOKIE)?;
    let session = state.store.session(&id)?;
    let now = state.clock.now();
    if expired(&session, now) {
        state.store.remove_session(&id);
        return None;
    }
    let user = state.store.user(&session.user_id)?;
    state.store.touch(&id, now);
    Some((user, session))
}

#[derive(Deserialize)]
struct Credentials {
    email: Option<String>,
    password: Option<String>,
}

async fn login(
    State(state): State<MockState>,
    headers: HeaderMap,
    body: Option<Json<Credentials>>,
) -> Response {
    let (Some(email), Some(password)) = body
        .map(|Json(c)| (c.email, c.password))
        .unwrap_or_default()
    else {
        return error(StatusCode::BAD_REQUEST, "Email and password are required");
    };
    let Some(user) = state
        .store
        .user_by_login(&email)
        .filter(|u| u.password == password)
    else {
        return error(StatusCode::UNAUTHORIZED, "Invalid email or password");
    };
    let session = state.store.create_session(
        &user.id,
        &user_agent(&headers),
        forwarded_for(&headers),
        state.clock.now(),
    );
    let cookie = format!(
        "{COOKIE}={}; HttpOnly; SameSite=Lax; Path=/; Max-Age=86400",
        session.id
    );
    let mut response = Json(json!({
        "user": { "id": user.id, "email": user.email, "displayName": user.display_name }
    }))
    .into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

async fn logout(State(state): State<MockState>, headers: HeaderMap) -> Response {
    if let Some(id) = cookie_value(&headers, COOKIE) {
        state.store.remove_session(&id);
    }
    let mut response = Json(json!({ "message": "Logged out" })).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0"),
    );
    response
}

async fn list(State(state): State<MockState>, headers: HeaderMap) -> Response {
    let Some((user, current)) = authenticate(&state, &headers) else {
        return unauthorized();
    };
    let now = state.clock.now();
    state
        .store
        .remove_sessions_where(&user.id, |s| expired(s, now));
    let sessions: Vec<_> = state
        .store
        .sessions_of(&user.id)
        .into_iter()
        .map(|s| {
            json!({
                "id": s.id,
                "deviceName": hectoday_device_name(&s.user_agent),
                "ip": s.ip.as_deref().unwrap_or("unknown"),
                "lastActiveAt": sqlite_time(s.last_active_at),
                "createdAt": sqlite_time(s.created_at),
                "isCurrent": s.id == current.id,
            })
        })
        .collect();
    Json(sessions).into_response()
}

async fn revoke(
    State(state): State<MockState>,
    headers: HeaderMap,
    Path(session_id): Path<String>,
) -> Response {
    let Some((user, current)) = authenticate(&state, &headers) else {
        return unauthorized();
    };
    if session_id == current.id {
        return error(
            StatusCode::BAD_REQUEST,
            "Use POST /logout to end your current session.",
        );
    }
    // The user id check is the course's IDOR guard: another user's id is "not found".
    let removed = state
        .store
        .remove_sessions_where(&user.id, |s| s.id == session_id);
    if removed == 0 {
        return error(StatusCode::NOT_FOUND, "Session not found");
    }
    Json(json!({ "message": "Session revoked." })).into_response()
}

async fn revoke_all(State(state): State<MockState>, headers: HeaderMap) -> Response {
    let Some((user, current)) = authenticate(&state, &headers) else {
        return unauthorized();
    };
    state
        .store
        .remove_sessions_where(&user.id, |s| s.id != current.id);
    Json(json!({ "message": "All other sessions have been revoked." })).into_response()
}
