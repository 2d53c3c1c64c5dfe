//! SecureAuth's API (docs/apis.md §1): phone + one-time code, a JWT in the `token` cookie,
//! a bare array of sessions with epoch-millisecond times, 403 for an unknown id, a rate limit.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use chrono::Duration;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::MockState;
use crate::device::secureauth_fields;
use crate::dialect::{self, Credentials, Dialect};
use crate::jwt;
use crate::peer::{ClientAddr, user_agent};
use crate::ratelimit;
use crate::respond::{Refusal, clear_cookie, cookie_value, error, set_cookie};
use crate::store::{Device, NewUser, OutboxMessage, Session, User, Verification};

const COOKIE: &str = "token";
pub const TOKEN_LIFETIME: Duration = Duration::days(7);
const CODE_LIFETIME: Duration = Duration::minutes(5);
/// `lastActiveAt` moves at most this often, whatever the traffic.
const ACTIVITY_STEP: Duration = Duration::minutes(1);

pub fn routes(state: MockState) -> Router<MockState> {
    Router::new()
        .route("/api/auth/send-otp", post(send_otp))
        .route("/api/auth/verify-otp", post(verify_otp))
        .route("/api/auth/complete-profile", post(complete_profile))
        .route("/api/auth/me", get(me))
        .route("/api/auth/logout", post(logout))
        .route("/api/auth/sessions", get(list))
        .route("/api/auth/sessions/others", delete(revoke_others))
        .route("/api/auth/sessions/{id}", delete(revoke))
        .layer(middleware::from_fn_with_state(state, ratelimit::limit))
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Claims {
    user_id: String,
    phone_number: Option<String>,
    display_name: String,
    session_id: String,
    iat: i64,
    exp: i64,
}

fn token(state: &MockState, user: &User, session_id: &str) -> String {
    let now = state.clock.now();
    let claims = Claims {
        user_id: user.id.clone(),
        phone_number: user.phone.clone(),
        display_name: user.display_name.clone(),
        session_id: session_id.to_owned(),
        iat: now.timestamp(),
        exp: (now + TOKEN_LIFETIME).timestamp(),
    };
    jwt::sign(&state.store.jwt_secret(), Dialect::SecureAuth, &claims)
}

pub fn credentials(state: &MockState, user: &User, session: &Session) -> Credentials {
    Credentials {
        cookie: Some(format!("{COOKIE}={}", token(state, user, &session.id))),
        ..Credentials::default()
    }
}

fn with_token(response: Response, token: &str) -> Response {
    set_cookie(
        response,
        &format!(
            "{COOKIE}={token}; Max-Age={}; Path=/; HttpOnly",
            TOKEN_LIFETIME.num_seconds()
        ),
    )
}

fn user_json(user: &User, session_id: &str) -> Value {
    json!({
        "userId": user.id,
        "phoneNumber": user.phone,
        "displayName": user.display_name,
        "sessionId": session_id,
    })
}

/// The `authenticate` middleware: the cookie only (a bearer header is not read), then the
/// JWT, then the session's row. Any authenticated call bumps `lastActiveAt`, at most once a
/// minute.
fn authenticate(state: &MockState, headers: &HeaderMap) -> Result<(User, Session), Refusal> {
    let Some(token) = cookie_value(headers, COOKIE) else {
        return Err(error(StatusCode::UNAUTHORIZED, "Unauthorized").into());
    };
    let now = state.clock.now();
    let claims: Claims = jwt::verify(&state.store.jwt_secret(), Dialect::SecureAuth, &token, now)
        .map_err(|e| {
        let body = json!({ "error": "Forbidden", "details": e.message() });
        let response = (StatusCode::FORBIDDEN, Json(body)).into_response();
        Refusal::new(clear_cookie(response, COOKIE, "/"))
    })?;
    let found = state
        .store
        .session(&claims.session_id)
        .filter(|s| s.is_live(now))
        .and_then(|s| Some((state.store.user(&s.user_id)?, s)));
    let Some((user, session)) = found else {
        let response = error(StatusCode::UNAUTHORIZED, "Session expired or revoked");
        return Err(clear_cookie(response, COOKIE, "/").into());
    };
    if now - session.last_active_at >= ACTIVITY_STEP {
        state.store.touch(&session.id, now);
    }
    Ok((user, session))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendOtp {
    phone_number: Option<String>,
}

async fn send_otp(State(state): State<MockState>, body: Option<Json<SendOtp>>) -> Response {
    let Some(phone) = body
        .and_then(|Json(b)| b.phone_number)
        .filter(|p| !p.trim().is_empty())
    else {
        return error(StatusCode::BAD_REQUEST, "Phone number required");
    };
    let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
    let id = uuid::Uuid::new_v4().to_string();
    let now = state.clock.now();
    state.store.add_verification(
        &id,
        Verification {
            phone: phone.clone(),
            code: code.clone(),
            created_at: now,
            used: false,
        },
        OutboxMessage {
            to: phone,
            body: format!("Your SecureAuth verification code is {code}"),
            code,
            verification_id: id.clone(),
            sent_at: now,
        },
    );
    Json(json!({ "verificationId": id, "message": "OTP sent successfully" })).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VerifyOtp {
    verification_id: Option<String>,
    otp: Option<String>,
}

async fn verify_otp(
    State(state): State<MockState>,
    addr: ClientAddr,
    headers: HeaderMap,
    body: Option<Json<VerifyOtp>>,
) -> Response {
    let (Some(id), Some(otp)) = body
        .map(|Json(b)| (b.verification_id, b.otp))
        .unwrap_or_default()
    else {
        return error(StatusCode::BAD_REQUEST, "Data missing");
    };
    let Some(verification) = state.store.verification(&id).filter(|v| !v.used) else {
        return error(StatusCode::NOT_FOUND, "Invalid verification");
    };
    if state.clock.now() - verification.created_at > CODE_LIFETIME {
        return error(StatusCode::BAD_REQUEST, "OTP expired");
    }
    if otp.trim() != verification.code {
        return error(StatusCode::BAD_REQUEST, "Invalid OTP");
    }
    state.store.use_verification(&id);
    let (user, is_new) = match state.store.user_by_phone(&verification.phone) {
        Some(user) => (user, false),
        None => (new_phone_user(&state, &verification.phone), true),
    };
    let device = Device {
        user_agent: user_agent(&headers),
        ip: addr.express(),
        location: None,
        name: None,
    };
    let (session, _) = dialect::sign_in(&state, &user, Dialect::SecureAuth, device, false);
    let token = token(&state, &user, &session.id);
    let body = json!({
        "token": token,
        "user": user_json(&user, &session.id),
        "isNewUser": is_new,
    });
    with_token(Json(body).into_response(), &token)
}

/// A first sign-in with an unknown phone creates the account; it has no password.
fn new_phone_user(state: &MockState, phone: &str) -> User {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    state.store.add_user(NewUser {
        email: format!("{digits}@phone.invalid"),
        username: Some(format!("phone{digits}")),
        phone: Some(phone.to_owned()),
        password: crate::store::new_secret(),
        display_name: String::new(),
        totp: None,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    display_name: Option<String>,
}

async fn complete_profile(
    State(state): State<MockState>,
    headers: HeaderMap,
    body: Option<Json<Profile>>,
) -> Response {
    let (user, session) = match authenticate(&state, &headers) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let Some(name) = body
        .and_then(|Json(b)| b.display_name)
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
    else {
        return error(StatusCode::BAD_REQUEST, "Display name required");
    };
    let user = state
        .store
        .set_display_name(&user.id, &name)
        .unwrap_or(user);
    let token = token(&state, &user, &session.id);
    with_token(
        Json(json!({ "user": user_json(&user, &session.id) })).into_response(),
        &token,
    )
}

async fn me(State(state): State<MockState>, headers: HeaderMap) -> Response {
    match authenticate(&state, &headers) {
        Ok((user, session)) => {
            Json(json!({ "user": user_json(&user, &session.id) })).into_response()
        }
        Err(response) => *response,
    }
}

async fn logout(State(state): State<MockState>, headers: HeaderMap) -> Response {
    let (_, session) = match authenticate(&state, &headers) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    state.store.end_session(&session.id, state.clock.now());
    clear_cookie(
        Json(json!({ "success": true })).into_response(),
        COOKIE,
        "/",
    )
}

fn session_json(s: &Session, current: &str) -> Value {
    let fields = secureauth_fields(&s.user_agent);
    json!({
        "id": s.id,
        "userId": s.user_id,
        "userAgent": s.user_agent,
        "browser": fields.browser,
        "os": fields.os,
        "device": fields.device,
        "ip": s.ip,
        "createdAt": s.created_at.timestamp_millis(),
        "lastActiveAt": s.last_active_at.timestamp_millis(),
        "revoked": false,
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
    Json(sessions).into_response()
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
    // Unknown and foreign ids get the same 403, so ids cannot be probed.
    let ended = state
        .store
        .end_sessions_where(&user.id, state.clock.now(), |s| s.id == id);
    if ended == 0 {
        return error(StatusCode::FORBIDDEN, "Forbidden");
    }
    let response = Json(json!({ "success": true })).into_response();
    if id == current.id {
        clear_cookie(response, COOKIE, "/")
    } else {
        response
    }
}

async fn revoke_others(State(state): State<MockState>, headers: HeaderMap) -> Response {
    let (user, current) = match authenticate(&state, &headers) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let count = state
        .store
        .end_sessions_where(&user.id, state.clock.now(), |s| s.id != current.id);
    Json(json!({ "success": true, "count": count })).into_response()
}
