//! Who is calling: the socket peer, and the client address a proxy header claims.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

/// Only a loopback peer may use the control API: it can read and forge any session.
pub struct LoopbackOnly;

impl<S: Send + Sync> FromRequestParts<S> for LoopbackOnly {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        match peer {
            Some(ip) if ip.is_loopback() => Ok(LoopbackOnly),
            _ => Err((
                StatusCode::FORBIDDEN,
                axum::Json(serde_json::json!({
                    "error": "the mock's control API answers loopback clients only"
                })),
            )
                .into_response()),
        }
    }
}

/// Where a request comes from: the proxy headers it carries and the socket peer. Each API
/// reads them in its own order.
pub struct ClientAddr {
    forwarded_for: Option<String>,
    real_ip: Option<String>,
    socket: Option<std::net::IpAddr>,
}

impl ClientAddr {
    /// hectoday: the first `X-Forwarded-For` entry, or nothing ("unknown" on the wire).
    pub fn forwarded(&self) -> Option<String> {
        self.forwarded_for.clone()
    }

    /// Express with `trust proxy` (SecureAuth, node-auth): the forwarded address, else the socket.
    pub fn express(&self) -> Option<String> {
        self.forwarded_for
            .clone()
            .or_else(|| self.socket.map(|ip| ip.to_string()))
    }

    /// RTC: `X-Forwarded-For`, then `X-Real-IP`, then the socket.
    pub fn rtc(&self) -> Option<String> {
        self.forwarded_for
            .clone()
            .or_else(|| self.real_ip.clone())
            .or_else(|| self.socket.map(|ip| ip.to_string()))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr {
            forwarded_for: forwarded_for(&parts.headers),
            real_ip: parts
                .headers
                .get("x-real-ip")
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty()),
            socket: parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip()),
        })
    }
}

/// The first `X-Forwarded-For` entry, as the hectoday course reads it.
pub fn forwarded_for(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-forwarded-for")?
        .to_str()
        .ok()?
        .split(',')
        .next()
        .map(|ip| ip.trim().to_owned())
        .filter(|ip| !ip.is_empty())
}

pub fn user_agent(headers: &HeaderMap) -> String {
    headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
