//! The Matrix client-server API (docs/apis.md §6): an account's sessions are its
//! devices. We sign in as a device named "Session Warden"; ours is the `device_id` of that
//! sign-in. Deleting a device asks for the account's password again (User-Interactive
//! Auth), answered from the keyring (`Ctx::password`). Matrix keeps device names on the
//! server, so a rename is sent there.

use reqwest::{RequestBuilder, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{CallError, Ctx, Held};
use crate::accounts::account::AccountId;
use crate::dialect::device::AgentNames;
use crate::dialect::http;
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::session::{Device, Session, SessionId};

const API: &str = "_matrix/client/v3/";
/// The name our device signs in with, as every client lists it.
pub(crate) const DEVICE_NAME: &str = "Session Warden";
const PASSWORD_STAGE: &str = "m.login.password";

#[derive(Deserialize)]
struct Devices {
    devices: Vec<WireDevice>,
}

#[derive(Deserialize)]
struct WireDevice {
    device_id: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    last_seen_ts: Option<i64>,
    #[serde(default)]
    last_seen_ip: Option<String>,
    /// Newer servers may send it (MSC3852); Synapse 1.16x does not.
    #[serde(default, alias = "org.matrix.msc3852.last_seen_user_agent")]
    last_seen_user_agent: Option<String>,
}

#[derive(Deserialize)]
struct LoggedIn {
    access_token: String,
    device_id: String,
}

fn read_held(token: &Secret) -> Result<Held> {
    Held::from_secret(token, "Matrix")
}

fn bearer_of(held: &Held, request: RequestBuilder) -> RequestBuilder {
    request.bearer_auth(held.token.expose())
}

/// Our device's id, which `token` names.
pub(crate) fn device_id_of(token: &Secret) -> Option<String> {
    read_held(token).ok().map(|h| h.id)
}

fn endpoint(ctx: &Ctx<'_>, path: &str) -> Result<url::Url> {
    ctx.endpoint(&format!("{API}{path}"))
}

/// Whether a 401 says our token is dead (or missing), rather than asking for more auth.
fn token_is_dead(response: &http::Response) -> bool {
    response.status == StatusCode::UNAUTHORIZED
        && matches!(
            response.error_code().as_deref(),
            Some("M_UNKNOWN_TOKEN" | "M_MISSING_TOKEN")
        )
}

pub(crate) async fn login(ctx: &Ctx<'_>, user: &str, password: &Secret) -> Result<Secret> {
    refuse_without_password_login(ctx).await?;
    let body = json!({
        "type": PASSWORD_STAGE,
        "identifier": { "type": "m.id.user", "user": user },
        "password": password.expose(),
        "initial_device_display_name": DEVICE_NAME,
    });
    let response = http::send(ctx.http.post(endpoint(ctx, "login")?).json(&body)).await?;
    match response.status {
        StatusCode::OK => {
            let logged_in: LoggedIn = response.json()?;
            Ok(Held {
                id: logged_in.device_id,
                token: Secret::new(logged_in.access_token),
            }
            .into_secret())
        }
        StatusCode::FORBIDDEN if response.error_code().as_deref() == Some("M_FORBIDDEN") => {
            Err(Error::BadCredentials {
                login: user.to_owned(),
            })
        }
        StatusCode::FORBIDDEN | StatusCode::BAD_REQUEST => Err(Error::Refused(format!(
            "the homeserver refused the sign-in: {}",
            response.error_message()
        ))),
        _ => Err(response.server_error()),
    }
}

/// A homeserver that signs in only through single sign-on (or delegates sign-in to an
/// account service) offers no password login: say so rather than send a password it will
/// refuse as wrong.
async fn refuse_without_password_login(ctx: &Ctx<'_>) -> Result<()> {
    let response = http::send(ctx.http.get(endpoint(ctx, "login")?)).await?;
    if response.status != StatusCode::OK {
        // No list of ways to sign in: try the password and let its answer speak.
        return Ok(());
    }
    let flows: Value = response.json().unwrap_or(Value::Null);
    let types: Vec<&str> = flows
        .get("flows")
        .and_then(Value::as_array)
        .map(|f| f.iter().filter_map(|f| f.get("type")?.as_str()).collect())
        .unwrap_or_default();
    if types.is_empty() || types.contains(&PASSWORD_STAGE) {
        return Ok(());
    }
    Err(Error::Refused(format!(
        "this homeserver does not sign in with a password (it offers: {}); Session Warden \
         signs in with one, so it cannot watch this account",
        crate::dialect::server_text::clean_error(&types.join(", "))
    )))
}

pub(crate) async fn logout(ctx: &Ctx<'_>, token: &Secret) -> Result<()> {
    let held = read_held(token)?;
    let response =
        http::send(bearer_of(&held, ctx.http.post(endpoint(ctx, "logout")?)).json(&json!({})))
            .await?;
    match response.status {
        s if s.is_success() || s == StatusCode::UNAUTHORIZED => Ok(()),
        _ => Err(response.server_error()),
    }
}

pub(crate) async fn list(ctx: &Ctx<'_>, token: &Secret) -> Result<Vec<Session>, CallError> {
    let held = read_held(token)?;
    let response = http::send(bearer_of(&held, ctx.http.get(endpoint(ctx, "devices")?))).await?;
    match response.status {
        StatusCode::OK => Ok(parse_list(ctx.account, &response.body, Some(&held.id))?),
        StatusCode::UNAUTHORIZED => Err(CallError::Expired),
        _ => Err(response.server_error().into()),
    }
}

pub(crate) async fn revoke(
    ctx: &Ctx<'_>,
    token: &Secret,
    device_id: &Secret,
) -> Result<(), CallError> {
    let held = read_held(token)?;
    let url = ctx.endpoint_with_id(&format!("{API}devices/"), device_id)?;
    with_password(ctx, &held, |auth| {
        ctx.http
            .delete(url.clone())
            .json(&auth_body(json!({}), auth))
    })
    .await
}

/// Signs out every device but ours: one `delete_devices` with every other id.
pub(crate) async fn sign_out_others(
    ctx: &Ctx<'_>,
    token: &Secret,
    listed: &[Session],
) -> Result<(), CallError> {
    let held = read_held(token)?;
    let others = held.others(listed);
    if others.is_empty() {
        return Ok(());
    }
    let url = endpoint(ctx, "delete_devices")?;
    with_password(ctx, &held, |auth| {
        ctx.http
            .post(url.clone())
            .json(&auth_body(json!({ "devices": others }), auth))
    })
    .await
}

/// Names a device on the server (`display_name`): every client of the account sees it.
pub(crate) async fn rename(
    ctx: &Ctx<'_>,
    token: &Secret,
    device_id: &Secret,
    name: &str,
) -> Result<(), CallError> {
    let held = read_held(token)?;
    let url = ctx.endpoint_with_id(&format!("{API}devices/"), device_id)?;
    let request = bearer_of(&held, ctx.http.put(url)).json(&json!({ "display_name": name }));
    let response = http::send(request).await?;
    match response.status {
        StatusCode::OK => Ok(()),
        StatusCode::NOT_FOUND => Err(Error::SessionNotFound("on the server".into()).into()),
        _ if token_is_dead(&response) => Err(CallError::Expired),
        _ => Err(response.server_error().into()),
    }
}

fn auth_body(mut body: Value, auth: Option<Value>) -> Value {
    if let (Some(auth), Some(map)) = (auth, body.as_object_mut()) {
        map.insert("auth".into(), auth);
    }
    body
}

/// Sends a request that deletes devices, answering the server's User-Interactive Auth with
/// the account's password: first without `auth`, which the server answers 401 with a UIA
/// `session`, then again with the password for that session.
async fn with_password(
    ctx: &Ctx<'_>,
    held: &Held,
    request: impl Fn(Option<Value>) -> RequestBuilder,
) -> Result<(), CallError> {
    let first = http::send(bearer_of(held, request(None))).await?;
    let challenge = match first.status {
        StatusCode::OK => return Ok(()),
        StatusCode::UNAUTHORIZED if !token_is_dead(&first) => first,
        _ => return Err(delete_failed(ctx, &first).await),
    };
    let body: Value = challenge.json().unwrap_or(Value::Null);
    let offers_password = body
        .get("flows")
        .and_then(Value::as_array)
        .is_some_and(|flows| {
            flows.iter().any(|f| {
                f.get("stages")
                    .and_then(Value::as_array)
                    .is_some_and(|s| s.len() == 1 && s[0].as_str() == Some(PASSWORD_STAGE))
            })
        });
    if !offers_password {
        return Err(Error::Refused(
            "the homeserver wants this sign-out confirmed in a way other than the password \
             (single sign-on, most likely); sign the device out in Element or the account's \
             web page"
                .into(),
        )
        .into());
    }
    let password = ctx.password.ok_or_else(|| {
        Error::MissingCredential(format!(
            "{}: the homeserver asks for the password to sign a device out",
            ctx.label
        ))
    })?;
    let auth = json!({
        "type": PASSWORD_STAGE,
        "identifier": { "type": "m.id.user", "user": ctx.login },
        "password": password.expose(),
        "session": body.get("session").cloned().unwrap_or(Value::Null),
    });
    let second = http::send(bearer_of(held, request(Some(auth)))).await?;
    match second.status {
        StatusCode::OK => Ok(()),
        StatusCode::UNAUTHORIZED if token_is_dead(&second) => Err(CallError::Expired),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(Error::NeedsSignIn {
            account: ctx.label.to_owned(),
            reason: format!(
                "the homeserver asked for the password again to sign the device out, and \
                 refused the saved one ({}): was it changed?",
                second.error_message()
            ),
        }
        .into()),
        _ => Err(delete_failed(ctx, &second).await),
    }
}

/// Why deleting a device failed: a dead token, an unknown device, or a homeserver that
/// does not let clients delete devices at all (sign-in delegated to an account service,
/// such as Matrix Authentication Service), which the person must be told where to go.
async fn delete_failed(ctx: &Ctx<'_>, response: &http::Response) -> CallError {
    if token_is_dead(response) {
        return CallError::Expired;
    }
    let code = response.error_code();
    match (response.status, code.as_deref()) {
        (StatusCode::NOT_FOUND, Some("M_NOT_FOUND")) => {
            Error::SessionNotFound("on the server".into()).into()
        }
        (StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED, _)
        | (_, Some("M_UNRECOGNIZED")) => {
            let place = account_page(ctx)
                .await
                .unwrap_or_else(|| "the account's web page".to_owned());
            Error::Refused(format!(
                "this homeserver does not let apps sign devices out (its sign-in is delegated \
                 to an account service): sign the device out at {place}"
            ))
            .into()
        }
        _ => response.server_error().into(),
    }
}

/// The account management page of a homeserver that delegates its sign-in, where it says.
async fn account_page(ctx: &Ctx<'_>) -> Option<String> {
    let url = ctx.endpoint("_matrix/client/v1/auth_metadata").ok()?;
    let response = http::send(ctx.http.get(url)).await.ok()?;
    let body: Value = response.json().ok()?;
    let page = body.get("account_management_uri")?.as_str()?;
    let parsed = url::Url::parse(page).ok()?;
    matches!(parsed.scheme(), "https" | "http")
        .then(|| crate::dialect::server_text::clean_error(page))
}

/// A listing's body, into the domain model; `ours`: our device's id.
fn parse_list(account: &AccountId, body: &[u8], ours: Option<&str>) -> Result<Vec<Session>> {
    let wire: Devices = serde_json::from_slice(body).map_err(http::unreadable)?;
    let mut ours = super::Ours::new(ours, 0);
    let mut names = AgentNames::default();
    wire.devices
        .into_iter()
        .map(|w| {
            let current = ours.claim(&w.device_id, false);
            into_session(account, w, current, &mut names)
        })
        .collect()
}

pub(crate) fn parse_anonymous(account: &AccountId, body: &[u8]) -> Result<Vec<Session>> {
    parse_list(account, body, None)
}

fn into_session(
    account: &AccountId,
    wire: WireDevice,
    current: bool,
    names: &mut AgentNames,
) -> Result<Session> {
    let last_active_at = wire.last_seen_ts.map(super::wire_time::millis);
    let (device, user_agent) = match wire.last_seen_user_agent.as_deref() {
        Some(agent) if !agent.is_empty() => names.describe(Some(agent), current),
        _ if current => (std::sync::Arc::new(Device::ours()), None),
        // The name the device gave itself ("Element Desktop: Linux"), as every client
        // shows it; a device with none is what the id says.
        _ => (
            std::sync::Arc::new(named_device(wire.display_name.as_deref())),
            None,
        ),
    };
    let server_id = Secret::new(wire.device_id);
    Ok(Session {
        account: account.clone(),
        id: SessionId::derive(account, &server_id),
        server_id,
        device,
        user_agent,
        ip: wire.last_seen_ip.filter(|ip| !ip.is_empty()),
        location: None,
        coordinates: None,
        location_margin_km: None,
        location_shown: None,
        unreadable: None,
        operator: None,
        label: None,
        // Matrix lists no creation time and no expiry: devices live until signed out.
        created_at: None,
        last_active_at,
        expires_at: None,
        is_current: current,
        ours_earlier: false,
    })
}

/// A device by the name it gave itself. Matrix clients name themselves in words ("Element
/// on Firefox, Linux", "Element Android"): the name is kept as said, with the OS read from
/// it where it names one.
fn named_device(name: Option<&str>) -> Device {
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    let Some(name) = name else {
        return Device::from_label("");
    };
    let os = [
        "Linux", "Windows", "macOS", "Android", "iOS", "iPadOS", "ChromeOS",
    ]
    .into_iter()
    .find(|os| name.contains(os))
    .map(str::to_owned);
    Device {
        kind: os.as_deref().map_or(
            crate::session::DeviceKind::Unknown,
            crate::dialect::device::kind_from_os,
        ),
        browser: None,
        os,
        label: name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_become_sessions_and_ours_is_our_device_id() {
        let account = AccountId::from_stored("acc".into());
        let body = br#"{"devices":[
            {"device_id":"OURS","display_name":"Session Warden","last_seen_ts":1795000000000,
             "last_seen_ip":"127.0.0.1","user_id":"@a:x"},
            {"device_id":"PHONE","display_name":"Element Android","last_seen_ts":null,
             "last_seen_ip":null,"user_id":"@a:x"},
            {"device_id":"NONAME","display_name":null,"user_id":"@a:x"}]}"#;
        let sessions = parse_list(&account, body, Some("OURS")).expect("parses");
        assert!(sessions[0].is_current);
        assert_eq!(sessions[1].device.label, "Element Android");
        assert_eq!(sessions[1].device.os.as_deref(), Some("Android"));
        assert_eq!(sessions[1].last_active_at, None);
        assert_eq!(sessions[2].device.label, "Unknown device");
        assert!(sessions.iter().all(|s| s.created_at.is_none()));
    }

    #[test]
    fn the_held_credential_names_our_device() {
        let held = Held {
            id: "ABCDEFGHIJ".into(),
            token: Secret::new("syt_x"),
        }
        .into_secret();
        assert_eq!(device_id_of(&held).as_deref(), Some("ABCDEFGHIJ"));
        assert_eq!(device_id_of(&Secret::new("damaged")), None);
    }
}
