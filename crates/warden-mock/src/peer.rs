//! Who is calling: the socket peer, and the client address a proxy header claims.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

/// Only a loopback client may use the control API: it can read and forge any session. A
/// loopback peer is not enough: a web page in the person's browser is one too, through DNS
/// rebinding (its own name resolving to 127.0.0.1) or a cross-site request. So the `Host`
/// must also name loopback, and an `Origin`, when there is one, must be loopback too.
pub struct LoopbackOnly;

impl<S: Send + Sync> FromRequestParts<S> for LoopbackOnly {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let refuse = |why: &str| -> Response {
            (
                StatusCode::FORBIDDEN,
                axum::Json(serde_json::json!({
                    "error": format!("the mock's control API answers loopback clients only ({why})")
                })),
            )
                .into_response()
        };
        if !peer.is_some_and(is_loopback) {
            return Err(refuse("the peer is not on this machine"));
        }
        let host = parts
            .headers
            .get(axum::http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .or_else(|| parts.uri.authority().map(|a| a.as_str()));
        if !host.is_some_and(names_loopback) {
            return Err(refuse("the Host is not a loopback name or address"));
        }
        if let Some(origin) = parts.headers.get(axum::http::header::ORIGIN) {
            let origin_host = origin
                .to_str()
                .ok()
                .and_then(|o| o.parse::<axum::http::Uri>().ok())
                .and_then(|uri| uri.authority().map(|a| a.as_str().to_owned()));
            if !origin_host.is_some_and(|h| names_loopback(&h)) {
                return Err(refuse("a web page of another origin sent it"));
            }
        }
        Ok(LoopbackOnly)
    }
}

/// Loopback, v4-mapped loopback included (`--bind ::` sees IPv4 peers as `::ffff:127.0.0.1`).
pub fn is_loopback(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => v4.is_loopback(),
        std::net::IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Whether a `Host` (or an origin's authority: `name[:port]`, `[v6][:port]`) names this
/// machine: `localhost`, `*.localhost`, a loopback address.
pub fn names_loopback(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(h, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                h
            } else {
                authority
            }
        }),
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(is_loopback)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_and_addresses_are_told_apart_from_others() {
        for ok in [
            "127.0.0.1:8787",
            "localhost",
            "LOCALHOST:1",
            "[::1]:80",
            "127.9.9.9",
            "app.localhost:3000",
            "[::ffff:127.0.0.1]:8787",
        ] {
            assert!(names_loopback(ok), "{ok}");
        }
        for no in [
            "evil.example:8787",
            "127.0.0.1.evil.example",
            "10.0.0.1:80",
            "[::ffff:10.0.0.1]",
            "localhost.evil.example",
            "",
        ] {
            assert!(!names_loopback(no), "{no}");
        }
        assert!(is_loopback("::ffff:127.0.0.1".parse().expect("an address")));
    }
}
