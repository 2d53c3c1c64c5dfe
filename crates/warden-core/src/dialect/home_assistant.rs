//! Home Assistant (docs/apis.md §10): an account's sessions are its refresh tokens. We sign
//! in through the login flow (with its TOTP step) as the client `CLIENT_ID`, keep the
//! refresh token, and renew the 30-minute access tokens with it; listing, revoking and
//! signing out the others go over the WebSocket API (`auth/refresh_tokens`,
//! `auth/delete_refresh_token`, `auth/delete_all_refresh_tokens`).
//!
//! Home Assistant counts every refused credential as a failed login of the address it came
//! from, and can ban that address — the person's own, and everyone's behind their router.
//! So: an access token is renewed before it runs out, never sent expired; a refused refresh
//! token is never tried again, and Session Warden never signs in again by itself (only the
//! person does); no request carries `X-Forwarded-For` (an HA not set up for it answers 400).

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use super::{CallError, Ctx, wire_time};
use crate::accounts::account::AccountId;
use crate::dialect::http;
use crate::error::{Error, Result};
use crate::prompt::{CodePrompt, CodeRequest};
use crate::secret::Secret;
use crate::session::{Device, DeviceKind, Session, SessionId};

/// Who Session Warden is to Home Assistant: the client id every token of ours carries, and
/// what the person sees in their profile's list. An https URL on a domain, with the
/// redirect on the same origin, so HA never fetches it (docs/apis.md §10).
pub(crate) const CLIENT_ID: &str = "https://session-warden.app/";
const REDIRECT_URI: &str = "https://session-warden.app/auth-callback";

/// The official apps' client ids (HA knows them by these).
const IOS_APP: &str = "https://home-assistant.io/iOS";
const ANDROID_APP: &str = "https://home-assistant.io/android";

/// An access token this close to its end is renewed instead of sent: an expired one is a
/// failed login to HA, and clocks differ a little.
const RENEW_BEFORE: TimeDelta = TimeDelta::minutes(2);

/// How coarse a token's `last_used_*` is: HA moves them only when it issues an access
/// token, every 30 minutes at most while a client is in use.
pub(crate) const ACTIVITY_GRANULARITY: TimeDelta = TimeDelta::minutes(30);

/// What HA knows of its sessions, for the window (hover) and `warden sessions`.
pub(crate) const WHAT_IS_KNOWN: &str = "Home Assistant keeps no browser or system for a \
    sign-in, only the app or site that made it; its address and time are those of its last \
    renewal (every 30 minutes while in use), not of its last use";

/// Our two tokens, kept as one secret: "refresh\naccess".
struct Pair {
    refresh: Secret,
    access: Secret,
}

impl Pair {
    fn from_secret(token: &Secret) -> Result<Pair> {
        let (refresh, access) = super::split_held(token, "Home Assistant")?;
        Ok(Pair {
            refresh: Secret::new(refresh),
            access: Secret::new(access),
        })
    }

    fn into_secret(self) -> Secret {
        super::join_held(self.refresh.expose(), self.access.expose())
    }

    /// The id of our refresh token: the access token's `iss` (read, not verified).
    fn id(&self) -> Option<String> {
        super::jwt_claim(self.access.expose(), "iss")
    }

    /// Whether the access token is (nearly) spent at `now`. One that does not say when it
    /// ends is taken as spent: renewing is harmless, a refused token is not.
    fn spent(&self, now: DateTime<Utc>) -> bool {
        super::jwt_time(self.access.expose(), "exp").is_none_or(|exp| exp - RENEW_BEFORE <= now)
    }
}

/// Our refresh token's id: the `iss` of the access token we hold.
pub(crate) fn own_id(token: &Secret) -> Option<String> {
    Pair::from_secret(token).ok()?.id()
}

#[derive(Deserialize)]
struct Step {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    flow_id: Option<String>,
    #[serde(default)]
    step_id: Option<String>,
    #[serde(default)]
    result: Option<String>,
    #[serde(default)]
    errors: Option<Value>,
    #[serde(default)]
    reason: Option<String>,
}

impl Step {
    fn error(&self) -> Option<&str> {
        self.errors.as_ref()?.get("base")?.as_str()
    }
}

#[derive(Deserialize)]
struct Tokens {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
}

/// Signs in through the login flow. Only with the person there: Session Warden never
/// signs in again by itself, so a changed password is never tried poll after poll (each a
/// failed login to HA, and a ban where HA bans).
pub(crate) async fn login(
    ctx: &Ctx<'_>,
    user: &str,
    password: &Secret,
    prompt: &Arc<dyn CodePrompt>,
) -> Result<Secret> {
    if !prompt.can_answer() {
        return Err(Error::NeedsSignIn {
            account: ctx.label.to_owned(),
            reason: "Home Assistant no longer accepts Session Warden's sign-in (it was signed \
                     out, or unused for 90 days), and Session Warden does not sign in there by \
                     itself: a refused try counts against your address"
                .into(),
        });
    }
    let start = json!({
        "client_id": CLIENT_ID,
        "handler": ["homeassistant", null],
        "redirect_uri": REDIRECT_URI,
    });
    let response = http::send(ctx.http.post(ctx.endpoint("auth/login_flow")?).json(&start)).await?;
    let flow = match response.status {
        StatusCode::OK => response.json::<Step>()?,
        StatusCode::BAD_REQUEST if response.error_message().contains("onboarding") => {
            return Err(Error::Refused(
                "this Home Assistant is not set up yet: finish its onboarding first".into(),
            ));
        }
        _ => return Err(response.server_error()),
    };
    let flow_id = flow
        .flow_id
        .ok_or_else(|| Error::Protocol("Home Assistant started no login flow".into()))?;
    let step_url = ctx.endpoint_with_id("auth/login_flow/", &Secret::new(flow_id.as_str()))?;
    let send = |body: Value| {
        let url = step_url.clone();
        async move { http::send(ctx.http.post(url).json(&body)).await }
    };
    let mut step = read_step(
        send(json!({ "client_id": CLIENT_ID, "username": user, "password": password.expose() }))
            .await?,
    )?;
    if step.kind == "form" && step.step_id.as_deref() == Some("mfa") {
        let code = ctx.ask(prompt, CodeRequest::Totp).await?;
        step = read_step(
            send(json!({ "client_id": CLIENT_ID, "code": code.expose().trim() })).await?,
        )?;
        if step.error() == Some("invalid_code") {
            return Err(Error::BadCode(
                "Home Assistant did not accept the authenticator code".into(),
            ));
        }
    }
    let code = match (step.kind.as_str(), step.error()) {
        ("create_entry", _) => step
            .result
            .ok_or_else(|| Error::Protocol("Home Assistant signed us in with no code".into()))?,
        (_, Some("invalid_auth")) => {
            return Err(Error::BadCredentials {
                login: user.to_owned(),
            });
        }
        ("abort", _) => {
            return Err(Error::Refused(format!(
                "Home Assistant ended the sign-in ({})",
                crate::dialect::server_text::clean_error(
                    step.reason.as_deref().unwrap_or("no reason")
                )
            )));
        }
        _ => {
            return Err(Error::Protocol(format!(
                "Home Assistant asked for a sign-in step Session Warden does not know ({})",
                crate::dialect::server_text::clean_error(step.step_id.as_deref().unwrap_or("none"))
            )));
        }
    };
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("client_id", CLIENT_ID),
    ];
    let response = http::send(ctx.http.post(ctx.endpoint("auth/token")?).form(&form)).await?;
    if response.status != StatusCode::OK {
        return Err(response.server_error());
    }
    let tokens: Tokens = response.json()?;
    let refresh = tokens.refresh_token.ok_or_else(|| {
        Error::Protocol("Home Assistant signed us in but gave no refresh token".into())
    })?;
    Ok(Pair {
        refresh: Secret::new(refresh),
        access: Secret::new(tokens.access_token),
    }
    .into_secret())
}

/// A login flow's answer: HA answers a wrong password with 200 and the form again; 403
/// "Invalid redirect URI" and 400 "IP address changed" are its other refusals.
fn read_step(response: http::Response) -> Result<Step> {
    match response.status {
        StatusCode::OK => response.json(),
        StatusCode::BAD_REQUEST | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND => {
            Err(Error::Refused(format!(
                "Home Assistant refused the sign-in: {}",
                response.error_message()
            )))
        }
        _ => Err(response.server_error()),
    }
}

/// A new access token from our refresh token. `Ok(None)`: HA refused the refresh token
/// (deleted, or 90 days unused), which is final: it is never sent again.
pub(crate) async fn renew(ctx: &Ctx<'_>, token: &Secret) -> Result<Option<Secret>> {
    let pair = Pair::from_secret(token)?;
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", pair.refresh.expose()),
        ("client_id", CLIENT_ID),
    ];
    let response = http::send(ctx.http.post(ctx.endpoint("auth/token")?).form(&form)).await?;
    match response.status {
        StatusCode::OK => {
            let tokens: Tokens = response.json()?;
            Ok(Some(
                Pair {
                    refresh: pair.refresh,
                    access: Secret::new(tokens.access_token),
                }
                .into_secret(),
            ))
        }
        // `{"error": "invalid_grant"}`: OAuth's shape, the message field to us.
        StatusCode::BAD_REQUEST if response.error_message() == "invalid_grant" => {
            tracing::info!(account = %ctx.account, "Home Assistant refused our refresh token");
            Ok(None)
        }
        _ => Err(response.server_error()),
    }
}

/// Ends our own sign-in (when the account is removed): RFC 7009 revocation by the refresh
/// token, which HA answers 200 whatever it was.
pub(crate) async fn logout(ctx: &Ctx<'_>, token: &Secret) -> Result<()> {
    let pair = Pair::from_secret(token)?;
    let form = [("token", pair.refresh.expose())];
    let response = http::send(ctx.http.post(ctx.endpoint("auth/revoke")?).form(&form)).await?;
    match response.status {
        s if s.is_success() => Ok(()),
        _ => Err(response.server_error()),
    }
}

pub(crate) async fn list(ctx: &Ctx<'_>, token: &Secret) -> Result<Vec<Session>, CallError> {
    let pair = Pair::from_secret(token)?;
    let result = command(ctx, &pair, json!({ "type": "auth/refresh_tokens" })).await?;
    let wire: Vec<WireToken> = serde_json::from_value(result).map_err(http::unreadable)?;
    Ok(into_sessions(ctx.account, wire, pair.id().as_deref()))
}

pub(crate) async fn revoke(
    ctx: &Ctx<'_>,
    token: &Secret,
    server_id: &Secret,
) -> Result<(), CallError> {
    let pair = Pair::from_secret(token)?;
    command(
        ctx,
        &pair,
        json!({ "type": "auth/delete_refresh_token", "refresh_token_id": server_id.expose() }),
    )
    .await
    .map(drop)
}

/// Every other sign-in of the person's: normal tokens only (never the long-lived tokens of
/// their integrations and scripts), and never ours (HA's default would end it 2 s later).
pub(crate) async fn sign_out_others(ctx: &Ctx<'_>, token: &Secret) -> Result<(), CallError> {
    let pair = Pair::from_secret(token)?;
    command(
        ctx,
        &pair,
        json!({
            "type": "auth/delete_all_refresh_tokens",
            "token_type": "normal",
            "delete_current_token": false,
        }),
    )
    .await
    .map(drop)
}

/// One command over a WebSocket of its own: connect, authenticate with the access token
/// (renewed first when nearly spent: an expired one is a failed login to HA), send, and
/// read its result.
async fn command(ctx: &Ctx<'_>, pair: &Pair, mut command: Value) -> Result<Value, CallError> {
    if pair.spent(ctx.now) {
        return Err(CallError::Expired);
    }
    let url = websocket_url(ctx)?;
    let origin = ctx.base.origin().ascii_serialization();
    let exchange = async {
        let (mut socket, _) = tokio_tungstenite::connect_async_with_config(
            url.as_str(),
            Some(websocket_limits()),
            false,
        )
        .await
        .map_err(|e| websocket_error(&origin, e))?;
        expect(&mut socket, &origin, "auth_required").await?;
        let auth = json!({ "type": "auth", "access_token": pair.access.expose() });
        socket
            .send(Message::text(auth.to_string()))
            .await
            .map_err(|e| websocket_error(&origin, e))?;
        let answer = next_json(&mut socket, &origin).await?;
        match answer.get("type").and_then(Value::as_str) {
            Some("auth_ok") => {}
            // Our access token was not expired: the refresh token behind it is gone (HA
            // kills them all with it), and refreshing would be one more failed login.
            Some("auth_invalid") => return Err(CallError::Revoked),
            _ => return Err(unexpected(&answer).into()),
        }
        if let Some(map) = command.as_object_mut() {
            map.insert("id".into(), json!(1));
        }
        socket
            .send(Message::text(command.to_string()))
            .await
            .map_err(|e| websocket_error(&origin, e))?;
        // Deleting a token closes its sockets before any answer: ours is never deleted here,
        // so a close is a failure.
        let result = loop {
            let frame = next_json(&mut socket, &origin).await?;
            if frame.get("id").and_then(Value::as_u64) == Some(1) {
                break frame;
            }
        };
        let _ = socket.close(None).await;
        if result.get("success").and_then(Value::as_bool) == Some(true) {
            return Ok(result.get("result").cloned().unwrap_or(Value::Null));
        }
        let code = result.pointer("/error/code").and_then(Value::as_str);
        let message = result
            .pointer("/error/message")
            .and_then(Value::as_str)
            .map(crate::dialect::server_text::clean_error)
            .unwrap_or_default();
        Err(match code {
            Some("invalid_token_id") => Error::SessionNotFound("on the server".into()),
            Some("unauthorized") => Error::Refused(format!("Home Assistant refused: {message}")),
            _ => Error::Server {
                status: 200,
                message: format!("{} ({message})", code.unwrap_or("no code")),
            },
        }
        .into())
    };
    match tokio::time::timeout(http::REQUEST_TIMEOUT, exchange).await {
        Ok(answer) => answer,
        Err(_) => Err(Error::Timeout.into()),
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next text frame, as JSON (pings are answered by the library).
async fn next_json(socket: &mut Socket, origin: &str) -> Result<Value> {
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => {
                return serde_json::from_str(text.as_str()).map_err(http::unreadable);
            }
            Some(Ok(Message::Close(_))) | None => {
                return Err(Error::Unreachable {
                    url: origin.to_owned(),
                    reason: "Home Assistant closed the connection".into(),
                });
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(websocket_error(origin, e)),
        }
    }
}

async fn expect(socket: &mut Socket, origin: &str, kind: &str) -> Result<()> {
    let frame = next_json(socket, origin).await?;
    if frame.get("type").and_then(Value::as_str) == Some(kind) {
        Ok(())
    } else {
        Err(unexpected(&frame))
    }
}

fn unexpected(frame: &Value) -> Error {
    let kind = frame
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("no type");
    Error::Protocol(format!(
        "Home Assistant's WebSocket said {:?} where Session Warden expected otherwise",
        crate::dialect::server_text::clean_error(kind)
    ))
}

/// ws(s)://…/api/websocket, from the account's URL.
fn websocket_url(ctx: &Ctx<'_>) -> Result<url::Url> {
    let mut url = ctx.endpoint("api/websocket")?;
    let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
    url.set_scheme(scheme)
        .map_err(|()| Error::InvalidInput(format!("no WebSocket at {}", ctx.base)))?;
    Ok(url)
}

/// No message larger than a listing may be: a hostile server cannot exhaust memory.
fn websocket_limits() -> tokio_tungstenite::tungstenite::protocol::WebSocketConfig {
    tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(http::MAX_BODY_BYTES))
        .max_frame_size(Some(http::MAX_BODY_BYTES))
}

/// A WebSocket failure in words, naming the server by its origin only.
fn websocket_error(origin: &str, e: tokio_tungstenite::tungstenite::Error) -> Error {
    use tokio_tungstenite::tungstenite::Error as Ws;
    match e {
        Ws::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => Error::Unreachable {
            url: origin.to_owned(),
            reason: "connection refused or no route".into(),
        },
        Ws::Http(response) => Error::Server {
            status: response.status().as_u16(),
            message: "the WebSocket was refused".into(),
        },
        Ws::Capacity(_) => Error::Protocol(format!(
            "an answer is larger than {} MiB",
            http::MAX_BODY_BYTES / (1024 * 1024)
        )),
        other => Error::Unreachable {
            url: origin.to_owned(),
            reason: crate::dialect::server_text::clean_error(&other.to_string()),
        },
    }
}

#[derive(Deserialize)]
struct WireToken {
    id: String,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_name: Option<String>,
    #[serde(default, deserialize_with = "wire_time::optional")]
    created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "wire_time::optional")]
    last_used_at: Option<DateTime<Utc>>,
    #[serde(default)]
    last_used_ip: Option<String>,
    #[serde(default, deserialize_with = "wire_time::optional")]
    expire_at: Option<DateTime<Utc>>,
    #[serde(default)]
    is_current: bool,
}

/// A listing (`auth/refresh_tokens`' result) into the domain model; `ours`: our refresh
/// token's id.
fn parse_list(account: &AccountId, body: &[u8], ours: Option<&str>) -> Result<Vec<Session>> {
    let wire: Vec<WireToken> = serde_json::from_slice(body).map_err(http::unreadable)?;
    Ok(into_sessions(account, wire, ours))
}

fn into_sessions(account: &AccountId, wire: Vec<WireToken>, ours: Option<&str>) -> Vec<Session> {
    let marked = wire.iter().filter(|w| w.is_current).count();
    let mut ours = super::Ours::new(ours, marked);
    wire.into_iter()
        .map(|w| {
            let current = ours.claim(&w.id, w.is_current);
            into_session(account, w, current)
        })
        .collect()
}

pub(crate) fn parse_anonymous(account: &AccountId, body: &[u8]) -> Result<Vec<Session>> {
    parse_list(account, body, None)
}

fn into_session(account: &AccountId, wire: WireToken, current: bool) -> Session {
    let server_id = Secret::new(wire.id);
    let device = if current {
        Device::ours()
    } else {
        device_of(
            wire.kind.as_deref(),
            wire.client_id.as_deref(),
            wire.client_name.as_deref(),
        )
    };
    Session {
        account: account.clone(),
        id: SessionId::derive(account, &server_id),
        server_id,
        device: Arc::new(device),
        user_agent: None,
        ip: wire.last_used_ip.filter(|ip| !ip.is_empty()),
        location: None,
        coordinates: None,
        location_margin_km: None,
        location_shown: None,
        unreadable: None,
        operator: None,
        label: None,
        created_at: wire.created_at,
        last_active_at: wire.last_used_at.or(wire.created_at),
        expires_at: wire.expire_at,
        is_current: current,
        ours_earlier: false,
    }
}

/// A token's device as a person names it, from all HA keeps: its type and client id.
pub(crate) fn device_of(
    kind: Option<&str>,
    client_id: Option<&str>,
    client_name: Option<&str>,
) -> Device {
    let named = |kind, browser: &str, os: Option<&str>, label: String| Device {
        kind,
        browser: Some(browser.to_owned()),
        os: os.map(str::to_owned),
        label,
    };
    if kind == Some("long_lived_access_token") {
        let name = client_name.map(str::trim).filter(|n| !n.is_empty());
        return Device {
            kind: DeviceKind::Token,
            browser: None,
            os: None,
            label: format!("Long-lived token · {}", name.unwrap_or("unnamed")),
        };
    }
    let client = client_id.map(|c| c.trim_end_matches('/'));
    match client {
        Some(IOS_APP) => named(
            DeviceKind::Mobile,
            "Home Assistant app",
            Some("iOS"),
            "Home Assistant app on iOS".into(),
        ),
        Some(ANDROID_APP) => named(
            DeviceKind::Mobile,
            "Home Assistant app",
            Some("Android"),
            "Home Assistant app on Android".into(),
        ),
        Some(c) if c == CLIENT_ID.trim_end_matches('/') => Device::ours(),
        Some(c) => match url::Url::parse(c) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => {
                let host = url.host_str().unwrap_or_default();
                let at = match url.port() {
                    Some(port) => format!("{host}:{port}"),
                    None => host.to_owned(),
                };
                named(
                    DeviceKind::Unknown,
                    "Web browser",
                    None,
                    format!("Web browser at {at}"),
                )
            }
            _ => named(
                DeviceKind::Unknown,
                "Unknown app",
                None,
                "Unknown app".into(),
            ),
        },
        None => Device {
            kind: DeviceKind::Unknown,
            browser: None,
            os: None,
            label: "Unknown app".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_is_named_from_its_client_as_a_person_would() {
        let label = |kind: Option<&str>, client: Option<&str>, name: Option<&str>| {
            device_of(kind, client, name).label
        };
        assert_eq!(
            label(Some("normal"), Some(IOS_APP), None),
            "Home Assistant app on iOS"
        );
        assert_eq!(
            label(Some("normal"), Some(ANDROID_APP), None),
            "Home Assistant app on Android"
        );
        assert_eq!(
            label(Some("normal"), Some("http://192.168.1.5:8123/"), None),
            "Web browser at 192.168.1.5:8123"
        );
        assert_eq!(
            label(Some("long_lived_access_token"), None, Some("Node-RED")),
            "Long-lived token · Node-RED"
        );
        assert_eq!(
            device_of(Some("long_lived_access_token"), None, Some("x")).kind,
            DeviceKind::Token
        );
        assert_eq!(
            label(Some("normal"), Some("not a url"), None),
            "Unknown app"
        );
    }

    #[test]
    fn ours_is_the_token_our_access_token_names() {
        let account = AccountId::from_stored("a".into());
        let body = json!([
            { "id": "aaa", "type": "normal", "client_id": IOS_APP, "created_at":
              "2026-12-01T09:00:00.123456+00:00", "last_used_at": "2026-12-02T10:00:00+00:00",
              "last_used_ip": "198.51.100.20", "expire_at": "2027-03-02T10:00:00+00:00",
              "is_current": false },
            { "id": "bbb", "type": "normal", "client_id": CLIENT_ID, "created_at":
              "2026-12-01T09:00:00+00:00", "last_used_at": null, "last_used_ip": null,
              "expire_at": null, "is_current": true },
        ])
        .to_string();
        let sessions = parse_list(&account, body.as_bytes(), Some("bbb")).expect("parses");
        assert!(!sessions[0].is_current && sessions[1].is_current);
        assert_eq!(sessions[0].ip.as_deref(), Some("198.51.100.20"));
        assert_eq!(
            sessions[0].last_active_at.map(|t| t.to_rfc3339()),
            Some("2026-12-02T10:00:00+00:00".into())
        );
        assert!(sessions[0].user_agent.is_none(), "HA keeps no user agent");
    }
}
