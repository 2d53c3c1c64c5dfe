//! The control API under `/__mock/`: what tests and demos use to play the other devices and
//! to look at the server's side. Loopback clients only. docs/mock.md lists every route.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::MockState;
use crate::dialect::{self, Dialect};
use crate::faults::FaultSpec;
use crate::node_auth;
use crate::peer::LoopbackOnly;
use crate::persist::Snapshot;
use crate::scenario::parse_offset;
use crate::store::{Device, Location, NewUser, Session};
use crate::totp;

pub fn routes() -> Router<MockState> {
    Router::new()
        .route("/sessions", get(list_sessions).post(create_session))
        .route("/sessions/{id}", delete(end_session))
        .route("/sessions/{id}/activity", post(record_activity))
        .route("/sessions/{id}/refresh", post(refresh_session))
        .route("/users", post(create_user))
        .route("/users/{login}/totp", get(user_totp))
        .route("/outbox", get(outbox))
        .route(
            "/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/faults/{id}", delete(remove_fault))
        .route("/clock", get(clock_now).post(advance_clock))
        .route("/requests", get(requests))
        .route("/snapshot", get(snapshot).put(restore))
        .route("/reset", post(reset))
        .route("/settings", axum::routing::put(settings))
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn no_user(login: &str) -> Response {
    error(StatusCode::NOT_FOUND, format!("no user {login:?}"))
}

fn no_session(id: &str) -> Response {
    error(StatusCode::NOT_FOUND, format!("no live session {id:?}"))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewSession {
    login: String,
    #[serde(default)]
    user_agent: String,
    #[serde(default)]
    ip: Option<String>,
    #[serde(default)]
    location: Option<Location>,
    /// The API the device signs in through; hectoday unless said.
    #[serde(default)]
    dialect: Option<Dialect>,
    /// RTC: 30 days instead of 24 hours.
    #[serde(default)]
    remember_me: bool,
    /// The name the device gives itself (Matrix).
    #[serde(default)]
    name: Option<String>,
}

/// `POST /__mock/sessions` → 201 `{"id","dialect","credentials"}`: a device signs in, as
/// its login would (second factors skipped), with the credentials it would hold.
async fn create_session(
    _: LoopbackOnly,
    State(state): State<MockState>,
    Json(new): Json<NewSession>,
) -> Response {
    let Some(user) = state.store.user_by_login(&new.login) else {
        return no_user(&new.login);
    };
    let device = Device {
        user_agent: new.user_agent,
        ip: new.ip.filter(|ip| !ip.is_empty()),
        location: new.location,
        name: new.name,
    };
    let dialect = new.dialect.unwrap_or(Dialect::Hectoday);
    let (session, credentials) = dialect::sign_in(&state, &user, dialect, device, new.remember_me);
    let body = json!({ "id": session.id, "dialect": dialect, "credentials": credentials });
    (StatusCode::CREATED, Json(body)).into_response()
}

#[derive(Deserialize)]
struct ByLogin {
    login: String,
}

fn session_json(s: &Session, login: &str) -> serde_json::Value {
    json!({
        "id": s.id,
        "login": login,
        "dialect": s.dialect,
        "userAgent": s.user_agent,
        "ip": s.ip,
        "location": s.location,
        "createdAt": s.created_at.to_rfc3339(),
        "lastActiveAt": s.last_active_at.to_rfc3339(),
        "expiresAt": s.expires_at.map(|t| t.to_rfc3339()),
    })
}

/// `GET /__mock/sessions?login=…` → every live session of that user, newest activity first.
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
        .every_session_of(&user.id, state.clock.now())
        .iter()
        .map(|s| session_json(s, &user.email))
        .collect();
    Json(sessions).into_response()
}

/// `DELETE /__mock/sessions/:id` → 204: the service ends the session itself (an admin, a
/// password change elsewhere), not through any user-facing API.
async fn end_session(
    _: LoopbackOnly,
    State(state): State<MockState>,
    Path(id): Path<String>,
) -> Response {
    if state.store.end_session(&id, state.clock.now()) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        no_session(&id)
    }
}

#[derive(Deserialize, Default)]
struct Activity {
    /// The device now calls from this address…
    #[serde(default)]
    ip: Option<String>,
    /// …in this place.
    #[serde(default)]
    location: Option<Location>,
}

/// `POST /__mock/sessions/:id/activity [{"ip","location"}]` → 200 `{"lastActiveAt"}`.
async fn record_activity(
    _: LoopbackOnly,
    State(state): State<MockState>,
    Path(id): Path<String>,
    body: Option<Json<Activity>>,
) -> Response {
    let activity = body.map(|Json(a)| a).unwrap_or_default();
    let now = state.clock.now();
    if !state.store.session(&id).is_some_and(|s| s.is_live(now)) {
        return no_session(&id);
    }
    if let Some(ip) = activity.ip.filter(|ip| !ip.is_empty()) {
        state.store.move_to(&id, ip, activity.location);
    }
    match state.store.touch(&id, now) {
        Some(s) => Json(json!({ "lastActiveAt": s.last_active_at.to_rfc3339() })).into_response(),
        None => no_session(&id),
    }
}

/// `POST /__mock/sessions/:id/refresh` → 200 `{"id"}`: the device refreshes as node-auth
/// does it, so its session gets a new id and a fresh `createdAt`.
async fn refresh_session(
    _: LoopbackOnly,
    State(state): State<MockState>,
    Path(id): Path<String>,
) -> Response {
    let now = state.clock.now();
    let rotated = state
        .store
        .session(&id)
        .filter(|s| s.is_live(now))
        .and_then(|s| node_auth::refresh_device(&state, &s, now));
    match rotated {
        Some(s) => Json(json!({ "id": s.id })).into_response(),
        None => no_session(&id),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateUser {
    /// The email address.
    login: String,
    password: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    /// Turns a TOTP second factor on.
    #[serde(default)]
    totp: bool,
}

/// `POST /__mock/users` → 201 `{"id"}` (and `{"totp"}` when asked for); 409 if taken.
async fn create_user(
    _: LoopbackOnly,
    State(state): State<MockState>,
    Json(new): Json<CreateUser>,
) -> Response {
    let taken = [Some(&new.login), new.username.as_ref(), new.phone.as_ref()]
        .into_iter()
        .flatten()
        .find(|login| state.store.user_by_login(login).is_some());
    if let Some(login) = taken {
        return error(StatusCode::CONFLICT, format!("{login:?} is taken"));
    }
    let user = state.store.add_user(NewUser {
        display_name: new.display_name.unwrap_or_else(|| new.login.clone()),
        email: new.login,
        username: new.username,
        phone: new.phone,
        password: new.password,
        totp: new.totp.then(totp::enroll),
    });
    let body = json!({ "id": user.id, "totp": user.totp });
    (StatusCode::CREATED, Json(body)).into_response()
}

/// `GET /__mock/users/:login/totp` → the secret, the code of the moment (at the mock's
/// time), and the backup codes left.
async fn user_totp(
    _: LoopbackOnly,
    State(state): State<MockState>,
    Path(login): Path<String>,
) -> Response {
    let Some(user) = state.store.user_by_login(&login) else {
        return no_user(&login);
    };
    let Some(secret) = user.totp else {
        return error(
            StatusCode::NOT_FOUND,
            format!("{login:?} has no TOTP second factor"),
        );
    };
    let now = state.clock.now();
    Json(json!({
        "secret": secret.secret,
        "otpauthUrl": totp::otpauth_url(&secret.secret, &user.email, "warden-mock"),
        "code": totp::code_at(&secret.secret, now),
        "validForSeconds": 30 - now.timestamp().rem_euclid(30),
        "backupCodes": secret.backup_codes,
    }))
    .into_response()
}

#[derive(Deserialize)]
struct To {
    #[serde(default)]
    to: Option<String>,
}

/// `GET /__mock/outbox[?to=+1555…]` → the one-time codes "sent" by SMS, oldest first.
async fn outbox(_: LoopbackOnly, State(state): State<MockState>, Query(q): Query<To>) -> Response {
    Json(state.store.outbox(q.to.as_deref())).into_response()
}

async fn list_faults(_: LoopbackOnly, State(state): State<MockState>) -> Response {
    Json(state.faults.list()).into_response()
}

/// `POST /__mock/faults {…}` → 201 `{"id"}`.
async fn add_fault(
    _: LoopbackOnly,
    State(state): State<MockState>,
    Json(spec): Json<FaultSpec>,
) -> Response {
    if let Err(e) = spec.validate() {
        return error(StatusCode::BAD_REQUEST, e);
    }
    let id = state.faults.add(spec);
    (StatusCode::CREATED, Json(json!({ "id": id }))).into_response()
}

async fn remove_fault(
    _: LoopbackOnly,
    State(state): State<MockState>,
    Path(id): Path<u64>,
) -> Response {
    if state.faults.remove(id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        error(StatusCode::NOT_FOUND, format!("no fault {id}"))
    }
}

async fn clear_faults(_: LoopbackOnly, State(state): State<MockState>) -> Response {
    state.faults.clear();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct Advance {
    /// An ISO-8601 duration in days, hours, minutes and seconds: "PT25H", "P30DT1S".
    advance: String,
}

/// `POST /__mock/clock {"advance":"PT25H"}` → 200 `{"now"}`: time moves for every API at
/// once, and every scenario step that falls due runs before the answer.
async fn advance_clock(
    _: LoopbackOnly,
    State(state): State<MockState>,
    Json(body): Json<Advance>,
) -> Response {
    match parse_offset(&body.advance) {
        Ok(by) if by >= chrono::Duration::zero() => state.clock.advance(by),
        Ok(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "the clock only moves forward".into(),
            );
        }
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    }
    state.scenario.run_due(&state);
    clock_now(LoopbackOnly, State(state)).await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Settings {
    /// Better Auth's `freshAge`, as an ISO-8601 duration ("PT10M").
    #[serde(default)]
    better_auth_fresh_age: Option<String>,
}

/// `PUT /__mock/settings {"betterAuthFreshAge":"PT10M"}` → 204: a server setting, as an
/// operator would configure it (back to the default on reset).
async fn settings(
    _: LoopbackOnly,
    State(state): State<MockState>,
    Json(body): Json<Settings>,
) -> Response {
    if let Some(age) = body.better_auth_fresh_age {
        match parse_offset(&age) {
            Ok(age) if age > chrono::Duration::zero() => state.set_fresh_age(age),
            Ok(_) => return error(StatusCode::BAD_REQUEST, "freshAge must be positive".into()),
            Err(e) => return error(StatusCode::BAD_REQUEST, e),
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /__mock/clock` → 200 `{"now"}`, the mock's idea of the time (RFC 3339).
/// `GET /__mock/requests` → `{"GET /hectoday/me/sessions": 12, …}`: requests per route.
async fn requests(_: LoopbackOnly, State(state): State<MockState>) -> Response {
    Json(state.requests.counts()).into_response()
}

async fn clock_now(_: LoopbackOnly, State(state): State<MockState>) -> Response {
    Json(json!({ "now": state.clock.now().to_rfc3339() })).into_response()
}

/// `GET /__mock/snapshot` → everything: users, sessions, codes, the clock's offset.
async fn snapshot(_: LoopbackOnly, State(state): State<MockState>) -> Response {
    Json(Snapshot::of(&state)).into_response()
}

/// `PUT /__mock/snapshot` with what `GET` gave → 204: the server is back in that state.
async fn restore(
    _: LoopbackOnly,
    State(state): State<MockState>,
    Json(snapshot): Json<Snapshot>,
) -> Response {
    snapshot.restore(&state);
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /__mock/reset` → 204: the demo accounts alone, no fault, real time, the scenario
/// (if any) from its start.
async fn reset(_: LoopbackOnly, State(state): State<MockState>) -> Response {
    state.reset();
    StatusCode::NO_CONTENT.into_response()
}
