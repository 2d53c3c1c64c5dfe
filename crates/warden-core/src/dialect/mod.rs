//! The session APIs Session Warden speaks. Each dialect module owns its wire types and
//! converts them into the domain model at the boundary; its status codes map to `Error`s
//! per API, never by a guess shared between APIs.

mod admit;
pub mod allauth;
pub mod better_auth;
mod ctx;
mod detect;
pub mod device;
pub mod hectoday;
pub mod home_assistant;
pub(crate) mod http;
mod kind;
pub mod matrix;
pub mod node_auth;
pub mod node_auth_admin;
mod ours;
pub mod rtc;
pub(crate) mod scrub;
pub mod secureauth;
pub mod server_text;
mod wire_time;

use std::sync::Arc;

pub use detect::detect;
pub use kind::{DialectKind, SignInForm};

pub(crate) use admit::admitted;
pub(crate) use ctx::Ctx;
pub(crate) use ours::{
    Held, Ours, join_held, jwt_claim, jwt_time, own_server_id, own_session_ends, secret_parts,
    split_held,
};

use crate::accounts::account::AccountId;
use crate::error::{Error, Result};
use crate::prompt::CodePrompt;
use crate::secret::Secret;
use crate::session::Session;

/// What a dialect call can say beyond success: the caller re-authenticates on `Expired`.
#[derive(Debug)]
pub(crate) enum CallError {
    /// Our own session on the server is gone (expired, revoked, signed out), or its token
    /// ran out: renewed where the API can, else signed in again.
    Expired,
    /// Our own session is gone for good, and the server counts each use of its token as a
    /// failed login (Home Assistant): not renewed, signed in again only by the person.
    Revoked,
    Other(Error),
}

impl From<Error> for CallError {
    fn from(e: Error) -> Self {
        CallError::Other(e)
    }
}

/// A listing's body, as `kind` sends it, into the domain model. What a poll does with the
/// answer; public for the benchmarks. node-auth's own session is not marked (that needs
/// our token).
pub fn parse_listing(
    kind: DialectKind,
    account: &AccountId,
    body: &[u8],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Session>> {
    let sessions = match kind {
        DialectKind::SecureAuth => secureauth::parse_list(account, body, now, None),
        DialectKind::NodeAuth | DialectKind::NodeAuthAdmin => {
            node_auth::parse_list(account, body, None)
        }
        DialectKind::Hectoday => hectoday::parse_list(account, body, None),
        DialectKind::Rtc => rtc::parse_list(account, body, None),
        DialectKind::BetterAuth => better_auth::parse_anonymous(account, body),
        DialectKind::Matrix => matrix::parse_anonymous(account, body),
        DialectKind::Allauth => allauth::parse_anonymous(account, body),
        DialectKind::HomeAssistant => home_assistant::parse_anonymous(account, body),
    }?;
    admitted(sessions)
}

/// How long the server lets an access token live, read from the tokens it gave us, where
/// its API issues access tokens that outlive a revoke (node-auth).
pub(crate) fn access_lifetime(kind: DialectKind, token: &Secret) -> Option<chrono::TimeDelta> {
    match kind {
        DialectKind::NodeAuth => node_auth::access_lifetime(token),
        _ => None,
    }
}

/// What the person should know after `session` was revoked, when the server cannot take it
/// back at once (node-auth, quirk 3); `held` is our token, to read the server's figures.
pub(crate) fn after_revoke(
    kind: DialectKind,
    held: Option<&Secret>,
    session: &Session,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<String> {
    match kind {
        DialectKind::NodeAuth => {
            node_auth::after_revoke(held.and_then(node_auth::access_lifetime), session, now)
        }
        _ => None,
    }
}

/// Signs in; returns the token our later calls carry.
pub(crate) async fn login(
    kind: DialectKind,
    ctx: &Ctx<'_>,
    login: &str,
    password: &Secret,
    prompt: &Arc<dyn CodePrompt>,
) -> Result<Secret> {
    match kind {
        DialectKind::SecureAuth => secureauth::login(ctx, login, prompt).await,
        DialectKind::NodeAuth => node_auth::login(ctx, login, password, prompt).await,
        DialectKind::Hectoday => hectoday::login(ctx, login, password).await,
        DialectKind::Rtc => rtc::login(ctx, login, password, prompt).await,
        DialectKind::NodeAuthAdmin => node_auth_admin::login(ctx, login, password).await,
        DialectKind::BetterAuth => better_auth::login(ctx, login, password, prompt).await,
        DialectKind::Matrix => matrix::login(ctx, login, password).await,
        DialectKind::Allauth => allauth::login(ctx, login, password, prompt).await,
        DialectKind::HomeAssistant => home_assistant::login(ctx, login, password, prompt).await,
    }
}

/// A new token without asking anyone, where the API can (node-auth's and Home Assistant's
/// refresh). `Ok(None)` when it cannot, or the server refused: the caller signs in again.
/// An error (a server down) keeps the token we hold.
pub(crate) async fn renew(
    kind: DialectKind,
    ctx: &Ctx<'_>,
    token: &Secret,
) -> Result<Option<Secret>> {
    match kind {
        DialectKind::NodeAuth => Ok(node_auth::refresh(ctx, token).await),
        DialectKind::HomeAssistant => home_assistant::renew(ctx, token).await,
        _ => Ok(None),
    }
}

/// Ends our own session on the server (when the account is removed).
pub(crate) async fn logout(kind: DialectKind, ctx: &Ctx<'_>, token: &Secret) -> Result<()> {
    match kind {
        DialectKind::SecureAuth => secureauth::logout(ctx, token).await,
        DialectKind::NodeAuth => node_auth::logout(ctx, token).await,
        DialectKind::Hectoday => hectoday::logout(ctx, token).await,
        DialectKind::Rtc => rtc::logout(ctx, token).await,
        // Nothing of ours to end: the admin API opens no session.
        DialectKind::NodeAuthAdmin => Ok(()),
        DialectKind::BetterAuth => better_auth::logout(ctx, token).await,
        DialectKind::Matrix => matrix::logout(ctx, token).await,
        DialectKind::Allauth => allauth::logout(ctx, token).await,
        DialectKind::HomeAssistant => home_assistant::logout(ctx, token).await,
    }
}

pub(crate) async fn list(
    kind: DialectKind,
    ctx: &Ctx<'_>,
    token: &Secret,
) -> Result<Vec<Session>, CallError> {
    let sessions = match kind {
        DialectKind::SecureAuth => secureauth::list(ctx, token).await,
        DialectKind::NodeAuth => node_auth::list(ctx, token).await,
        DialectKind::Hectoday => hectoday::list(ctx, token).await,
        DialectKind::Rtc => rtc::list(ctx, token).await,
        DialectKind::NodeAuthAdmin => node_auth_admin::list(ctx, token, ctx.login).await,
        DialectKind::BetterAuth => better_auth::list(ctx, token).await,
        DialectKind::Matrix => matrix::list(ctx, token).await,
        DialectKind::Allauth => allauth::list(ctx, token).await,
        DialectKind::HomeAssistant => home_assistant::list(ctx, token).await,
    }?;
    Ok(admitted(sessions)?)
}

pub(crate) async fn revoke(
    kind: DialectKind,
    ctx: &Ctx<'_>,
    token: &Secret,
    session: &Session,
) -> Result<(), CallError> {
    let id = &session.server_id;
    // Never sent: ending our own session would leave the account unwatched until it is
    // added again (SecureAuth allows it, node-auth too).
    if session.is_current || own_server_id(kind, token).as_deref() == Some(id.expose()) {
        return Err(Error::OwnSession.into());
    }
    revoke_id(kind, ctx, token, id).await
}

/// Ends the session with this server id, unchecked: `revoke` first refuses our own, and
/// signing in again ends the session we held before through this (its id is checked to be
/// another than the new token's by the caller).
pub(crate) async fn revoke_id(
    kind: DialectKind,
    ctx: &Ctx<'_>,
    token: &Secret,
    id: &Secret,
) -> Result<(), CallError> {
    match kind {
        DialectKind::SecureAuth => secureauth::revoke(ctx, token, id).await,
        DialectKind::NodeAuth => node_auth::revoke(ctx, token, id).await,
        DialectKind::Hectoday => hectoday::revoke(ctx, token, id).await,
        DialectKind::Rtc => rtc::revoke(ctx, token, id).await,
        DialectKind::NodeAuthAdmin => node_auth_admin::revoke(ctx, token, id).await,
        DialectKind::BetterAuth => better_auth::revoke(ctx, token, id).await,
        DialectKind::Matrix => matrix::revoke(ctx, token, id).await,
        DialectKind::Allauth => allauth::revoke(ctx, token, id).await,
        DialectKind::HomeAssistant => home_assistant::revoke(ctx, token, id).await,
    }
}

/// Names the session on the server, where the API keeps names (`renames_on_server`).
pub(crate) async fn rename(
    kind: DialectKind,
    ctx: &Ctx<'_>,
    token: &Secret,
    id: &Secret,
    name: &str,
) -> Result<(), CallError> {
    match kind {
        DialectKind::Matrix => matrix::rename(ctx, token, id, name).await,
        other => {
            Err(Error::InvalidInput(format!("{} keeps no session names", other.title())).into())
        }
    }
}

/// Signs out every session but ours: the API's own endpoint where it has one that spares
/// the caller, otherwise one revoke per session of `listed`.
pub(crate) async fn sign_out_others(
    kind: DialectKind,
    ctx: &Ctx<'_>,
    token: &Secret,
    listed: &[Session],
) -> Result<(), CallError> {
    match kind {
        DialectKind::SecureAuth => secureauth::sign_out_others(ctx, token).await,
        DialectKind::Hectoday => hectoday::sign_out_others(ctx, token).await,
        DialectKind::BetterAuth => better_auth::sign_out_others(ctx, token).await,
        DialectKind::Matrix => matrix::sign_out_others(ctx, token, listed).await,
        DialectKind::Allauth => allauth::sign_out_others(ctx, token, listed).await,
        DialectKind::HomeAssistant => home_assistant::sign_out_others(ctx, token).await,
        // node-auth has no such endpoint; RTC's logout-all would end ours too.
        DialectKind::NodeAuth | DialectKind::Rtc | DialectKind::NodeAuthAdmin => {
            for session in listed.iter().filter(|s| !s.is_current) {
                match revoke(kind, ctx, token, session).await {
                    // Ours listed twice: its second row is still ours on the server.
                    Ok(())
                    | Err(CallError::Other(Error::SessionNotFound(_) | Error::OwnSession)) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::Value;

    use super::*;

    /// Any JSON value, nested a few levels, with the field names the parsers look for
    /// showing up often enough to reach past the envelope.
    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            ".{0,12}".prop_map(Value::String),
            "(19|20|99)[0-9]{2}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(Z|\\.000Z)?"
                .prop_map(Value::String),
        ];
        let key = prop_oneof![
            Just("sessions".to_owned()),
            Just("id".to_owned()),
            Just("sessionHandle".to_owned()),
            Just("createdAt".to_owned()),
            Just("lastActiveAt".to_owned()),
            Just("lastActivity".to_owned()),
            Just("expiresAt".to_owned()),
            Just("isCurrent".to_owned()),
            Just("isActive".to_owned()),
            Just("ip".to_owned()),
            Just("userAgent".to_owned()),
            ".{0,6}",
        ];
        leaf.prop_recursive(4, 64, 8, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(key.clone(), inner, 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn parse_all(body: &[u8]) {
        let account = AccountId::from_stored("acc".into());
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        for kind in DialectKind::ALL {
            let _ = parse_listing(kind, &account, body, now);
        }
        let _ = hectoday::parse_list(&account, body, Some("x"));
        let _ = secureauth::parse_list(&account, body, now, Some("x"));
        let _ = node_auth::parse_list(&account, body, Some("x"));
        let _ = rtc::parse_list(&account, body, Some("x"));
    }

    proptest! {
        #[test]
        fn any_json_into_any_dialect_is_an_answer_never_a_panic(value in json()) {
            parse_all(&serde_json::to_vec(&value).unwrap_or_default());
        }

        /// Whatever text a server puts where a person will read it, what reaches the
        /// engine has no control character and is at most `server_text::MAX_CHARS` long.
        #[test]
        fn a_servers_text_arrives_clean(
            name in "\\PC{0,8}[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}]?\\PC{0,8}( [a-z]{0,700})?",
            ip in any::<String>(),
        ) {
            let account = AccountId::from_stored("acc".into());
            let hectoday = serde_json::json!([{
                "id": "s1", "deviceName": name, "ip": ip, "isCurrent": false,
                "lastActiveAt": "2026-01-15 10:30:00", "createdAt": "2026-01-15 09:00:00",
            }]);
            let node_auth = serde_json::json!({ "sessions": [{
                "sessionHandle": "h1", "userId": "1", "userAgent": name, "ipAddress": ip,
                "createdAt": "2026-11-22T06:15:59.083Z", "lastActiveAt": "2026-11-22T06:15:59.083Z",
                "expiresAt": "2026-11-29T06:15:59.083Z",
            }]});
            for (kind, body) in [(DialectKind::Hectoday, hectoday), (DialectKind::NodeAuth, node_auth)] {
                let sessions = parse_listing(kind, &account, &serde_json::to_vec(&body).unwrap_or_default(), chrono::Utc::now());
                let sessions = sessions.unwrap_or_default();
                prop_assert_eq!(sessions.len(), 1, "{}", kind);
                let s = &sessions[0];
                let texts = [Some(s.device.label.as_str()), s.device.browser.as_deref(),
                    s.device.os.as_deref(), s.ip.as_deref(), s.user_agent.as_deref()];
                for text in texts.into_iter().flatten() {
                    prop_assert!(!text.chars().any(char::is_control), "{:?}", text);
                    prop_assert!(text.chars().count() <= crate::dialect::server_text::MAX_CHARS);
                }
            }
        }

        #[test]
        fn any_bytes_into_any_dialect_is_an_answer_never_a_panic(
            bytes in prop::collection::vec(any::<u8>(), 0..256)
        ) {
            parse_all(&bytes);
        }
    }
}
