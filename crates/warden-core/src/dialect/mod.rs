//! The session APIs Session Warden speaks. Each dialect module owns its wire types and
//! converts them into the domain model at the boundary; its status codes map to `Error`s
//! per API, never by a guess shared between APIs.

mod detect;
pub mod hectoday;
pub mod node_auth;
pub mod node_auth_admin;
pub mod rtc;
pub mod secureauth;
mod wire_time;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use url::Url;

pub use detect::detect;

use crate::account::AccountId;
use crate::error::{Error, Result};
use crate::prompt::{CodePrompt, CodeRequest};
use crate::secret::Secret;
use crate::server_text;
use crate::session::Session;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum DialectKind {
    #[serde(rename = "secureauth")]
    SecureAuth,
    #[serde(rename = "node-auth")]
    NodeAuth,
    #[serde(rename = "hectoday")]
    Hectoday,
    #[serde(rename = "rtc")]
    Rtc,
    /// node-auth through its admin API: the login is the user id, the password the
    /// operator's admin secret.
    #[serde(rename = "node-auth-admin")]
    NodeAuthAdmin,
}

impl DialectKind {
    pub const ALL: [DialectKind; 5] = [
        DialectKind::SecureAuth,
        DialectKind::NodeAuth,
        DialectKind::Hectoday,
        DialectKind::Rtc,
        DialectKind::NodeAuthAdmin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DialectKind::SecureAuth => "secureauth",
            DialectKind::NodeAuth => "node-auth",
            DialectKind::Hectoday => "hectoday",
            DialectKind::Rtc => "rtc",
            DialectKind::NodeAuthAdmin => "node-auth-admin",
        }
    }

    /// What the account's login is: SecureAuth signs in with a phone number and a texted
    /// code, and has no password.
    pub fn uses_password(self) -> bool {
        self != DialectKind::SecureAuth
    }

    /// What the person should know before watching an account this way, when watching it
    /// costs something (wire-formats.md, node-auth quirk 1).
    pub fn caveat(self) -> Option<&'static str> {
        match self {
            DialectKind::NodeAuth => Some(
                "node-auth keeps one refresh token per user: Session Warden's own sign-in \
                 takes it from your other devices, which are then signed out within 15 \
                 minutes, when their access token runs out. If you run this server, watch \
                 the account through its admin API (node-auth-admin) instead.",
            ),
            _ => None,
        }
    }
}

impl std::fmt::Display for DialectKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for DialectKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DialectKind::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "unknown API {s:?}; supported: {}",
                    DialectKind::ALL.map(|d| d.as_str()).join(", ")
                ))
            })
    }
}

/// What a dialect call can say beyond success: the caller re-authenticates on `Expired`.
#[derive(Debug)]
pub(crate) enum CallError {
    /// Our own session on the server is gone (expired, revoked, signed out).
    Expired,
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
        DialectKind::SecureAuth => secureauth::parse_list(account, body, now),
        DialectKind::NodeAuth | DialectKind::NodeAuthAdmin => {
            node_auth::parse_list(account, body, None)
        }
        DialectKind::Hectoday => hectoday::parse_list(account, body),
        DialectKind::Rtc => rtc::parse_list(account, body),
    }?;
    Ok(cleaned(sessions))
}

/// Whatever the API, what its server says is text from strangers (`server_text`).
fn cleaned(mut sessions: Vec<Session>) -> Vec<Session> {
    server_text::clean_sessions(&mut sessions);
    sessions
}

/// Where and as whom a dialect call is made.
pub(crate) struct Ctx<'a> {
    pub http: &'a reqwest::Client,
    pub base: &'a Url,
    pub account: &'a AccountId,
    /// The account's login (node-auth's admin mode lists by it).
    pub login: &'a str,
    /// How the person knows the account, for prompts.
    pub label: &'a str,
    /// The engine's clock at the call (servers' times are judged against it, never the
    /// wall clock).
    pub now: chrono::DateTime<chrono::Utc>,
}

impl Ctx<'_> {
    pub fn endpoint(&self, path: &str) -> Result<Url> {
        self.base
            .join(path)
            .map_err(|e| Error::InvalidInput(format!("bad URL {}{path}: {e}", self.base)))
    }

    /// `path` followed by a server id as one escaped path segment. The id may be a secret
    /// (hectoday's is the cookie); the URL is never logged.
    pub fn endpoint_with_id(&self, path: &str, id: &Secret) -> Result<Url> {
        let segment: String =
            url::form_urlencoded::byte_serialize(id.expose().as_bytes()).collect();
        self.endpoint(&format!("{path}{segment}"))
    }

    /// Asks the person for a code, on a blocking thread (the prompt may wait for them).
    pub async fn ask(&self, prompt: &Arc<dyn CodePrompt>, request: CodeRequest) -> Result<Secret> {
        let prompt = Arc::clone(prompt);
        let label = self.label.to_owned();
        tokio::task::spawn_blocking(move || prompt.code(&label, &request))
            .await
            .map_err(|e| Error::InvalidInput(format!("the code prompt failed: {e}")))?
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
    }
}

/// A new token without asking anyone, where the API can (node-auth's refresh). `None`
/// when it cannot: the caller signs in again.
pub(crate) async fn renew(kind: DialectKind, ctx: &Ctx<'_>, token: &Secret) -> Option<Secret> {
    match kind {
        DialectKind::NodeAuth => node_auth::refresh(ctx, token).await,
        _ => None,
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
    }?;
    Ok(cleaned(sessions))
}

pub(crate) async fn revoke(
    kind: DialectKind,
    ctx: &Ctx<'_>,
    token: &Secret,
    session: &Session,
) -> Result<(), CallError> {
    let id = &session.server_id;
    match kind {
        DialectKind::SecureAuth => secureauth::revoke(ctx, token, id).await,
        DialectKind::NodeAuth => node_auth::revoke(ctx, token, id).await,
        DialectKind::Hectoday => hectoday::revoke(ctx, token, id).await,
        DialectKind::Rtc => rtc::revoke(ctx, token, id).await,
        DialectKind::NodeAuthAdmin => node_auth_admin::revoke(ctx, token, id).await,
    }
}

/// Signs out every session but ours: the API's own endpoint where it has one that spares
/// the caller, otherwise one revoke per session of `listed`.
pub(crate) async fn revoke_others(
    kind: DialectKind,
    ctx: &Ctx<'_>,
    token: &Secret,
    listed: &[Session],
) -> Result<(), CallError> {
    match kind {
        DialectKind::SecureAuth => secureauth::revoke_others(ctx, token).await,
        DialectKind::Hectoday => hectoday::revoke_others(ctx, token).await,
        // node-auth has no such endpoint; RTC's logout-all would end ours too.
        DialectKind::NodeAuth | DialectKind::Rtc | DialectKind::NodeAuthAdmin => {
            for session in listed.iter().filter(|s| !s.is_current) {
                match revoke(kind, ctx, token, session).await {
                    Ok(()) | Err(CallError::Other(Error::SessionNotFound(_))) => {}
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
        let _ = hectoday::parse_list(&account, body);
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let _ = secureauth::parse_list(&account, body, now);
        let _ = node_auth::parse_list(&account, body, Some("x"));
        let _ = rtc::parse_list(&account, body);
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
                    prop_assert!(text.chars().count() <= crate::server_text::MAX_CHARS);
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
