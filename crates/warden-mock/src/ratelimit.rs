//! SecureAuth's rate limit on `/api/`: 1000 requests per 15 minutes per client address,
//! answered as express-rate-limit does (plain-text 429, `X-RateLimit-*`, `Retry-After`).
//! Windows follow the mock's clock, so a test can wait one out by advancing it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};

use crate::MockState;

pub const LIMIT: u32 = 1000;
pub const WINDOW: Duration = Duration::minutes(15);
const MESSAGE: &str = "Too many requests, please try again later.";

/// Fixed windows per client address.
#[derive(Default)]
pub struct RateLimit {
    windows: Mutex<HashMap<String, (DateTime<Utc>, u32)>>,
}

impl RateLimit {
    /// Counts a hit; returns the hits so far in this window and when the window ends.
    fn hit(&self, client: String, now: DateTime<Utc>) -> (u32, DateTime<Utc>) {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        // Forget finished windows now and then, so a flood of addresses cannot grow it forever.
        if windows.len() > 10_000 {
            windows.retain(|_, (start, _)| now - *start < WINDOW);
        }
        let window = windows.entry(client).or_insert((now, 0));
        if now - window.0 >= WINDOW {
            *window = (now, 0);
        }
        window.1 += 1;
        (window.1, window.0 + WINDOW)
    }

    pub fn clear(&self) {
        self.windows
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

pub async fn limit(State(state): State<MockState>, request: Request, next: Next) -> Response {
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_default();
    let now = state.clock.now();
    let (hits, reset) = state.rate_limit.hit(client, now);
    let mut response = if hits > LIMIT {
        let mut response = (StatusCode::TOO_MANY_REQUESTS, MESSAGE).into_response();
        let wait = (reset - now).num_seconds().max(1);
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from(wait));
        response
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    headers.insert("x-ratelimit-limit", HeaderValue::from(LIMIT));
    headers.insert(
        "x-ratelimit-remaining",
        HeaderValue::from(LIMIT.saturating_sub(hits)),
    );
    headers.insert(
        "x-ratelimit-reset",
        HeaderValue::from((reset.timestamp_millis() + 999) / 1000),
    );
    response
}
