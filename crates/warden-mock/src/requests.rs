//! How many requests each API route was sent, for tests that must know who polls and how
//! often (`GET /__mock/requests`). Counted by method and path, with ids left out (a session id
//! in a path becomes `{id}`), so a count names a route, never a session.

use std::collections::BTreeMap;
use std::sync::Mutex;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::MockState;

#[derive(Default)]
pub struct Requests(Mutex<BTreeMap<String, u64>>);

impl Requests {
    fn count(&self, route: String) {
        *self
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(route)
            .or_default() += 1;
    }

    /// "GET /hectoday/me/sessions" → how many so far.
    pub fn counts(&self) -> BTreeMap<String, u64> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

/// The route a request names: its method and path, with the segment after `sessions/`
/// (an id) written `{id}`.
fn route_of(method: &str, path: &str) -> String {
    let mut segments: Vec<&str> = path.split('/').collect();
    for i in 1..segments.len() {
        if segments[i - 1] == "sessions"
            && !segments[i].is_empty()
            && segments[i] != "others"
            && segments[i] != "revoke-all"
            && segments[i] != "cleanup"
        {
            segments[i] = "{id}";
        }
    }
    format!("{method} {}", segments.join("/"))
}

/// Middleware: counts every request to the APIs.
pub async fn count(State(state): State<MockState>, request: Request, next: Next) -> Response {
    state
        .requests
        .count(route_of(request.method().as_str(), request.uri().path()));
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_names_no_session() {
        assert_eq!(
            route_of("DELETE", "/hectoday/me/sessions/cookie-value"),
            "DELETE /hectoday/me/sessions/{id}"
        );
        assert_eq!(
            route_of("GET", "/hectoday/me/sessions"),
            "GET /hectoday/me/sessions"
        );
        assert_eq!(
            route_of("DELETE", "/secureauth/api/auth/sessions/others"),
            "DELETE /secureauth/api/auth/sessions/others"
        );
    }
}
