//! The hostile server speaking Better Auth, Matrix and django-allauth (docs/apis.md §5–§7):
//! only what Session Warden asks of them, honest by default, hostile as the test sets it
//! (`hostile::Answer`). Each lists our session and the phone's; `OneIdTwice` lists the
//! phone's id again for an intruder, and a revoke ends the first row holding the id, as a
//! server keyed by it would.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::{Value, json};

use crate::hostile::{
    Answer, Extract, INTRUDER_IP, OUR_TOKEN, PASSWORD, PHONE_IP, PHONE_TOKEN, Shared, answer_of,
    huge_headers, quoted_secrets, quotes_on_revoke,
};

const CHROME_LINUX: &str = warden_mock::agents::CHROME_LINUX;
const SAFARI_IPHONE: &str = warden_mock::agents::SAFARI_IPHONE;
const CHROME_WINDOWS: &str = warden_mock::agents::CHROME_WINDOWS;

/// One listed session, whatever the API: its id, token, agent and address.
struct Row {
    id: &'static str,
    token: &'static str,
    agent: &'static str,
    ip: &'static str,
    ours: bool,
}

/// The rows the answer lists, with `phone_id` the id the phone (and the intruder) go by.
fn rows(state: &Shared, ours_id: &'static str, phone_id: &'static str) -> Vec<Row> {
    let seen = state.lock().unwrap_or_else(|p| p.into_inner());
    let mut rows = vec![Row {
        id: ours_id,
        token: OUR_TOKEN,
        agent: CHROME_LINUX,
        ip: "127.0.0.1",
        ours: true,
    }];
    let phone = Row {
        id: phone_id,
        token: PHONE_TOKEN,
        agent: SAFARI_IPHONE,
        ip: PHONE_IP,
        ours: false,
    };
    match seen.answer {
        Answer::OneIdTwice => {
            if seen.innocent_alive {
                rows.push(phone);
            }
            if seen.intruder_alive {
                rows.push(Row {
                    id: phone_id,
                    token: "intruder-token-77c0e2",
                    agent: CHROME_WINDOWS,
                    ip: INTRUDER_IP,
                    ours: false,
                });
            }
        }
        _ if seen.innocent_alive => rows.push(phone),
        _ => {}
    }
    rows
}

/// A revoke of `id`: counted, and the first row holding it ends.
fn revoked(state: &Shared, id: &str, phone_id: &str) {
    let mut seen = state.lock().unwrap_or_else(|p| p.into_inner());
    seen.revokes += 1;
    if id == phone_id {
        if seen.innocent_alive {
            seen.innocent_alive = false;
        } else {
            seen.intruder_alive = false;
        }
    }
}

/// What every API says when quoting secrets, in its own envelope.
fn quoting(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn has(headers: &HeaderMap, name: header::HeaderName, needle: &str) -> bool {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains(needle))
}

// --- Better Auth (docs/apis.md §5), at the app's root: routes under /api/auth/ -------------

const BA_OURS: &str = "ba-ours-session";
const BA_PHONE: &str = "ba-phone-session";

pub(crate) fn better_auth() -> Router<Shared> {
    Router::new()
        .route("/api/auth/sign-in/email", post(ba_sign_in))
        .route("/api/auth/get-session", get(ba_get_session))
        .route("/api/auth/list-sessions", get(ba_list))
        .route("/api/auth/revoke-session", post(ba_revoke))
        .route("/api/auth/revoke-other-sessions", post(ba_revoke_others))
        .route(
            "/api/auth/sign-out",
            post(|| async { "{\"success\":true}" }),
        )
}

fn ba_ours(headers: &HeaderMap) -> bool {
    has(headers, header::COOKIE, OUR_TOKEN)
}

fn ba_unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        axum::Json(json!({ "code": "UNAUTHORIZED" })),
    )
        .into_response()
}

async fn ba_sign_in(axum::Json(body): axum::Json<Value>) -> Response {
    if body["password"] != PASSWORD {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({
                "code": "INVALID_EMAIL_OR_PASSWORD", "message": "Invalid email or password",
            })),
        )
            .into_response();
    }
    (
        [(
            header::SET_COOKIE,
            format!("better-auth.session_token={OUR_TOKEN}.c2lnbmF0dXJl; Path=/; HttpOnly"),
        )],
        axum::Json(json!({ "redirect": false, "token": OUR_TOKEN, "user": { "id": "u1" } })),
    )
        .into_response()
}

async fn ba_get_session(headers: HeaderMap) -> Response {
    if !ba_ours(&headers) {
        return axum::Json(Value::Null).into_response();
    }
    axum::Json(json!({ "session": { "id": BA_OURS, "token": OUR_TOKEN }, "user": { "id": "u1" } }))
        .into_response()
}

async fn ba_list(axum::extract::State(state): Extract, headers: HeaderMap) -> Response {
    if !ba_ours(&headers) {
        return ba_unauthorized();
    }
    let rows: Vec<Value> = rows(&state, BA_OURS, BA_PHONE)
        .into_iter()
        .map(|r| {
            json!({
                "id": r.id, "token": r.token, "userId": "u1", "userAgent": r.agent,
                "ipAddress": r.ip, "createdAt": "2026-12-01T09:00:00.000Z",
                "updatedAt": "2026-12-02T10:00:00.000Z", "expiresAt": "2026-12-09T09:00:00.000Z",
            })
        })
        .collect();
    match answer_of(&state) {
        Answer::QuotesSecrets => quoting(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "message": quoted_secrets() }),
        ),
        Answer::HugeHeaders => huge_headers(Value::from(rows).to_string()),
        _ => axum::Json(rows).into_response(),
    }
}

async fn ba_revoke(
    axum::extract::State(state): Extract,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if !ba_ours(&headers) {
        return ba_unauthorized();
    }
    let token = body["token"].as_str().unwrap_or_default().to_owned();
    if quotes_on_revoke(answer_of(&state)) {
        state.lock().unwrap_or_else(|p| p.into_inner()).revokes += 1;
        return quoting(
            StatusCode::BAD_REQUEST,
            json!({ "message": format!("no session {token}: {}", quoted_secrets()) }),
        );
    }
    // The server finds the session by the token it was sent: the first row holding the
    // id the client looked it up by, here the phone's.
    let id = if token == OUR_TOKEN {
        BA_OURS
    } else {
        BA_PHONE
    };
    revoked(&state, id, BA_PHONE);
    axum::Json(json!({ "status": true })).into_response()
}

async fn ba_revoke_others(axum::extract::State(state): Extract, headers: HeaderMap) -> Response {
    if !ba_ours(&headers) {
        return ba_unauthorized();
    }
    let mut seen = state.lock().unwrap_or_else(|p| p.into_inner());
    seen.revokes += 1;
    seen.innocent_alive = false;
    seen.intruder_alive = false;
    axum::Json(json!({ "status": true })).into_response()
}

// --- Matrix (docs/apis.md §6) --------------------------------------------------------------

const MX_OURS: &str = "OURDEVICE";
const MX_PHONE: &str = "PHONEDEVICE";

pub(crate) fn matrix() -> Router<Shared> {
    Router::new()
        .route(
            "/_matrix/client/v3/login",
            get(|| async { axum::Json(json!({ "flows": [{ "type": "m.login.password" }] })) })
                .post(mx_login),
        )
        .route("/_matrix/client/v3/devices", get(mx_list))
        .route("/_matrix/client/v3/devices/{id}", delete(mx_revoke))
        .route("/_matrix/client/v3/delete_devices", post(mx_revoke_others))
        .route("/_matrix/client/v3/logout", post(|| async { "{}" }))
}

fn mx_ours(headers: &HeaderMap) -> bool {
    has(headers, header::AUTHORIZATION, OUR_TOKEN)
}

fn mx_unknown_token() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        axum::Json(json!({ "errcode": "M_UNKNOWN_TOKEN", "error": "Unknown access token" })),
    )
        .into_response()
}

async fn mx_login(axum::Json(body): axum::Json<Value>) -> Response {
    if body["password"] != PASSWORD {
        return (
            StatusCode::FORBIDDEN,
            axum::Json(
                json!({ "errcode": "M_FORBIDDEN", "error": "Invalid username or password" }),
            ),
        )
            .into_response();
    }
    axum::Json(json!({
        "access_token": OUR_TOKEN, "device_id": MX_OURS, "user_id": "@me:localhost",
    }))
    .into_response()
}

async fn mx_list(axum::extract::State(state): Extract, headers: HeaderMap) -> Response {
    if !mx_ours(&headers) {
        return mx_unknown_token();
    }
    let devices: Vec<Value> = rows(&state, MX_OURS, MX_PHONE)
        .into_iter()
        .map(|r| {
            let name = if r.ours {
                "Session Warden"
            } else {
                "Element on iPhone"
            };
            json!({
                "device_id": r.id, "display_name": name, "last_seen_ip": r.ip,
                "last_seen_ts": 1_764_669_600_000_i64,
            })
        })
        .collect();
    let body = json!({ "devices": devices });
    match answer_of(&state) {
        Answer::QuotesSecrets => quoting(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "errcode": "M_UNKNOWN", "error": quoted_secrets() }),
        ),
        Answer::HugeHeaders => huge_headers(body.to_string()),
        _ => axum::Json(body).into_response(),
    }
}

/// User-Interactive Auth: first the challenge, then the password.
fn mx_challenge(body: &Value) -> Option<Response> {
    if body.get("auth").is_some() {
        return None;
    }
    Some(
        (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({
                "flows": [{ "stages": ["m.login.password"] }], "params": {}, "session": "uia-1",
            })),
        )
            .into_response(),
    )
}

async fn mx_revoke(
    axum::extract::State(state): Extract,
    Path(id): Path<String>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if !mx_ours(&headers) {
        return mx_unknown_token();
    }
    if let Some(challenge) = mx_challenge(&body) {
        return challenge;
    }
    if quotes_on_revoke(answer_of(&state)) {
        state.lock().unwrap_or_else(|p| p.into_inner()).revokes += 1;
        return quoting(
            StatusCode::BAD_REQUEST,
            json!({ "errcode": "M_UNKNOWN", "error": format!("{id}: {}", quoted_secrets()) }),
        );
    }
    revoked(&state, &id, MX_PHONE);
    axum::Json(json!({})).into_response()
}

async fn mx_revoke_others(
    axum::extract::State(state): Extract,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if !mx_ours(&headers) {
        return mx_unknown_token();
    }
    if let Some(challenge) = mx_challenge(&body) {
        return challenge;
    }
    for id in body["devices"].as_array().into_iter().flatten() {
        revoked(&state, id.as_str().unwrap_or_default(), MX_PHONE);
    }
    axum::Json(json!({})).into_response()
}

// --- django-allauth (docs/apis.md §7) ------------------------------------------------------

const AA_OURS: &str = "1";
const AA_PHONE: &str = "7";
const AA_API: &str = "/_allauth/app/v1/";

pub(crate) fn allauth() -> Router<Shared> {
    Router::new()
        .route(&format!("{AA_API}auth/login"), post(aa_login))
        .route(
            &format!("{AA_API}auth/sessions"),
            get(aa_list).delete(aa_revoke),
        )
        .route(
            &format!("{AA_API}auth/session"),
            delete(|| async { (StatusCode::UNAUTHORIZED, "{\"status\":401}") }),
        )
}

fn aa_ours(headers: &HeaderMap) -> bool {
    headers
        .get("x-session-token")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == OUR_TOKEN)
}

fn aa_gone() -> Response {
    (StatusCode::GONE, axum::Json(json!({ "status": 410 }))).into_response()
}

fn aa_error(status: StatusCode, message: String) -> Response {
    quoting(
        status,
        json!({ "status": status.as_u16(), "errors": [{ "message": message, "code": "invalid" }] }),
    )
}

async fn aa_login(axum::Json(body): axum::Json<Value>) -> Response {
    if body["password"] != PASSWORD {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "status": 400, "errors": [{
                "message": "The email address and/or password you specified are not correct.",
                "code": "email_password_mismatch", "param": "password",
            }] })),
        )
            .into_response();
    }
    axum::Json(json!({
        "status": 200, "data": { "user": { "id": 1 } },
        "meta": { "is_authenticated": true, "session_token": OUR_TOKEN },
    }))
    .into_response()
}

fn aa_rows(state: &Shared) -> Vec<Value> {
    rows(state, AA_OURS, AA_PHONE)
        .into_iter()
        .map(|r| {
            json!({
                "id": r.id.parse::<i64>().unwrap_or_default(), "user_agent": r.agent,
                "ip": r.ip, "created_at": 1_764_579_600.0, "last_seen_at": 1_764_669_600.0,
                "is_current": r.ours,
            })
        })
        .collect()
}

async fn aa_list(axum::extract::State(state): Extract, headers: HeaderMap) -> Response {
    if !aa_ours(&headers) {
        return aa_gone();
    }
    let body = json!({ "status": 200, "data": aa_rows(&state) });
    match answer_of(&state) {
        Answer::QuotesSecrets => aa_error(StatusCode::INTERNAL_SERVER_ERROR, quoted_secrets()),
        Answer::HugeHeaders => huge_headers(body.to_string()),
        _ => axum::Json(body).into_response(),
    }
}

async fn aa_revoke(
    axum::extract::State(state): Extract,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if !aa_ours(&headers) {
        return aa_gone();
    }
    if quotes_on_revoke(answer_of(&state)) {
        state.lock().unwrap_or_else(|p| p.into_inner()).revokes += 1;
        return aa_error(StatusCode::BAD_REQUEST, quoted_secrets());
    }
    for id in body["sessions"].as_array().into_iter().flatten() {
        revoked(&state, &id.to_string(), AA_PHONE);
    }
    axum::Json(json!({ "status": 200, "data": aa_rows(&state) })).into_response()
}
