//! The session APIs the mock plays, and what they share: signing a device in.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::MockState;
use crate::store::{Device, Session, User};
use crate::{allauth, better_auth, hectoday, home_assistant, matrix, node_auth, rtc, secureauth};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Dialect {
    #[serde(rename = "secureauth")]
    SecureAuth,
    #[serde(rename = "node-auth")]
    NodeAuth,
    #[serde(rename = "hectoday")]
    Hectoday,
    #[serde(rename = "rtc")]
    Rtc,
    #[serde(rename = "better-auth")]
    BetterAuth,
    #[serde(rename = "matrix")]
    Matrix,
    #[serde(rename = "allauth")]
    Allauth,
    #[serde(rename = "home-assistant")]
    HomeAssistant,
}

impl Dialect {
    pub const ALL: [Dialect; 8] = [
        Dialect::SecureAuth,
        Dialect::NodeAuth,
        Dialect::Hectoday,
        Dialect::Rtc,
        Dialect::BetterAuth,
        Dialect::Matrix,
        Dialect::Allauth,
        Dialect::HomeAssistant,
    ];

    /// The name used on the command line, in the control API and in scenarios.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::SecureAuth => "secureauth",
            Dialect::NodeAuth => "node-auth",
            Dialect::Hectoday => "hectoday",
            Dialect::Rtc => "rtc",
            Dialect::BetterAuth => "better-auth",
            Dialect::Matrix => "matrix",
            Dialect::Allauth => "allauth",
            Dialect::HomeAssistant => "home-assistant",
        }
    }

    /// Where the API is mounted under the server's root (SecureAuth and RTC both use
    /// `/api/...`, so each API gets its own prefix).
    pub fn prefix(self) -> &'static str {
        match self {
            Dialect::SecureAuth => "/secureauth",
            Dialect::NodeAuth => "/node-auth",
            Dialect::Hectoday => "/hectoday",
            Dialect::Rtc => "/rtc",
            Dialect::BetterAuth => "/better-auth",
            Dialect::Matrix => "/matrix",
            Dialect::Allauth => "/allauth",
            Dialect::HomeAssistant => "/home-assistant",
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Dialect {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Dialect::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Dialect::ALL.iter().map(|d| d.name()).collect();
                format!("unknown API {s:?}: one of {}", names.join(", "))
            })
    }
}

/// What a device holds after signing in, to call the API as that device.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    /// `name=value`, for the APIs that authenticate with a cookie.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cookie: Option<String>,
    /// A bearer token (node-auth, Better Auth's bearer plugin, Matrix) or allauth's
    /// `X-Session-Token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// A device signs in to `user` through `dialect`, with the expiry that API gives, as its
/// login route would do after checking the credentials. Used by the login routes, the
/// control API and scenarios alike.
pub fn sign_in(
    state: &MockState,
    user: &User,
    dialect: Dialect,
    device: Device,
    remember_me: bool,
) -> (Session, Credentials) {
    sign_in_at(state, user, dialect, device, remember_me, state.clock.now())
}

/// [`sign_in`], as if it had happened at `now` (scenarios set the scene in the past).
pub fn sign_in_at(
    state: &MockState,
    user: &User,
    dialect: Dialect,
    device: Device,
    remember_me: bool,
    now: DateTime<Utc>,
) -> (Session, Credentials) {
    let session = state.store.create_session(&user.id, dialect, device, now);
    let (expires_at, idle) = match dialect {
        Dialect::Hectoday => (
            Some(now + hectoday::ABSOLUTE_TIMEOUT),
            Some(hectoday::IDLE_TIMEOUT),
        ),
        // SecureAuth's database never expires a session; only the 7-day JWT bounds it.
        Dialect::SecureAuth => (None, None),
        Dialect::NodeAuth => (Some(now + node_auth::REFRESH_LIFETIME), None),
        Dialect::Rtc => (Some(now + rtc::lifetime(remember_me)), None),
        // Better Auth rolls its 7 days forward with use; Matrix devices and allauth's
        // sessions (on Django's defaults, two weeks of use) live until signed out.
        Dialect::BetterAuth => (None, Some(better_auth::EXPIRES_IN)),
        Dialect::Matrix => (None, None),
        Dialect::Allauth => (None, Some(allauth::IDLE_TIMEOUT)),
        // A refresh token lives 90 days from its last use (each access token issued).
        Dialect::HomeAssistant => (Some(now + home_assistant::REFRESH_IDLE), None),
    };
    let session = state
        .store
        .set_policy(&session.id, expires_at, idle)
        .unwrap_or(session);
    let credentials = match dialect {
        Dialect::Hectoday => hectoday::credentials(&session),
        Dialect::SecureAuth => secureauth::credentials(state, user, &session),
        Dialect::NodeAuth => node_auth::issue_tokens(state, user, &session),
        Dialect::Rtc => rtc::credentials(state, &session),
        Dialect::BetterAuth => better_auth::credentials(state, &session),
        Dialect::Matrix => matrix::credentials(state, &session),
        Dialect::Allauth => allauth::credentials(state, &session),
        Dialect::HomeAssistant => home_assistant::credentials(state, &session),
    };
    (session, credentials)
}

/// A credential of `purpose` for a session, derived from the store's secret and the session
/// id: the APIs whose tokens are not their session ids (Better Auth, Matrix, allauth) find
/// the session by deriving each live one's and comparing, so nothing more is stored.
pub fn derived_token(state: &MockState, purpose: &str, session_id: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!(
        "{}:{purpose}:{session_id}",
        state.store.jwt_secret()
    ));
    // 32 letters and digits, as Better Auth's own tokens are.
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    digest
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}
