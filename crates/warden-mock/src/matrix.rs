//! The Matrix client-server API's device routes (docs/apis.md §6), as Synapse answers
//! them: password login naming the new device, devices with no user agent and no creation
//! time, deleting behind User-Interactive Auth with the password, `M_UNKNOWN_TOKEN` for a
//! signed-out device's token.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::MockState;
use crate::device::hectoday_device_name;
use crate::dialect::{self, Credentials, Dialect, derived_token};
use crate::peer::{ClientAddr, user_agent};
use crate::respond::Refusal;
use crate::respond::bearer;
use crate::store::{Device, Session, User};

const API: &str = "/_matrix/client/v3";
const PASSWORD: &str = "m.login.password";

pub fn routes() -> Router<MockState> {
    Router::new()
        .route(&format!("{API}/login"), get(login_flows).post(login))
        .route(&format!("{API}/logout"), post(logout))
        .route(&format!("{API}/account/whoami"), get(whoami))
        .route(&format!("{API}/devices"), get(devices))
        .route(
            &format!("{API}/devices/{{device_id}}"),
            get(device).put(rename).delete(delete_device),
        )
        .route(&format!("{API}/delete_devices"), post(delete_devices))
}

fn error(status: StatusCode, errcode: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "errcode": errcode, "error": message })),
    )
        .into_response()
}

/// Synapse's device ids: ten capital letters, here derived from the session id.
pub fn device_id(session: &Session) -> String {
    session
        .id
        .bytes()
        .filter(u8::is_ascii_hexdigit)
        .take(10)
        .map(|b| {
            let value = char::from(b).to_digit(16).unwrap_or(0);
            char::from(b'A' + value as u8)
        })
        .collect()
}

fn access_token(state: &MockState, session: &Session) -> String {
    format!("syt_{}", derived_token(state, "matrix", &session.id))
}

pub fn credentials(state: &MockState, session: &Session) -> Credentials {
    Credentials {
        access_token: Some(access_token(state, session)),
        ..Credentials::default()
    }
}

fn user_id(user: &User, headers: &HeaderMap) -> String {
    let server = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("@{}:{server}", user.username)
}

/// The user a login names: `@name:server` or `name`.
fn named_user(state: &MockState, user: &str) -> Option<User> {
    let local = user
        .strip_prefix('@')
        .and_then(|rest| rest.split(':').next())
        .unwrap_or(user);
    state
        .store
        .user_by_identifier(local)
        .filter(|u| u.username.eq_ignore_ascii_case(local))
}

/// The bearer token's device; `Err` is the answer: `M_MISSING_TOKEN`, `M_UNKNOWN_TOKEN`.
fn authenticate(state: &MockState, headers: &HeaderMap) -> Result<(User, Session), Refusal> {
    let Some(token) = bearer(headers) else {
        return Err(Box::new(error(
            StatusCode::UNAUTHORIZED,
            "M_MISSING_TOKEN",
            "Missing access token",
        )));
    };
    let now = state.clock.now();
    let found = state
        .store
        .find_live(now, |s| access_token(state, s) == token)
        .and_then(|s| Some((state.store.user(&s.user_id)?, s)));
    match found {
        Some((user, session)) => {
            state.store.touch(&session.id, now);
            Ok((user, session))
        }
        None => Err(Box::new(
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({
                    "errcode": "M_UNKNOWN_TOKEN",
                    "error": "Unknown access token",
                    "soft_logout": false,
                })),
            )
                .into_response(),
        )),
    }
}

async fn login_flows() -> Response {
    Json(json!({ "flows": [{ "type": PASSWORD }, { "type": "m.login.token" }] })).into_response()
}

#[derive(Deserialize)]
struct Login {
    #[serde(rename = "type")]
    kind: Option<String>,
    identifier: Option<Identifier>,
    password: Option<String>,
    initial_device_display_name: Option<String>,
}

#[derive(Deserialize)]
struct Identifier {
    user: Option<String>,
}

async fn login(
    State(state): State<MockState>,
    addr: ClientAddr,
    headers: HeaderMap,
    body: Option<Json<Login>>,
) -> Response {
    let Some(Json(body)) = body else {
        return error(StatusCode::BAD_REQUEST, "M_NOT_JSON", "Content not JSON.");
    };
    if body.kind.as_deref() != Some(PASSWORD) {
        return error(StatusCode::BAD_REQUEST, "M_UNKNOWN", "Unknown login type");
    }
    let user = body
        .identifier
        .and_then(|i| i.user)
        .and_then(|u| named_user(&state, &u))
        .filter(|u| Some(&u.password) == body.password.as_ref());
    let Some(user) = user else {
        return error(
            StatusCode::FORBIDDEN,
            "M_FORBIDDEN",
            "Invalid username or password",
        );
    };
    let device = Device {
        user_agent: user_agent(&headers),
        ip: addr.forwarded().or_else(|| addr.express()),
        location: None,
        name: body.initial_device_display_name,
    };
    let (session, _) = dialect::sign_in(&state, &user, Dialect::Matrix, device, false);
    Json(json!({
        "user_id": user_id(&user, &headers),
        "access_token": access_token(&state, &session),
        "device_id": device_id(&session),
        "home_server": headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()),
    }))
    .into_response()
}

async fn logout(State(state): State<MockState>, headers: HeaderMap) -> Response {
    match authenticate(&state, &headers) {
        Ok((_, session)) => {
            state.store.end_session(&session.id, state.clock.now());
            Json(json!({})).into_response()
        }
        Err(refused) => *refused,
    }
}

async fn whoami(State(state): State<MockState>, headers: HeaderMap) -> Response {
    match authenticate(&state, &headers) {
        Ok((user, session)) => Json(json!({
            "user_id": user_id(&user, &headers), "device_id": device_id(&session), "is_guest": false,
        }))
        .into_response(),
        Err(refused) => *refused,
    }
}

fn device_json(s: &Session, user: &str) -> Value {
    // Devices signed in through another of the mock's APIs have no name of their own:
    // the name a client would have given itself stands in.
    let name = s
        .display_name
        .clone()
        .unwrap_or_else(|| hectoday_device_name(&s.user_agent));
    json!({
        "device_id": device_id(s),
        "display_name": name,
        // A device that made no request since signing in has not been seen: Synapse
        // lists it with nulls (the one `register_new_matrix_user` signs in, say).
        "last_seen_ts": (s.last_active_at > s.created_at).then(|| s.last_active_at.timestamp_millis()),
        "last_seen_ip": if s.last_active_at > s.created_at { s.ip.as_deref() } else { None },
        "user_id": user,
    })
}

async fn devices(State(state): State<MockState>, headers: HeaderMap) -> Response {
    let (user, _) = match authenticate(&state, &headers) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let id = user_id(&user, &headers);
    let devices: Vec<Value> = state
        .store
        .sessions_of(&user.id, state.clock.now())
        .iter()
        .map(|s| device_json(s, &id))
        .collect();
    Json(json!({ "devices": devices })).into_response()
}

fn find_device(state: &MockState, user: &User, id: &str) -> Option<Session> {
    state
        .store
        .sessions_of(&user.id, state.clock.now())
        .into_iter()
        .find(|s| device_id(s) == id)
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "M_NOT_FOUND", "Device not found")
}

async fn device(
    State(state): State<MockState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let (user, _) = match authenticate(&state, &headers) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    match find_device(&state, &user, &id) {
        Some(s) => Json(device_json(&s, &user_id(&user, &headers))).into_response(),
        None => not_found(),
    }
}

#[derive(Deserialize)]
struct Rename {
    display_name: Option<String>,
}

async fn rename(
    State(state): State<MockState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Option<Json<Rename>>,
) -> Response {
    let (user, _) = match authenticate(&state, &headers) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let Some(session) = find_device(&state, &user, &id) else {
        return not_found();
    };
    if let Some(name) = body.and_then(|Json(b)| b.display_name) {
        state.store.rename(&session.id, &name);
    }
    Json(json!({})).into_response()
}

/// User-Interactive Auth with the password stage: `None` when the request may go on, else
/// the answer (the challenge, or a refused password, in the challenge's shape).
fn interactive_auth(user: &User, body: &Value) -> Option<Response> {
    let challenge = |extra: Value| {
        let mut answer = json!({
            "session": uuid::Uuid::new_v4().simple().to_string(),
            "flows": [{ "stages": [PASSWORD] }],
            "params": {},
        });
        if let (Some(map), Some(extra)) = (answer.as_object_mut(), extra.as_object()) {
            map.extend(extra.clone());
        }
        Some((StatusCode::UNAUTHORIZED, Json(answer)).into_response())
    };
    let Some(auth) = body.get("auth") else {
        return challenge(json!({}));
    };
    let password_ok = auth.get("type").and_then(Value::as_str) == Some(PASSWORD)
        && auth.get("password").and_then(Value::as_str) == Some(user.password.as_str());
    if password_ok {
        None
    } else {
        challenge(json!({ "errcode": "M_FORBIDDEN", "error": "Invalid password", "completed": [] }))
    }
}

async fn delete_device(
    State(state): State<MockState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Option<Json<Value>>,
) -> Response {
    let (user, _) = match authenticate(&state, &headers) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let Some(session) = find_device(&state, &user, &id) else {
        return not_found();
    };
    let body = body.map(|Json(b)| b).unwrap_or_default();
    if let Some(answer) = interactive_auth(&user, &body) {
        return answer;
    }
    state.store.end_session(&session.id, state.clock.now());
    Json(json!({})).into_response()
}

async fn delete_devices(
    State(state): State<MockState>,
    headers: HeaderMap,
    body: Option<Json<Value>>,
) -> Response {
    let (user, _) = match authenticate(&state, &headers) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let body = body.map(|Json(b)| b).unwrap_or_default();
    let Some(ids) = body.get("devices").and_then(Value::as_array) else {
        return error(
            StatusCode::BAD_REQUEST,
            "M_MISSING_PARAM",
            "Missing devices",
        );
    };
    let ids: Vec<String> = ids
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    if let Some(answer) = interactive_auth(&user, &body) {
        return answer;
    }
    // Unknown ids are ignored, as Synapse does.
    state
        .store
        .end_sessions_where(&user.id, state.clock.now(), |s| ids.contains(&device_id(s)));
    Json(json!({})).into_response()
}
