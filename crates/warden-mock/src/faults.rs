//! Faults per route, switched on and off through the control API: added latency, an error
//! status at a rate, a malformed or truncated body, a body of N MB, a request that hangs.
//! Each is what a real server or the network in front of it does on a bad day; clients
//! must come through all of them.

use std::sync::Mutex;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::MockState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BodyFault {
    /// Broken JSON with a JSON content type.
    Malformed,
    /// Half the body arrives, then the connection closes.
    Truncated,
}

/// One fault, as `POST /__mock/faults` takes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultSpec {
    /// A path prefix under the server's root: `/hectoday/me/sessions`, `/rtc`, or `/` for all.
    pub route: String,
    /// Only this method (`GET`, `DELETE`…); every method when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Added to every matching request, before anything else.
    #[serde(default)]
    pub latency_ms: u64,
    /// The share of matching requests that fail (0 to 1), spread evenly: 0.5 fails every
    /// second request. Latency applies to all of them.
    #[serde(default = "always")]
    pub rate: f64,
    /// Fail with this status instead of answering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// With `status`: a `Retry-After` header, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<BodyFault>,
    /// Pad the real answer with whitespace to this many megabytes (still valid JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_mb: Option<f64>,
    /// Never answer, until the fault is removed or the server stops.
    #[serde(default)]
    pub hang: bool,
    /// Remove the fault after it has failed this many requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
}

fn always() -> f64 {
    1.0
}

impl FaultSpec {
    pub fn validate(&self) -> Result<(), String> {
        if !self.route.starts_with('/') {
            return Err(format!("route {:?} must start with /", self.route));
        }
        if self.route.starts_with("/__mock") {
            return Err("the control API cannot be faulted".into());
        }
        if !(0.0..=1.0).contains(&self.rate) {
            return Err(format!("rate {} is not between 0 and 1", self.rate));
        }
        if let Some(status) = self.status
            && StatusCode::from_u16(status).is_err()
        {
            return Err(format!("{status} is not an HTTP status"));
        }
        if self.size_mb.is_some_and(|mb| !(0.0..=512.0).contains(&mb)) {
            return Err("sizeMb must be between 0 and 512".into());
        }
        Ok(())
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        path.starts_with(&self.route)
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    pub id: u64,
    #[serde(flatten)]
    pub spec: FaultSpec,
    /// Matching requests so far.
    pub hits: u64,
    /// Requests it failed so far.
    pub failed: u64,
}

/// What to do to one request.
struct Verdict {
    fault_id: u64,
    latency: Duration,
    fail: Option<FaultSpec>,
}

pub struct Faults {
    faults: Mutex<(u64, Vec<Fault>)>,
    /// Bumped when the faults change or the server stops, to release hung requests.
    changed: watch::Sender<u64>,
    stopping: std::sync::atomic::AtomicBool,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            faults: Mutex::default(),
            changed: watch::channel(0).0,
            stopping: Default::default(),
        }
    }
}

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, Vec<Fault>)> {
        self.faults.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn bump(&self) {
        self.changed.send_modify(|g| *g += 1);
    }

    pub fn add(&self, spec: FaultSpec) -> u64 {
        let id = {
            let mut faults = self.lock();
            faults.0 += 1;
            let id = faults.0;
            faults.1.push(Fault {
                id,
                spec,
                hits: 0,
                failed: 0,
            });
            id
        };
        self.bump();
        id
    }

    pub fn list(&self) -> Vec<Fault> {
        self.lock().1.clone()
    }

    pub fn remove(&self, id: u64) -> bool {
        let removed = {
            let mut faults = self.lock();
            let before = faults.1.len();
            faults.1.retain(|f| f.id != id);
            faults.1.len() < before
        };
        self.bump();
        removed
    }

    pub fn clear(&self) {
        self.lock().1.clear();
        self.bump();
    }

    /// The server is stopping: hung requests return so the port can close.
    pub fn release_all(&self) {
        self.stopping
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.bump();
    }

    /// The newest fault matching the request decides; failures are spread evenly at its rate.
    fn judge(&self, method: &str, path: &str) -> Option<Verdict> {
        let mut faults = self.lock();
        let index = faults
            .1
            .iter()
            .rposition(|f| f.spec.matches(method, path))?;
        let fault = &mut faults.1[index];
        let before = (fault.hits as f64 * fault.spec.rate).floor();
        fault.hits += 1;
        let fails = (fault.hits as f64 * fault.spec.rate).floor() > before;
        if fails {
            fault.failed += 1;
        }
        let verdict = Verdict {
            fault_id: fault.id,
            latency: Duration::from_millis(fault.spec.latency_ms),
            fail: fails.then(|| fault.spec.clone()),
        };
        if fault.spec.times.is_some_and(|n| fault.failed >= n) {
            faults.1.remove(index);
        }
        Some(verdict)
    }

    fn present(&self, id: u64) -> bool {
        self.lock().1.iter().any(|f| f.id == id)
    }

    async fn hang(&self, id: u64) {
        let mut changed = self.changed.subscribe();
        while self.present(id) && !self.stopping.load(std::sync::atomic::Ordering::Relaxed) {
            if changed.changed().await.is_err() {
                return;
            }
        }
    }
}

pub async fn apply(State(state): State<MockState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let verdict = state.faults.judge(request.method().as_str(), &path);
    let Some(verdict) = verdict else {
        return next.run(request).await;
    };
    if !verdict.latency.is_zero() {
        tokio::time::sleep(verdict.latency).await;
    }
    let Some(fail) = verdict.fail else {
        return next.run(request).await;
    };
    if fail.hang {
        state.faults.hang(verdict.fault_id).await;
    }
    if let Some(status) = fail.status.and_then(|s| StatusCode::from_u16(s).ok()) {
        let reason = status.canonical_reason().unwrap_or("Error");
        let mut response =
            (status, axum::Json(serde_json::json!({ "error": reason }))).into_response();
        if let Some(seconds) = fail.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        return response;
    }
    let response = next.run(request).await;
    if fail.body.is_none() && fail.size_mb.is_none() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    match fail.body {
        Some(BodyFault::Malformed) => {
            parts.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            Response::from_parts(parts, Body::from(r#"{"sessions": [{"id": "1",, }"#))
        }
        Some(BodyFault::Truncated) => {
            // Promise the whole body, send half, then fail the stream: hyper closes the
            // connection, and the client sees the message end early.
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            // The pause lets hyper flush the headers and the first half before the error.
            let half = bytes.slice(..bytes.len() / 2);
            let chunks = futures_util::stream::unfold(Some(half), |half| async move {
                match half {
                    Some(half) => Some((Ok::<Bytes, std::io::Error>(half), None)),
                    None => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Some((Err(std::io::Error::other("truncated by a fault")), None))
                    }
                }
            });
            Response::from_parts(parts, Body::from_stream(chunks))
        }
        None => {
            let target = (fail.size_mb.unwrap_or(0.0) * 1024.0 * 1024.0) as usize;
            let mut padded = bytes.to_vec();
            padded.resize(target.max(bytes.len()), b' ');
            Response::from_parts(parts, Body::from(padded))
        }
    }
}
