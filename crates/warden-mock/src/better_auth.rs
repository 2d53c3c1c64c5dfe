//! Better Auth (docs/apis.md §5) as an app mounts it, with its `twoFactor` and `bearer`
//! plugins on: a signed session cookie (or the same token as a bearer), the Origin check on
//! every POST that carries a cookie, `get-session` answering `null` rather than 401, a bare
//! array of sessions each carrying its live token, freshness, and a revoke that answers
//! `{"status":true}` whatever it was given.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::MockState;
use crate::dialect::{self, Credentials, Dialect, derived_token};
use crate::jwt;
use crate::peer::{ClientAddr, user_agent};
use crate::respond::{bearer, cookie_value, set_cookie};
use crate::store::{Device, Session, User};
use crate::totp;

pub const COOKIE: &str = "better-auth.session_token";
const TWO_FACTOR_COOKIE: &str = "better-auth.two_factor";
/// `session.expiresIn`: 7 days, rolled forward with use.
pub const EXPIRES_IN: Duration = Duration::days(7);
/// `session.updateAge`: `updatedAt` moves at most this often.
const UPDATE_AGE: Duration = Duration::days(1);
/// `session.freshAge`, unless the control API set another (`MockState::set_fresh_age`).
pub const FRESH_AGE: Duration = Duration::days(1);
const TWO_FACTOR_LIFETIME: Duration = Duration::minutes(10);

pub fn routes() -> Router<MockState> {
    Router::new()
        .route("/sign-in/email", post(sign_in))
        .route("/two-factor/verify-totp", post(verify_totp))
        .route("/get-session", get(get_session))
        .route("/list-sessions", get(list_sessions))
        .route("/revoke-session", post(revoke_session))
        .route("/revoke-other-sessions", post(revoke_others))
        .route("/revoke-sessions", post(revoke_all))
        .route("/sign-out", post(sign_out))
}

/// `{"message","code"}`, Better Auth's errors.
fn error(status: StatusCode, message: &str, code: &str) -> Response {
    (status, Json(json!({ "message": message, "code": code }))).into_response()
}

fn unauthorized() -> Response {
    error(StatusCode::UNAUTHORIZED, "Unauthorized", "UNAUTHORIZED")
}

fn raw_token(state: &MockState, session: &Session) -> String {
    derived_token(state, "better-auth", &session.id)
}

/// `<raw>.<signature>`, as the cookie and the bearer plugin carry it.
fn signed(state: &MockState, raw: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let mac = sha2::Sha256::digest(format!("{}:cookie:{raw}", state.store.jwt_secret()));
    format!(
        "{raw}.{}",
        base64::engine::general_purpose::STANDARD.encode(mac)
    )
}

pub fn credentials(state: &MockState, session: &Session) -> Credentials {
    let token = signed(state, &raw_token(state, session));
    Credentials {
        cookie: Some(format!("{COOKIE}={token}")),
        access_token: Some(token),
        ..Credentials::default()
    }
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `updatedAt`: moves to the first use an `updateAge` or more after the last move;
/// approximated by whole `updateAge`s of use since the sign-in.
fn updated_at(s: &Session) -> DateTime<Utc> {
    let steps = (s.last_active_at - s.created_at).num_seconds() / UPDATE_AGE.num_seconds();
    s.created_at + UPDATE_AGE * steps.max(0) as i32
}

fn session_json(state: &MockState, s: &Session) -> serde_json::Value {
    let updated = updated_at(s);
    json!({
        "id": s.id,
        "token": raw_token(state, s),
        "userId": s.user_id,
        "createdAt": iso(s.created_at),
        "updatedAt": iso(updated),
        "expiresAt": iso(updated + EXPIRES_IN),
        // Better Auth records "" when the request carried no X-Forwarded-For.
        "ipAddress": s.ip.as_deref().unwrap_or_default(),
        "userAgent": s.user_agent,
    })
}

fn user_json(user: &User) -> serde_json::Value {
    json!({
        "id": user.id, "email": user.email, "name": user.display_name, "emailVerified": true,
        "twoFactorEnabled": user.totp.is_some(),
    })
}

/// The credential of the request: the bearer token, else the session cookie; checked
/// against its signature, then looked up among the live sessions.
fn authenticate(state: &MockState, headers: &HeaderMap) -> Option<(User, Session)> {
    let token = bearer(headers).or_else(|| cookie_value(headers, COOKIE))?;
    let (raw, _) = token.split_once('.')?;
    if signed(state, raw) != token {
        return None;
    }
    let now = state.clock.now();
    let session = state.store.find_live(now, |s| raw_token(state, s) == raw)?;
    let user = state.store.user(&session.user_id)?;
    state.store.touch(&session.id, now);
    Some((user, session))
}

/// Better Auth's origin check: a POST that carries a cookie must name the app's origin.
/// The app here is this server, as the request's `Host` names it.
fn origin_refused(headers: &HeaderMap) -> Option<Response> {
    if !headers.contains_key(header::COOKIE) {
        return None;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok())?;
    if headers.get_all(header::ORIGIN).iter().count() > 1 {
        return Some(error(
            StatusCode::FORBIDDEN,
            "Invalid origin",
            "INVALID_ORIGIN",
        ));
    }
    match headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        None | Some("null") => Some(error(
            StatusCode::FORBIDDEN,
            "Missing or null Origin",
            "MISSING_OR_NULL_ORIGIN",
        )),
        Some(origin) if origin != format!("http://{host}") => Some(error(
            StatusCode::FORBIDDEN,
            "Invalid origin",
            "INVALID_ORIGIN",
        )),
        Some(_) => None,
    }
}

/// The answer of a successful sign-in: the token in the body, the signed one as a cookie
/// and (bearer plugin) in `set-auth-token`.
fn signed_in(state: &MockState, user: &User, session: &Session) -> Response {
    let raw = raw_token(state, session);
    let token = signed(state, &raw);
    let mut response = Json(json!({
        "redirect": false, "token": raw, "user": user_json(user),
    }))
    .into_response();
    if let Ok(value) = HeaderValue::from_str(&token) {
        response.headers_mut().insert("set-auth-token", value);
    }
    set_cookie(
        response,
        &format!("{COOKIE}={token}; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax"),
    )
}

#[derive(Deserialize)]
struct SignIn {
    email: Option<String>,
    password: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Pending {
    user_id: String,
    exp: i64,
}

async fn sign_in(
    State(state): State<MockState>,
    addr: ClientAddr,
    headers: HeaderMap,
    body: Option<Json<SignIn>>,
) -> Response {
    if let Some(refused) = origin_refused(&headers) {
        return refused;
    }
    let (Some(email), Some(password)) = body
        .map(|Json(b)| (b.email, b.password))
        .unwrap_or_default()
    else {
        return error(StatusCode::BAD_REQUEST, "Invalid email", "INVALID_EMAIL");
    };
    if !email.contains('@') {
        return error(StatusCode::BAD_REQUEST, "Invalid email", "INVALID_EMAIL");
    }
    let Some(user) = state
        .store
        .user_by_email(&email)
        .filter(|u| u.password == password)
    else {
        return error(
            StatusCode::UNAUTHORIZED,
            "Invalid email or password",
            "INVALID_EMAIL_OR_PASSWORD",
        );
    };
    if user.totp.is_some() {
        let now = state.clock.now();
        let pending = jwt::sign(
            &state.store.jwt_secret(),
            Dialect::BetterAuth,
            &Pending {
                user_id: user.id.clone(),
                exp: (now + TWO_FACTOR_LIFETIME).timestamp(),
            },
        );
        let response = Json(json!({ "twoFactorRedirect": true, "twoFactorMethods": ["totp"] }))
            .into_response();
        return set_cookie(
            response,
            &format!("{TWO_FACTOR_COOKIE}={pending}; Max-Age=600; Path=/; HttpOnly; SameSite=Lax"),
        );
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
        ip: addr.forwarded(),
        location: None,
        name: None,
    };
    dialect::sign_in(state, user, Dialect::BetterAuth, device, true).0
}

#[derive(Deserialize)]
struct Code {
    code: Option<String>,
}

async fn verify_totp(
    State(state): State<MockState>,
    addr: ClientAddr,
    headers: HeaderMap,
    body: Option<Json<Code>>,
) -> Response {
    if let Some(refused) = origin_refused(&headers) {
        return refused;
    }
    let now = state.clock.now();
    let user = cookie_value(&headers, TWO_FACTOR_COOKIE)
        .and_then(|t| {
            jwt::verify::<Pending>(&state.store.jwt_secret(), Dialect::BetterAuth, &t, now).ok()
        })
        .and_then(|p| state.store.user(&p.user_id));
    let Some(user) = user else {
        return error(
            StatusCode::UNAUTHORIZED,
            "Invalid two factor cookie",
            "INVALID_TWO_FACTOR_COOKIE",
        );
    };
    let code = body.and_then(|Json(c)| c.code).unwrap_or_default();
    let valid = user
        .totp
        .as_ref()
        .is_some_and(|t| totp::check(&t.secret, code.trim(), now));
    if !valid {
        return error(StatusCode::UNAUTHORIZED, "Invalid code", "INVALID_CODE");
    }
    let session = sign_in_device(&state, &user, &addr, &headers);
    signed_in(&state, &user, &session)
}

async fn get_session(State(state): State<MockState>, headers: HeaderMap) -> Response {
    match authenticate(&state, &headers) {
        Some((user, session)) => Json(json!({
            "session": session_json(&state, &session), "user": user_json(&user),
        }))
        .into_response(),
        // Nobody signed in: 200 with `null`, not 401.
        None => Json(serde_json::Value::Null).into_response(),
    }
}

async fn list_sessions(State(state): State<MockState>, headers: HeaderMap) -> Response {
    let Some((user, current)) = authenticate(&state, &headers) else {
        return unauthorized();
    };
    let now = state.clock.now();
    if now - current.created_at > state.fresh_age() {
        return error(
            StatusCode::FORBIDDEN,
            "Session is not fresh",
            "SESSION_NOT_FRESH",
        );
    }
    let mut sessions = state.store.sessions_of(&user.id, now);
    // Better Auth lists in the database's order: oldest first.
    sessions.sort_by_key(|s| s.created_at);
    Json(
        sessions
            .iter()
            .map(|s| session_json(&state, s))
            .collect::<Vec<_>>(),
    )
    .into_response()
}

#[derive(Deserialize)]
struct RevokeBody {
    token: Option<String>,
}

/// `{"status":true}` whatever the token: unknown, an id, another user's.
async fn revoke_session(
    State(state): State<MockState>,
    headers: HeaderMap,
    body: Option<Json<RevokeBody>>,
) -> Response {
    if let Some(refused) = origin_refused(&headers) {
        return refused;
    }
    let Some((user, _)) = authenticate(&state, &headers) else {
        return unauthorized();
    };
    let token = body.and_then(|Json(b)| b.token).unwrap_or_default();
    let now = state.clock.now();
    // Looked up first: `end_sessions_where` holds the store, and a token is derived from it.
    let doomed: Vec<String> = state
        .store
        .sessions_of(&user.id, now)
        .into_iter()
        .filter(|s| raw_token(&state, s) == token)
        .map(|s| s.id)
        .collect();
    state
        .store
        .end_sessions_where(&user.id, now, |s| doomed.contains(&s.id));
    Json(json!({ "status": true })).into_response()
}

async fn revoke_others(State(state): State<MockState>, headers: HeaderMap) -> Response {
    if let Some(refused) = origin_refused(&headers) {
        return refused;
    }
    let Some((user, current)) = authenticate(&state, &headers) else {
        return unauthorized();
    };
    state
        .store
        .end_sessions_where(&user.id, state.clock.now(), |s| s.id != current.id);
    Json(json!({ "status": true })).into_response()
}

async fn revoke_all(State(state): State<MockState>, headers: HeaderMap) -> Response {
    if let Some(refused) = origin_refused(&headers) {
        return refused;
    }
    let Some((user, _)) = authenticate(&state, &headers) else {
        return unauthorized();
    };
    state
        .store
        .end_sessions_where(&user.id, state.clock.now(), |_| true);
    Json(json!({ "status": true })).into_response()
}

async fn sign_out(State(state): State<MockState>, headers: HeaderMap) -> Response {
    if let Some(refused) = origin_refused(&headers) {
        return refused;
    }
    if let Some((_, current)) = authenticate(&state, &headers) {
        state.store.end_session(&current.id, state.clock.now());
    }
    let response = Json(json!({ "success": true })).into_response();
    set_cookie(response, &format!("{COOKIE}=; Max-Age=0; Path=/"))
}
