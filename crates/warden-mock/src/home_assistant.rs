//! Home Assistant's auth API (docs/apis.md §10), as the real server answers it: the login
//! flow (a wrong password is 200 with the form again; the flow is bound to the address that
//! started it; the TOTP step for users with an authenticator), `/auth/token` in form
//! encoding (the refresh repeats the login's `client_id`, the refresh token never rotates),
//! RFC 7009 revocation that always says 200, and the WebSocket API's `auth/refresh_tokens`,
//! `auth/delete_refresh_token` and `auth/delete_all_refresh_tokens` (whose defaults also end
//! the caller's token 2 s later, and long-lived ones).
//!
//! Each refresh token is a session of the store; its `user_agent` is the token's
//! `client_id` (HA keeps no user agent), and a long-lived token has none, only a name.
//! `last_used_*` move only when an access token is issued. Every refused credential counts
//! as a failed login of its address (`failed_logins`), and an address reaching the ban
//! threshold (`set_ban_threshold`, never by default) is refused everything, as HA's
//! `ip_bans.yaml` does.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::Json;
use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::MockState;
use crate::dialect::{self, Dialect, derived_token};
use crate::jwt;
use crate::peer::ClientAddr;
use crate::store::{Device, Session, User};
use crate::totp;

/// Access tokens live 30 minutes; refresh tokens 90 days from their last use.
pub const ACCESS_LIFETIME: Duration = Duration::minutes(30);
pub const REFRESH_IDLE: Duration = Duration::days(90);
const CODE_LIFETIME: Duration = Duration::minutes(10);
const MFA_LIFETIME: Duration = Duration::minutes(5);
const MFA_TRIES: u32 = 5;
/// The official apps' client ids, which may redirect to the app's own scheme.
pub const IOS_APP: &str = "https://home-assistant.io/iOS";
pub const ANDROID_APP: &str = "https://home-assistant.io/android";
/// The web UI's client id is the address the browser has it open at; a scenario's browser
/// that names none has it at Home Assistant's usual local address.
pub const WEB_UI: &str = "http://homeassistant.local:8123/";

pub fn routes(state: MockState) -> Router<MockState> {
    Router::new()
        .route("/auth/providers", get(providers))
        .route("/auth/login_flow", post(start_flow))
        .route("/auth/login_flow/{flow_id}", post(flow_step))
        .route("/auth/token", post(token))
        .route("/auth/revoke", post(revoke))
        .route("/api/websocket", get(websocket))
        .layer(axum::middleware::from_fn_with_state(state, refuse_banned))
}

/// A banned address gets 403 for everything, as HA's `ip_bans.yaml` makes it.
async fn refuse_banned(
    State(state): State<MockState>,
    addr: ClientAddr,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if state.home_assistant.is_banned(&address(&addr)) {
        return (StatusCode::FORBIDDEN, "403: Forbidden").into_response();
    }
    next.run(request).await
}

/// What HA remembers between requests besides the store: login flows, auth codes, failed
/// logins per address, banned addresses.
#[derive(Default)]
pub struct HomeAssistant {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    flows: HashMap<String, Flow>,
    codes: HashMap<String, Code>,
    failures: HashMap<String, u32>,
    banned: Vec<String>,
    /// `login_attempts_threshold`: below 1 (HA's default is -1) never bans.
    threshold: i64,
}

struct Flow {
    ip: String,
    client_id: String,
    redirect_uri: String,
    created: DateTime<Utc>,
    /// The user whose password was right, waiting for their code.
    mfa_user: Option<String>,
    tries: u32,
}

struct Code {
    user_id: String,
    client_id: String,
    created: DateTime<Utc>,
}

impl HomeAssistant {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many failed logins each address has made (tests read it).
    pub fn failed_logins(&self) -> HashMap<String, u32> {
        self.lock().failures.clone()
    }

    /// The addresses HA would refuse everything from.
    pub fn banned(&self) -> Vec<String> {
        self.lock().banned.clone()
    }

    pub fn set_ban_threshold(&self, threshold: i64) {
        self.lock().threshold = threshold;
    }

    pub fn clear(&self) {
        *self.lock() = Inner::default();
    }

    /// A failed login from `ip`: counted, and the address banned at the threshold.
    fn failed(&self, ip: &str) {
        let mut inner = self.lock();
        let count = inner.failures.entry(ip.to_owned()).or_default();
        *count += 1;
        let count = i64::from(*count);
        if inner.threshold >= 1 && count >= inner.threshold && !inner.banned.iter().any(|b| b == ip)
        {
            inner.banned.push(ip.to_owned());
        }
    }

    /// A successful login resets the address's count, as HA does.
    fn succeeded(&self, ip: &str) {
        self.lock().failures.remove(ip);
    }

    fn is_banned(&self, ip: &str) -> bool {
        self.lock().banned.iter().any(|b| b == ip)
    }
}

/// The address HA sees: `X-Forwarded-For` from the trusted proxy (the mock's tests speak for
/// their devices through it), else the socket.
fn address(addr: &ClientAddr) -> String {
    addr.express().unwrap_or_else(|| "127.0.0.1".into())
}

fn message(status: StatusCode, text: &str) -> Response {
    (status, Json(json!({ "message": text }))).into_response()
}

async fn providers() -> Response {
    Json(json!({
        "providers": [{ "name": "Home Assistant Local", "id": null, "type": "homeassistant" }],
        "preselect_remember_me": true,
    }))
    .into_response()
}

#[derive(Deserialize)]
struct Start {
    client_id: Option<String>,
    handler: Option<Value>,
    redirect_uri: Option<String>,
}

fn valid_client_id(client_id: &str) -> bool {
    url::Url::parse(client_id)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

fn form(flow_id: &str, step: &str, errors: Value) -> Response {
    let schema = if step == "mfa" {
        json!([{ "name": "code", "type": "string" }])
    } else {
        json!([{ "name": "username", "type": "string" }, { "name": "password", "type": "string" }])
    };
    let placeholders = if step == "mfa" {
        json!({ "mfa_module_name": "Time-based One Time Password", "mfa_module_id": "totp" })
    } else {
        Value::Null
    };
    Json(json!({
        "type": "form", "flow_id": flow_id, "handler": ["homeassistant", null],
        "step_id": step, "data_schema": schema, "errors": errors,
        "description_placeholders": placeholders, "last_step": null, "preview": null,
    }))
    .into_response()
}

async fn start_flow(
    State(state): State<MockState>,
    addr: ClientAddr,
    Json(body): Json<Start>,
) -> Response {
    let ip = address(&addr);
    let (Some(client_id), Some(_), Some(redirect_uri)) =
        (body.client_id, body.handler, body.redirect_uri)
    else {
        return message(StatusCode::BAD_REQUEST, "Message format incorrect");
    };
    if !valid_client_id(&client_id) {
        return message(StatusCode::BAD_REQUEST, "Invalid client id");
    }
    let flow_id = crate::store::new_secret();
    state.home_assistant.lock().flows.insert(
        flow_id.clone(),
        Flow {
            ip,
            client_id,
            redirect_uri,
            created: state.clock.now(),
            mfa_user: None,
            tries: 0,
        },
    );
    form(&flow_id, "init", json!({}))
}

#[derive(Deserialize)]
struct StepInput {
    client_id: Option<String>,
    username: Option<String>,
    password: Option<String>,
    code: Option<String>,
}

/// Whether HA accepts `redirect_uri` for `client_id` without fetching anything: the same
/// origin, or an official app's own scheme.
fn redirect_allowed(client_id: &str, redirect_uri: &str) -> bool {
    let origin = |u: &str| url::Url::parse(u).ok().map(|u| u.origin());
    let same = origin(client_id).is_some_and(|o| Some(o) == origin(redirect_uri));
    let app = matches!(client_id, IOS_APP | ANDROID_APP)
        && redirect_uri == "homeassistant://auth-callback";
    same || app
}

async fn flow_step(
    State(state): State<MockState>,
    Path(flow_id): Path<String>,
    addr: ClientAddr,
    Json(input): Json<StepInput>,
) -> Response {
    let ha = &state.home_assistant;
    let ip = address(&addr);
    let now = state.clock.now();
    let (flow_ip, client_id, redirect_uri, created, mfa_user) = {
        let inner = ha.lock();
        let Some(flow) = inner.flows.get(&flow_id) else {
            drop(inner);
            ha.failed(&ip);
            return message(StatusCode::NOT_FOUND, "Invalid flow specified");
        };
        (
            flow.ip.clone(),
            flow.client_id.clone(),
            flow.redirect_uri.clone(),
            flow.created,
            flow.mfa_user.clone(),
        )
    };
    if flow_ip != ip {
        ha.failed(&ip);
        return message(StatusCode::BAD_REQUEST, "IP address changed");
    }
    if input.client_id.as_deref() != Some(client_id.as_str()) {
        ha.failed(&ip);
        return message(StatusCode::BAD_REQUEST, "Invalid client id");
    }
    let user = match mfa_user {
        None => {
            let username = input.username.unwrap_or_default().trim().to_lowercase();
            let user = state
                .store
                .user_by_login(&username)
                .filter(|u| u.username.to_lowercase() == username)
                .filter(|u| Some(u.password.as_str()) == input.password.as_deref());
            let Some(user) = user else {
                ha.failed(&ip);
                return form(&flow_id, "init", json!({ "base": "invalid_auth" }));
            };
            if user.totp.is_some() {
                if let Some(flow) = ha.lock().flows.get_mut(&flow_id) {
                    flow.mfa_user = Some(user.id.clone());
                }
                return form(&flow_id, "mfa", json!({}));
            }
            user
        }
        Some(user_id) => {
            if now - created > MFA_LIFETIME {
                ha.lock().flows.remove(&flow_id);
                return abort(&flow_id, "login_expired");
            }
            let Some(user) = state.store.user(&user_id) else {
                return abort(&flow_id, "login_expired");
            };
            let secret = user
                .totp
                .as_ref()
                .map(|t| t.secret.clone())
                .unwrap_or_default();
            if !totp::check(&secret, input.code.as_deref().unwrap_or_default(), now) {
                ha.failed(&ip);
                let tries = {
                    let mut inner = ha.lock();
                    let flow = inner.flows.get_mut(&flow_id);
                    flow.map_or(MFA_TRIES, |f| {
                        f.tries += 1;
                        f.tries
                    })
                };
                if tries >= MFA_TRIES {
                    ha.lock().flows.remove(&flow_id);
                    return abort(&flow_id, "too_many_retry");
                }
                return form(&flow_id, "mfa", json!({ "base": "invalid_code" }));
            }
            user
        }
    };
    ha.lock().flows.remove(&flow_id);
    if !redirect_allowed(&client_id, &redirect_uri) {
        ha.failed(&ip);
        return message(StatusCode::FORBIDDEN, "Invalid redirect URI");
    }
    ha.succeeded(&ip);
    let code = crate::store::new_secret();
    ha.lock().codes.insert(
        code.clone(),
        Code {
            user_id: user.id.clone(),
            client_id,
            created: now,
        },
    );
    Json(json!({
        "type": "create_entry", "flow_id": flow_id, "handler": ["homeassistant", null],
        "result": code, "version": 1, "minor_version": 1, "description": null,
        "description_placeholders": null,
    }))
    .into_response()
}

fn abort(flow_id: &str, reason: &str) -> Response {
    Json(json!({
        "type": "abort", "flow_id": flow_id, "handler": ["homeassistant", null],
        "reason": reason, "description_placeholders": null,
    }))
    .into_response()
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    refresh_token: Option<String>,
    client_id: Option<String>,
    action: Option<String>,
    token: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Claims {
    iss: String,
    iat: i64,
    exp: i64,
}

fn oauth_error(error: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": error, "error_description": "" })),
    )
        .into_response()
}

/// The refresh token of a session: derived, never stored.
pub fn refresh_token(state: &MockState, session: &Session) -> String {
    derived_token(state, "home-assistant-refresh", &session.id)
        .repeat(4)
        .to_lowercase()
}

/// An access token for the session: a JWT whose `iss` is the refresh token's id.
pub fn access_token(state: &MockState, session: &Session, now: DateTime<Utc>) -> String {
    jwt::sign(
        &state.store.jwt_secret(),
        Dialect::HomeAssistant,
        &Claims {
            iss: session.id.clone(),
            iat: now.timestamp(),
            exp: (now + ACCESS_LIFETIME).timestamp(),
        },
    )
}

pub fn credentials(state: &MockState, session: &Session) -> dialect::Credentials {
    dialect::Credentials {
        access_token: Some(access_token(state, session, state.clock.now())),
        refresh_token: Some(refresh_token(state, session)),
        ..dialect::Credentials::default()
    }
}

/// The live token this refresh token is, if any.
fn by_refresh(state: &MockState, sent: &str) -> Option<Session> {
    state.store.find_live(state.clock.now(), |s| {
        s.dialect == Dialect::HomeAssistant && refresh_token(state, s) == sent
    })
}

async fn token(
    State(state): State<MockState>,
    addr: ClientAddr,
    Form(form): Form<TokenForm>,
) -> Response {
    let ha = &state.home_assistant;
    let ip = address(&addr);
    let now = state.clock.now();
    if form.action.as_deref() == Some("revoke") {
        if let Some(session) = form.token.as_deref().and_then(|t| by_refresh(&state, t)) {
            state.store.end_session(&session.id, now);
        }
        return StatusCode::OK.into_response();
    }
    let refused = |error: &str| {
        ha.failed(&ip);
        oauth_error(error)
    };
    match form.grant_type.as_deref() {
        Some("authorization_code") => {
            let code = form.code.as_deref().and_then(|c| ha.lock().codes.remove(c));
            let Some(code) = code.filter(|c| now - c.created <= CODE_LIFETIME) else {
                return refused("invalid_request");
            };
            if form.client_id.as_deref() != Some(code.client_id.as_str()) {
                return refused("invalid_request");
            }
            let Some(user) = state.store.user(&code.user_id) else {
                return refused("invalid_request");
            };
            let device = Device {
                user_agent: code.client_id,
                ip: Some(ip),
                location: None,
                name: None,
            };
            let (session, _) =
                dialect::sign_in(&state, &user, Dialect::HomeAssistant, device, true);
            Json(json!({
                "access_token": access_token(&state, &session, now),
                "token_type": "Bearer",
                "refresh_token": refresh_token(&state, &session),
                "expires_in": ACCESS_LIFETIME.num_seconds(),
                "ha_auth_provider": "homeassistant",
            }))
            .into_response()
        }
        Some("refresh_token") => {
            let Some(session) = form
                .refresh_token
                .as_deref()
                .and_then(|t| by_refresh(&state, t))
            else {
                return refused("invalid_grant");
            };
            if form.client_id.as_deref() != Some(session.user_agent.as_str()) {
                return refused("invalid_request");
            }
            issued(&state, &session, ip, now);
            Json(json!({
                "access_token": access_token(&state, &session, now),
                "token_type": "Bearer",
                "expires_in": ACCESS_LIFETIME.num_seconds(),
            }))
            .into_response()
        }
        _ => refused("unsupported_grant_type"),
    }
}

/// An access token was issued: HA's only moment of moving `last_used_*`, and of sliding
/// the refresh token's 90 days.
pub fn issued(state: &MockState, session: &Session, ip: String, now: DateTime<Utc>) {
    state.store.touch(&session.id, now);
    state
        .store
        .seen(&session.id, Some(ip), session.user_agent.clone());
    let _ = state
        .store
        .set_policy(&session.id, Some(now + REFRESH_IDLE), None);
}

/// RFC 7009: 200 with an empty body, whatever the token.
async fn revoke(State(state): State<MockState>, Form(form): Form<TokenForm>) -> Response {
    if let Some(session) = form.token.as_deref().and_then(|t| by_refresh(&state, t)) {
        state.store.end_session(&session.id, state.clock.now());
    }
    StatusCode::OK.into_response()
}

async fn websocket(
    State(state): State<MockState>,
    addr: ClientAddr,
    upgrade: WebSocketUpgrade,
) -> Response {
    let ip = address(&addr);
    upgrade.on_upgrade(move |socket| serve_socket(state, ip, socket))
}

async fn send(socket: &mut WebSocket, value: Value) -> bool {
    socket
        .send(Message::Text(value.to_string().into()))
        .await
        .is_ok()
}

async fn next(socket: &mut WebSocket) -> Option<Value> {
    loop {
        match socket.recv().await? {
            Ok(Message::Text(text)) => return serde_json::from_str(text.as_str()).ok(),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// The session an access token belongs to, if it is valid now.
fn authenticated(state: &MockState, access: &str) -> Option<(User, Session)> {
    let now = state.clock.now();
    let claims: Claims = jwt::verify(
        &state.store.jwt_secret(),
        Dialect::HomeAssistant,
        access,
        now,
    )
    .ok()?;
    let session = state
        .store
        .session(&claims.iss)
        .filter(|s| s.is_live(now) && s.dialect == Dialect::HomeAssistant)?;
    Some((state.store.user(&session.user_id)?, session))
}

async fn serve_socket(state: MockState, ip: String, mut socket: WebSocket) {
    if !send(
        &mut socket,
        json!({ "type": "auth_required", "ha_version": "2025.4.4" }),
    )
    .await
    {
        return;
    }
    let Some(auth) = next(&mut socket).await else {
        return;
    };
    let access = auth
        .get("access_token")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some((user, session)) = authenticated(&state, access) else {
        state.home_assistant.failed(&ip);
        send(
            &mut socket,
            json!({ "type": "auth_invalid", "message": "Invalid access token or password" }),
        )
        .await;
        let _ = socket.send(Message::Close(None)).await;
        return;
    };
    state.home_assistant.succeeded(&ip);
    if !send(
        &mut socket,
        json!({ "type": "auth_ok", "ha_version": "2025.4.4" }),
    )
    .await
    {
        return;
    }
    let mut last_id = 0;
    while let Some(command) = next(&mut socket).await {
        // Our own token ended (by this socket or another): HA closes its sockets at once.
        if !state
            .store
            .session(&session.id)
            .is_some_and(|s| s.is_live(state.clock.now()))
        {
            let _ = socket.send(Message::Close(None)).await;
            return;
        }
        let id = command.get("id").and_then(Value::as_u64).unwrap_or(0);
        if id <= last_id {
            let error =
                json!({ "code": "id_reuse", "message": "Identifier values have to increase." });
            send(
                &mut socket,
                json!({ "id": id, "type": "result", "success": false, "error": error }),
            )
            .await;
            continue;
        }
        last_id = id;
        let answer = run(&state, &user, &session, &command);
        let closes = matches!(answer, Answer::CloseNow);
        match answer {
            Answer::Result(result) => {
                send(
                    &mut socket,
                    json!({ "id": id, "type": "result", "success": true, "result": result }),
                )
                .await;
            }
            Answer::Error(code, message) => {
                let error = json!({ "code": code, "message": message });
                send(
                    &mut socket,
                    json!({ "id": id, "type": "result", "success": false, "error": error }),
                )
                .await;
            }
            Answer::ResultThenEnd(result) => {
                send(
                    &mut socket,
                    json!({ "id": id, "type": "result", "success": true, "result": result }),
                )
                .await;
                // HA ends the calling token 2 s after answering (DELETE_CURRENT_TOKEN_DELAY).
                let state = state.clone();
                let ours = session.id.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                    state.store.end_session(&ours, state.clock.now());
                });
            }
            Answer::CloseNow => {}
        }
        if closes {
            let _ = socket.send(Message::Close(None)).await;
            return;
        }
    }
}

enum Answer {
    Result(Value),
    Error(&'static str, &'static str),
    /// Deleting every token, ours by default: answered, then ours ends 2 s later.
    ResultThenEnd(Value),
    /// Our own token deleted: the socket closes before any answer.
    CloseNow,
}

fn run(state: &MockState, user: &User, ours: &Session, command: &Value) -> Answer {
    let now = state.clock.now();
    let tokens = || {
        state
            .store
            .every_session_of(&user.id, now)
            .into_iter()
            .filter(|s| s.dialect == Dialect::HomeAssistant)
    };
    match command.get("type").and_then(Value::as_str) {
        Some("auth/refresh_tokens") => Answer::Result(Value::Array(
            tokens().map(|s| listed(&s, s.id == ours.id)).collect(),
        )),
        Some("auth/delete_refresh_token") => {
            let Some(id) = command.get("refresh_token_id").and_then(Value::as_str) else {
                return Answer::Error("invalid_format", "required key not provided");
            };
            if !tokens().any(|s| s.id == id) {
                return Answer::Error("invalid_token_id", "Received invalid token");
            }
            state.store.end_session(id, now);
            if id == ours.id {
                Answer::CloseNow
            } else {
                Answer::Result(json!({}))
            }
        }
        Some("auth/delete_all_refresh_tokens") => {
            let kind = command.get("token_type").and_then(Value::as_str);
            let and_ours = command
                .get("delete_current_token")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            for session in tokens().filter(|s| s.id != ours.id) {
                if kind.is_none_or(|k| k == token_type(&session)) {
                    state.store.end_session(&session.id, now);
                }
            }
            if and_ours {
                Answer::ResultThenEnd(json!({}))
            } else {
                Answer::Result(json!({}))
            }
        }
        _ => Answer::Error("unknown_command", "Unknown command."),
    }
}

/// A long-lived token has no client id (and so no user agent here), only a name.
fn token_type(session: &Session) -> &'static str {
    if session.user_agent.is_empty() && session.display_name.is_some() {
        "long_lived_access_token"
    } else {
        "normal"
    }
}

/// A token as `auth/refresh_tokens` lists it, µs and `+00:00` as HA writes times.
fn listed(session: &Session, current: bool) -> Value {
    let time = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string();
    let long_lived = token_type(session) == "long_lived_access_token";
    json!({
        "id": session.id,
        "type": token_type(session),
        "client_id": (!long_lived).then(|| session.user_agent.clone()),
        "client_name": if long_lived { session.display_name.clone() } else { None },
        "client_icon": long_lived.then_some("mdi:key"),
        "created_at": time(session.created_at),
        "last_used_at": time(session.last_active_at),
        "last_used_ip": if long_lived { None } else { session.ip.clone() },
        "expire_at": if long_lived { None } else { session.expires_at.map(time) },
        "is_current": current,
        "auth_provider_type": (!long_lived).then_some("homeassistant"),
    })
}
