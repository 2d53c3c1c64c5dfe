//! The control API under `/__mock/`: what tests and demos use to play the other devices.
//! Loopback clients only.
//!
//! - `POST /__mock/sessions {"login","userAgent","ip"}` → 201 `{"id"}`: a device signs in.
//! - `GET /__mock/sessions?login=…` → 200, every live session of that user, server side.
//! - `POST /__mock/clock {"advance":"PT25H"}` → 200 `{"now"}`: moves the virtual clock.
//! - `GET /__mock/clock` → 200 `{"now"}`.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::MockState;
use crate::peer::LoopbackOnly;

pub fn routes() -> Router<MockState> {
    Router::new()
        .route("/sessions", get(list_sessions).post(create_session))
        .route("/clock", get(clock_now).post(advance_clock))
}

fn bad_request(message: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
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
            return bad_request(format!(
                "{:?} is not an ISO-8601 duration such as PT25H",
                body.advance
            ));
        }
    };
    // Years and months have no fixed length; a test means a precise amount of time.
    let Some(by) = parsed.to_chrono() else {
        return bad_request("use days, hours, minutes and seconds, not years or months".into());
    };
    state.clock.advance(by);
    clock_now(LoopbackOnly, State(state)).await
}

/// `GET /__mock/clock` → 200 `{"now"}`, the mock's idea of the time (RFC 3339).
async fn clock_now(_: LoopbackOnly, State(state): State<MockState>) -> Response {
    Json(json!({ "now": state.clock.now().to_rfc3339() })).into_response()
}

fn not_found(login: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "error": format!("no user {login:?}") })),
    )
        .into_response()
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
        return not_found(&new.login);
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
        return not_found(&query.login);
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
