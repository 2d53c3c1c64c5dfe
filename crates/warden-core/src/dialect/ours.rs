//! Knowing Session Warden's own session among those listed, and what we hold for it: the
//! server id our token names, the secret parts of what we keep, the claims of a JWT read
//! (not verified: the server verifies).

use super::{DialectKind, allauth, better_auth, home_assistant, matrix, node_auth};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::session::Session;

/// Which listed session is Session Warden's own: only the one whose server id is the one we
/// hold, where our token names it (`own_server_id`); where it does not, the one the server
/// marks current, if it marks exactly one. Several sessions claiming to be current, or one
/// id listed twice, make at most one ours: the rest are anyone's, listed and judged so.
pub(crate) struct Ours<'a> {
    id: Option<&'a str>,
    marks_are_believed: bool,
    found: bool,
}

impl<'a> Ours<'a> {
    /// `marked`: how many listed sessions the server marks current.
    pub fn new(id: Option<&'a str>, marked: usize) -> Self {
        Self {
            id,
            marks_are_believed: marked == 1,
            found: false,
        }
    }

    /// Whether this listed session is ours (true at most once per listing).
    pub fn claim(&mut self, server_id: &str, marked_current: bool) -> bool {
        if self.found {
            return false;
        }
        self.found = match self.id {
            Some(ours) => server_id == ours,
            None => marked_current && self.marks_are_believed,
        };
        self.found
    }
}

/// The server's id of the session our token belongs to, where the token says it: the
/// `sessionId` of SecureAuth's and RTC's JWT, node-auth's `sid`, hectoday's cookie (which is
/// the id). Read, not verified: the server verifies; we only need to know which row is us.
pub(crate) fn own_server_id(kind: DialectKind, token: &Secret) -> Option<String> {
    match kind {
        DialectKind::SecureAuth | DialectKind::Rtc => jwt_claim(token.expose(), "sessionId"),
        DialectKind::NodeAuth => node_auth::sid_of(token),
        DialectKind::Hectoday => Some(token.expose().to_owned()),
        DialectKind::NodeAuthAdmin => None,
        DialectKind::BetterAuth => better_auth::session_id_of(token),
        DialectKind::Matrix => matrix::device_id_of(token),
        DialectKind::Allauth => allauth::session_id_of(token),
        DialectKind::HomeAssistant => home_assistant::own_id(token),
    }
}

/// The secrets within what we hold for an account, for `scrub`: not the ids and names
/// kept beside them (a Matrix device id, Better Auth's cookie name), which are no secret
/// and would be hidden from every text they appear in.
pub(crate) fn secret_parts(kind: DialectKind, token: &Secret) -> Vec<String> {
    match kind {
        DialectKind::BetterAuth => better_auth::secret_parts(token),
        DialectKind::Matrix | DialectKind::Allauth => split_held(token, kind.title())
            .map(|(_, token)| vec![token.to_owned()])
            .unwrap_or_default(),
        // node-auth's access and refresh tokens, a line each; the others' token whole.
        _ => token.expose().lines().map(str::to_owned).collect(),
    }
}

/// What we hold on the APIs whose token does not name our session (Matrix, allauth): our
/// session's (or device's) id and its token, kept as one secret.
pub(crate) struct Held {
    pub id: String,
    pub token: Secret,
}

impl Held {
    pub fn from_secret(token: &Secret, api: &str) -> Result<Held> {
        let (id, token) = split_held(token, api)?;
        Ok(Held {
            id: id.to_owned(),
            token: Secret::new(token),
        })
    }

    pub fn into_secret(self) -> Secret {
        join_held(&self.id, self.token.expose())
    }

    /// The server ids of every listed session but ours: what "sign out all others" sends,
    /// in one request, on the APIs that take a list.
    pub fn others<'a>(&self, listed: &'a [Session]) -> Vec<&'a str> {
        listed
            .iter()
            .filter(|s| !s.is_current && s.server_id.expose() != self.id)
            .map(|s| s.server_id.expose())
            .collect()
    }
}

/// Two values kept as one secret in the keyring, a line each (node-auth's two tokens; our
/// device or session id and its token on Matrix and allauth).
pub(crate) fn split_held<'a>(token: &'a Secret, api: &str) -> Result<(&'a str, &'a str)> {
    token
        .expose()
        .split_once('\n')
        .ok_or_else(|| Error::Protocol(format!("the stored {api} credential is damaged")))
}

pub(crate) fn join_held(first: &str, second: &str) -> Secret {
    Secret::new(format!("{first}\n{second}"))
}

/// A JWT's payload, unverified.
fn jwt_claims(jwt: &str) -> Option<serde_json::Value> {
    use base64::Engine;
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// When the session `token` holds ends, where the token says (SecureAuth's and RTC's JWT
/// `exp`: their sessions end then whatever their activity).
pub(crate) fn own_session_ends(
    kind: DialectKind,
    token: &Secret,
) -> Option<chrono::DateTime<chrono::Utc>> {
    match kind {
        DialectKind::SecureAuth | DialectKind::Rtc => jwt_time(token.expose(), "exp"),
        _ => None,
    }
}

/// A string claim of a JWT's payload, unverified.
pub(crate) fn jwt_claim(jwt: &str, claim: &str) -> Option<String> {
    jwt_claims(jwt)?.get(claim)?.as_str().map(str::to_owned)
}

/// A time claim (`iat`, `exp`: seconds since the epoch) of a JWT's payload, unverified.
/// Out of the years a calendar holds, none.
pub(crate) fn jwt_time(jwt: &str, claim: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp(jwt_claims(jwt)?.get(claim)?.as_i64()?, 0)
}
