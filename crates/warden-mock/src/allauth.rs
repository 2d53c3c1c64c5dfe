//! django-allauth's headless `app` client with `usersessions` and activity tracking on
//! (docs/apis.md §7): the `{"status","data","meta"}` envelope, `X-Session-Token`,
//! integer session ids, epoch-second times, 410 for a dead token, a pending
//! `mfa_authenticate` flow for users with an authenticator.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::MockState;
use crate::dialect::{self, Credentials, Dialect, derived_token};
use crate::jwt;
use crate::peer::{ClientAddr, user_agent};
use crate::respond::Refusal;
use crate::store::{Device, Session, User};
use crate::totp;

const API: &str = "/_allauth/app/v1";
const TOKEN_HEADER: &str = "x-session-token";
/// Django's `SESSION_COOKIE_AGE` default: two weeks, renewed by use.
pub const IDLE_TIMEOUT: Duration = Duration::weeks(2);
const PENDING_LIFETIME: Duration = Duration::minutes(10);

pub fn routes() -> Router<MockState> {
    Router::new()
        .route(&format!("{API}/auth/login"), post(login))
        .route(&format!("{API}/auth/2fa/authenticate"), post(second_factor))
        .route(&format!("{API}/auth/session"), get(session).delete(logout))
        .route(
            &format!("{API}/auth/sessions"),
            get(sessions).delete(end_sessions),
        )
}

fn token(state: &MockState, session: &Session) -> String {
    derived_token(state, "allauth", &session.id)
}

pub fn credentials(state: &MockState, session: &Session) -> Credentials {
    Credentials {
        access_token: Some(token(state, session)),
        ..Credentials::default()
    }
}

fn flows(pending: Option<&str>) -> Value {
    let mut flows = vec![json!({ "id": "login" }), json!({ "id": "signup" })];
    if let Some(pending) = pending {
        flows.push(json!({ "id": pending, "is_pending": true }));
    }
    json!(flows)
}

/// 401: nobody signed in, with the ways to sign in.
fn not_signed_in() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({
            "status": 401, "data": { "flows": flows(None) },
            "meta": { "is_authenticated": false },
        })),
    )
        .into_response()
}

fn gone() -> Response {
    (
        StatusCode::GONE,
        Json(json!({ "status": 410, "data": { "flows": flows(None) }, "meta": { "is_authenticated": false } })),
    )
        .into_response()
}

fn bad_request(message: &str, code: &str, param: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({
            "status": 400,
            "errors": [{ "message": message, "code": code, "param": param }],
        })),
    )
        .into_response()
}

fn user_json(user: &User) -> Value {
    json!({ "id": user.id, "display": user.display_name, "email": user.email, "username": user.username, "has_usable_password": true })
}

fn seconds(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

/// The session of the request's token: `Err` is the answer (401 with none, 410 with a dead
/// one). Activity tracking: the request's address and agent become the session's.
fn authenticate(
    state: &MockState,
    headers: &HeaderMap,
    addr: &ClientAddr,
) -> Result<(User, Session), Refusal> {
    let Some(sent) = headers.get(TOKEN_HEADER).and_then(|v| v.to_str().ok()) else {
        return Err(Box::new(not_signed_in()));
    };
    let now = state.clock.now();
    let found = state
        .store
        .find_live(now, |s| token(state, s) == sent)
        .and_then(|s| Some((state.store.user(&s.user_id)?, s)));
    let Some((user, session)) = found else {
        return Err(Box::new(gone()));
    };
    state.store.touch(&session.id, now);
    state
        .store
        .seen(&session.id, addr.express(), user_agent(headers));
    let session = state.store.session(&session.id).unwrap_or(session);
    Ok((user, session))
}

fn signed_in(state: &MockState, user: &User, session: &Session) -> Response {
    Json(json!({
        "status": 200,
        "data": { "user": user_json(user), "methods": [{ "method": "password", "at": seconds(session.created_at) }] },
        "meta": { "is_authenticated": true, "session_token": token(state, session) },
    }))
    .into_response()
}

#[derive(Deserialize)]
struct Login {
    email: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Pending {
    user_id: String,
    exp: i64,
}

async fn login(
    State(state): State<MockState>,
    addr: ClientAddr,
    headers: HeaderMap,
    body: Option<Json<Login>>,
) -> Response {
    let Some(Json(body)) = body else {
        return bad_request("This field is required.", "required", "password");
    };
    let (user, field) = match (&body.email, &body.username) {
        (Some(email), _) => (state.store.user_by_email(email), "email"),
        (None, Some(username)) => (
            state
                .store
                .user_by_identifier(username)
                .filter(|u| u.username.eq_ignore_ascii_case(username)),
            "username",
        ),
        (None, None) => return bad_request("This field is required.", "required", "email"),
    };
    let Some(user) = user.filter(|u| Some(&u.password) == body.password.as_ref()) else {
        return bad_request(
            &format!("The {field} and/or password you specified are not correct."),
            &format!("{field}_password_mismatch"),
            "password",
        );
    };
    if user.totp.is_some() {
        let now = state.clock.now();
        let pending = jwt::sign(
            &state.store.jwt_secret(),
            Dialect::Allauth,
            &Pending {
                user_id: user.id.clone(),
                exp: (now + PENDING_LIFETIME).timestamp(),
            },
        );
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({
                "status": 401,
                "data": { "flows": flows(Some("mfa_authenticate")) },
                "meta": { "is_authenticated": false, "session_token": pending },
            })),
        )
            .into_response();
    }
    let session = sign_in_device(&state, &user, &addr, &headers);
    signed_in(&state, &user, &session)
}

fn sign_in_device(
    state: &MockState,
    user: &User,
    addr: &ClientAddr,
    headers: &HeaderMap,
) -> Session {
    let device = Device {
        user_agent: user_agent(headers),
        ip: addr.express(),
        location: None,
        name: None,
    };
    dialect::sign_in(state, user, Dialect::Allauth, device, false).0
}

#[derive(Deserialize)]
struct Code {
    code: Option<String>,
}

async fn second_factor(
    State(state): State<MockState>,
    addr: ClientAddr,
    headers: HeaderMap,
    body: Option<Json<Code>>,
) -> Response {
    let now = state.clock.now();
    let user = headers
        .get(TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|t| {
            jwt::verify::<Pending>(&state.store.jwt_secret(), Dialect::Allauth, t, now).ok()
        })
        .and_then(|p| state.store.user(&p.user_id));
    let Some(user) = user else {
        return gone();
    };
    let code = body.and_then(|Json(c)| c.code).unwrap_or_default();
    let code = code.trim();
    let valid = user.totp.as_ref().is_some_and(|t| {
        (code.len() == 6 && totp::check(&t.secret, code, now))
            || state.store.use_backup_code(&user.id, code)
    });
    if !valid {
        return bad_request("Incorrect code.", "incorrect_code", "code");
    }
    let session = sign_in_device(&state, &user, &addr, &headers);
    signed_in(&state, &user, &session)
}

async fn session(State(state): State<MockState>, addr: ClientAddr, headers: HeaderMap) -> Response {
    match authenticate(&state, &headers, &addr) {
        Ok((user, session)) => signed_in(&state, &user, &session),
        Err(answer) => *answer,
    }
}

async fn logout(State(state): State<MockState>, addr: ClientAddr, headers: HeaderMap) -> Response {
    match authenticate(&state, &headers, &addr) {
        Ok((_, session)) => {
            state.store.end_session(&session.id, state.clock.now());
            not_signed_in()
        }
        Err(answer) => *answer,
    }
}

fn listing(state: &MockState, user: &User, current: &Session) -> Value {
    let mut live = state.store.sessions_of(&user.id, state.clock.now());
    live.sort_by_key(|s| s.number);
    let data: Vec<Value> = live
        .iter()
        .map(|s| {
            json!({
                "id": s.number,
                "user_agent": s.user_agent,
                "ip": s.ip.as_deref().unwrap_or_default(),
                "created_at": seconds(s.created_at),
                "last_seen_at": seconds(s.last_active_at),
                "is_current": s.id == current.id,
            })
        })
        .collect();
    json!({ "status": 200, "data": data })
}

async fn sessions(
    State(state): State<MockState>,
    addr: ClientAddr,
    headers: HeaderMap,
) -> Response {
    match authenticate(&state, &headers, &addr) {
        Ok((user, current)) => Json(listing(&state, &user, &current)).into_response(),
        Err(answer) => *answer,
    }
}

async fn end_sessions(
    State(state): State<MockState>,
    addr: ClientAddr,
    headers: HeaderMap,
    body: Option<Json<Value>>,
) -> Response {
    let (user, current) = match authenticate(&state, &headers, &addr) {
        Ok(found) => found,
        Err(answer) => return *answer,
    };
    let wanted: Vec<u64> = body
        .as_ref()
        .and_then(|Json(b)| b.get("sessions")?.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    let now = state.clock.now();
    let live = state.store.sessions_of(&user.id, now);
    if wanted.is_empty() || wanted.iter().any(|n| !live.iter().any(|s| s.number == *n)) {
        return bad_request("Select a valid choice.", "invalid_choice", "sessions");
    }
    state
        .store
        .end_sessions_where(&user.id, now, |s| wanted.contains(&s.number));
    if wanted.contains(&current.number) {
        return not_signed_in();
    }
    Json(listing(&state, &user, &current)).into_response()
}
