//! The control API under `/__mock/`: what tests and demos use to play the other devices.
//! Loopback clients only.
//!
//! - `POST /__mock/sessions {"login","userAgent","ip"}` → 201 `{"id"}`: a device signs in.
//! - `GET /__mock/sessions?login=…` → 200, every live session of that user, server side.
//! - `POST /__mock/clock {"advance":"PT25H"}` → 200 `{"now"}`: moves the virtual clock.
//! - `GET /__mock/clock` → 200 `{"now"}`.
//! - `DELETE /__mock/sessions/:id` → 204: the service ends a session itself.
//! - `POST /__mock/sessions/:id/activity [{"ip"}]` → 200 `{"lastActiveAt"}`.
//! - `POST /__mock/users {"login","password","displayName"}` → 201 `{"id"}`.
//! - `POST /__mock/reset` → 204.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::MockState;
use crate::peer::LoopbackOnly;

pub fn routes() -> Router<MockState> {
    Router::new()
        .route("/sessions", get(list_sessions).post(create_session))
        .route("/sessions/{id}", delete(revoke_session))
        .route("/sessions/{id}/activity", post(record_activity))
        .route("/users", post(create_user))
        .route("/clock", get(clock_now).post(advance_clock))
        .route("/reset", post(reset))
}

fn no_session(id: &str) -> Response {
    error(StatusCode::NOT_FOUND, format!("no session {id:?}"))
}

/// `DELETE /__mock/sessions/:id` → 204: the service ends the session itself (an admin, an
/// expiry, a sign-out on that device), not through any user-facing API.
async fn revoke_session(
    _: LoopbackOnly,
    State(state): State<MockState>,
    Path(id): Path<String>,
) -> Response {
    match state.store.remove_session(&id) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => no_session(&id),
    }
}

#[derive(Deserialize, Default)]
struct Activity {
    /// The device now calls from this address.
    #[serde(default)]
    ip: Option<String>,
}

/// `POST /__mock/sessions/:id/activity [{"ip"}]` → 200 `{"lastActiveAt"}`: the device used
/// the service just now, from its address or a new one.
async fn record_activity(
    _: LoopbackOnly,
    State(state): State<MockState>,
    Path(id): Path<String>,
    body: Option<Json<Activity>>,
) -> Response {
    let activity = body.map(|Json(a)| a).unwrap_or_default();
    if let Some(ip) = activity.ip.filter(|ip| !ip.is_empty()) {
        state.store.move_to(&id, ip);
    }
    match state.store.touch(&id, state.clock.now()) {
        Some(session) => {
            Json(json!({ "lastActiveAt": session.last_active_at.to_rfc3339() })).into_response()
        }
        None => no_session(&id),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewUser {
    login: String,
    password: String,
    #[serde(default)]
    display_name: Option<String>,
}

/// `POST /__mock/users {"login","password","displayName"}` → 201 `{"id"}`; 409 if taken.
async fn create_user(
    _: LoopbackOnly,
    State(state): State<MockState>,
    Json(new): Json<NewUser>,
) -> Response {
    if state.store.user_by_login(&new.login).is_some() {
        return error(StatusCode::CONFLICT, format!("user {:?} exists", new.login));
    }
    let name = new.display_name.unwrap_or_else(|| new.login.clone());
    let user = state.store.add_user(&new.login, &new.password, &name);
    (StatusCode::CREATED, Json(json!({ "id": user.id }))).into_response()
}

/// `POST /__mock/reset` → 204: the demo user alone, no session, real time.
async fn reset(_: LoopbackOnly, State(state): State<MockState>) -> Response {
    state.reset();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct Advance {
    /// An ISO-8601 duration in days, hours, minutes and seconds: "PT25H", "P30DT1S".
    advance: String,
}

/// `POST /__mock/clock {"advance":"PT25H"}` → 200 `{"now"}`: time moves for every API at once.
async fn advance_clock(
    _: LoopbackOnly,
    State(state): State<MockState>,
    Json(body): Json<Advance>,
) -> Response {
    let parsed = match iso8601_duration::Duration::parse(&body.advance) {
        Ok(parsed) => parsed,
        Err(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!(
                    "{:?} is not an ISO-8601 duration such as PT25H",
                    body.advance
                ),
            );
        }
    };
    // Years and months have no fixed length; a test means a precise amount of time.
    let Some(by) = parsed.to_chrono() else {
        return error(
            StatusCode::BAD_REQUEST,
            "use days, hours, minutes and seconds, not years or months".into(),
        );
    };
    state.clock.advance(by);
    clock_now(LoopbackOnly, State(state)).await
}

/// `GET /__mock/clock` → 200 `{"now"}`, the mock's idea of the time (RFC 3339).
async fn clock_now(_: LoopbackOnly, State(state): State<MockState>) -> Response {
    Json(json!({ "now": state.clock.now().to_rfc3339() })).into_response()
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn no_user(login: &str) -> Response {
    error(StatusCode::NOT_FOUND, format!("no user {login:?}"))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewSession {
    login: String,
    #[serde(default)]
    user_agent: String,
    #[serde(default)]
    ip: Option<String>,
}

async fn create_session(
    _: LoopbackOnly,
    State(state): State<MockState>,
    Json(new): Json<NewSession>,
) -> Response {
    let Some(user) = state.store.user_by_login(&new.login) else {
        return no_user(&new.login);
    };
    let ip = new.ip.filter(|ip| !ip.is_empty());
    let session = state
        .store
        .create_session(&user.id, &new.user_agent, ip, state.clock.now());
    (StatusCode::CREATED, Json(json!({ "id": session.id }))).into_response()
}

#[derive(Deserialize)]
struct ByLogin {
    login: String,
}

async fn list_sessions(
    _: LoopbackOnly,
    State(state): State<MockState>,
    Query(query): Query<ByLogin>,
) -> Response {
    let Some(user) = state.store.user_by_login(&query.login) else {
        return no_user(&query.login);
    };
    let sessions: Vec<_> = state
        .store
        .sessions_of(&user.id)
        .into_iter()
        .map(|s| {
            json!({
                "id": s.id,
                "login": user.email,
                "userAgent": s.user_agent,
                "ip": s.ip,
                "createdAt": s.created_at.to_rfc3339(),
                "lastActiveAt": s.last_active_at.to_rfc3339(),
            })
        })
        .collect();
    Json(sessions).into_response()
}
