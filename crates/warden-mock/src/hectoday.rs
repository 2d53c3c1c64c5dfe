//! The hectoday course's session API (docs/apis.md §3), served as the course builds it:
//! cookie `session=<id>`, idle timeout 30 min, absolute 24 h, a bare array of sessions.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::json;

use crate::MockState;
use crate::device::hectoday_device_name;
use crate::dialect::{self, Credentials, Dialect};
use crate::peer::{ClientAddr, user_agent};
use crate::respond::{cookie_value, error, set_cookie};
use crate::store::{Device, Session, User};

const COOKIE: &str = "session";
pub const IDLE_TIMEOUT: Duration = Duration::minutes(30);
pub const ABSOLUTE_TIMEOUT: Duration = Duration::hours(24);

pub fn routes() -> Router<MockState> {
    Router::new()
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/me/sessions", get(list))
        .route("/me/sessions/revoke-all", post(revoke_all))
        .route("/me/sessions/{session_id}", delete(revoke))
}

/// The session id is the cookie.
pub fn credentials(session: &Session) -> Credentials {
    Credentials {
        cookie: Some(format!("{COOKIE}={}", session.id)),
        ..Credentials::default()
    }
}

fn unauthorized() -> Response {
    error(StatusCode::UNAUTHORIZED, "Unauthorized")
}

/// SQLite's `datetime('now')` text: `YYYY-MM-DD HH:MM:SS`, UTC, no zone.
fn sqlite_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// The course's `authenticate`: the session cookie, still within both timeouts; each
/// authenticated request counts as activity. `None` is answered with 401.
fn authenticate(state: &MockState, headers: &HeaderMap) -> Option<(User, Session)> {
    let id = cookie_value(headers, COOKIE)?;
    let now = state.clock.now();
    let session = state.store.session(&id).filter(|s| s.is_live(now))?;
    let user = state.store.user(&session.user_id)?;
    state.store.touch(&id, now);
    Some((user, session))
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
        .map(|Json(c)| (c.email, c.password))
        .unwrap_or_default()
    else {
        return error(StatusCode::BAD_REQUEST, "Email and password are required");
    };
    let Some(user) = state
        .store
        .user_by_email(&email)
        .filter(|u| u.password == password)
    else {
        return error(StatusCode::UNAUTHORIZED, "Invalid email or password");
    };
    let device = Device {
        user_agent: user_agent(&headers),
        ip: addr.forwarded(),
        location: None,
        name: None,
    };
    let (session, _) = dialect::sign_in(&state, &user, Dialect::Hectoday, device, false);
    let response = Json(json!({
        "user": { "id": user.id, "email": user.email, "displayName": user.display_name }
    }))
    .into_response();
    set_cookie(
        response,
        &format!(
            "{COOKIE}={}; HttpOnly; SameSite=Lax; Path=/; Max-Age=86400",
            session.id
        ),
    )
}

async fn logout(State(state): State<MockState>, headers: HeaderMap) -> Response {
    if let Some(id) = cookie_value(&headers, COOKIE) {
        state.store.end_session(&id, state.clock.now());
    }
    let response = Json(json!({ "message": "Logged out" })).into_response();
    set_cookie(
        response,
        "session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0",
    )
}

async fn list(State(state): State<MockState>, headers: HeaderMap) -> Response {
    let Some((user, current)) = authenticate(&state, &headers) else {
        return unauthorized();
    };
    let sessions: Vec<_> = state
        .store
        .sessions_of(&user.id, state.clock.now())
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
    let ended = state
        .store
        .end_sessions_where(&user.id, state.clock.now(), |s| s.id == session_id);
    if ended == 0 {
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
        .end_sessions_where(&user.id, state.clock.now(), |s| s.id != current.id);
    Json(json!({ "message": "All other sessions have been revoked." })).into_response()
}
