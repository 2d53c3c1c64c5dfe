//! Response pieces every API uses: JSON error bodies and cookies.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A request refused before its handler ran: the response to send instead. Boxed, since a
/// `Response` is large and most requests are not refused.
pub type Refusal = Box<Response>;

/// `{"error": message}` with `status`, the shape all four APIs use for errors.
pub fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// `{"error": message, "code": code}`, node-auth's machine-readable errors.
pub fn coded_error(status: StatusCode, message: &str, code: &str) -> Response {
    (status, Json(json!({ "error": message, "code": code }))).into_response()
}

/// The value of cookie `name` in the request, if sent.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

/// The bearer token of an `Authorization` header.
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// Adds a `Set-Cookie` header (several may be set on one response).
pub fn set_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// What Express's `res.clearCookie(name)` sends.
pub fn clear_cookie(response: Response, name: &str, path: &str) -> Response {
    set_cookie(
        response,
        &format!("{name}=; Path={path}; Expires=Thu, 01 Jan 1970 00:00:00 GMT"),
    )
}
