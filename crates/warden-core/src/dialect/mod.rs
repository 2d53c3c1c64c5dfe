//! The session APIs Session Warden speaks. Each dialect module owns its wire types and
//! converts them into the domain model at the boundary; its status codes map to `Error`s
//! per API, never by a guess shared between APIs.

pub mod allauth;
pub mod better_auth;
mod detect;
pub mod hectoday;
pub mod home_assistant;
pub mod matrix;
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
use crate::session::{Session, SessionId};

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
    #[serde(rename = "better-auth")]
    BetterAuth,
    #[serde(rename = "matrix")]
    Matrix,
    #[serde(rename = "allauth")]
    Allauth,
    #[serde(rename = "home-assistant")]
    HomeAssistant,
}

impl DialectKind {
    pub const ALL: [DialectKind; 9] = [
        DialectKind::SecureAuth,
        DialectKind::NodeAuth,
        DialectKind::Hectoday,
        DialectKind::Rtc,
        DialectKind::NodeAuthAdmin,
        DialectKind::BetterAuth,
        DialectKind::Matrix,
        DialectKind::Allauth,
        DialectKind::HomeAssistant,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DialectKind::SecureAuth => "secureauth",
            DialectKind::NodeAuth => "node-auth",
            DialectKind::Hectoday => "hectoday",
            DialectKind::Rtc => "rtc",
            DialectKind::NodeAuthAdmin => "node-auth-admin",
            DialectKind::BetterAuth => "better-auth",
            DialectKind::Matrix => "matrix",
            DialectKind::Allauth => "allauth",
            DialectKind::HomeAssistant => "home-assistant",
        }
    }

    /// The API's name as people know it.
    pub fn title(self) -> &'static str {
        match self {
            DialectKind::SecureAuth => "SecureAuth",
            DialectKind::NodeAuth => "node-auth",
            DialectKind::Hectoday => "hectoday",
            DialectKind::Rtc => "RTC Collector",
            DialectKind::NodeAuthAdmin => "node-auth (admin API)",
            DialectKind::BetterAuth => "Better Auth",
            DialectKind::Matrix => "Matrix",
            DialectKind::Allauth => "django-allauth",
            DialectKind::HomeAssistant => "Home Assistant",
        }
    }

    /// Whether signing a session out asks the server for the account's password again
    /// (Matrix's User-Interactive Auth): the caller hands it over from the keyring.
    pub fn revoke_needs_password(self) -> bool {
        self == DialectKind::Matrix
    }

    /// Whether the server keeps session names, so Rename renames it there for every client
    /// (Matrix's device `display_name`) instead of a note of ours.
    pub fn renames_on_server(self) -> bool {
        self == DialectKind::Matrix
    }

    /// What the person must know before confirming a sign-out, where it costs more than
    /// the session.
    pub fn revoke_warning(self) -> Option<&'static str> {
        match self {
            DialectKind::Matrix => Some(
                "Signing a Matrix device out also destroys its end-to-end encryption keys: \
                 unless they are backed up, it loses access to its encrypted message history.",
            ),
            _ => None,
        }
    }

    /// How fine the API's "last active" is, where coarser than a poll: Better Auth moves
    /// `updatedAt` at most once a day.
    pub fn activity_granularity(self) -> Option<chrono::TimeDelta> {
        match self {
            DialectKind::BetterAuth => Some(better_auth::ACTIVITY_GRANULARITY),
            DialectKind::HomeAssistant => Some(home_assistant::ACTIVITY_GRANULARITY),
            _ => None,
        }
    }

    /// Whether a session's address and agent are where it was last seen (allauth rewrites
    /// them on every request) rather than where it signed in.
    pub fn address_is_last_seen(self) -> bool {
        matches!(
            self,
            DialectKind::Allauth | DialectKind::Matrix | DialectKind::HomeAssistant
        )
    }

    /// What the API keeps of its sessions, where that is less than a person would assume:
    /// the window says it on hover, `warden sessions` under its table.
    pub fn what_is_known(self) -> Option<&'static str> {
        match self {
            DialectKind::HomeAssistant => Some(home_assistant::WHAT_IS_KNOWN),
            DialectKind::BetterAuth => Some(
                "Better Auth records activity once a day at most: \"last active\" is known to \
                 the day",
            ),
            _ => None,
        }
    }

    /// Whether Session Warden can sign in again by itself when its session ends: SecureAuth
    /// needs a new code from the person every time; Home Assistant counts a refused try
    /// against the address, so only the person signs in there.
    pub fn signs_in_alone(self) -> bool {
        !matches!(self, DialectKind::SecureAuth | DialectKind::HomeAssistant)
    }

    /// Whether the account signs in with a password (or secret): SecureAuth signs in with a
    /// phone number and a code sent to it, and has none.
    pub fn uses_password(self) -> bool {
        self.sign_in_form().password_label.is_some()
    }

    /// What the person should know before watching an account this way, when watching it
    /// costs something (docs/apis.md §2, quirk 1). Before signing in, the access
    /// tokens' lifetime is not known: the library's default is named.
    pub fn caveat(self) -> Option<String> {
        self.caveat_for(None)
    }

    /// [`DialectKind::caveat`] with the lifetime of the server's access tokens, read from the
    /// tokens it gave us.
    pub fn caveat_for(self, access_lifetime: Option<chrono::TimeDelta>) -> Option<String> {
        let within = match access_lifetime {
            Some(lifetime) => format!("within {}", node_auth::minutes(lifetime)),
            None => "within 15 minutes on node-auth's default settings".into(),
        };
        match self {
            DialectKind::NodeAuth => Some(format!(
                "node-auth keeps one refresh token per user: Session Warden's own sign-in \
                 takes it from your other devices, which are then signed out {within}, when \
                 their access token runs out. If you run this server, watch the account \
                 through its admin API (node-auth-admin) instead."
            )),
            _ => None,
        }
    }
}

/// What signing in to an account of one API asks of the person: the fields of every front
/// end's form, decided here once (the window's add form and "Sign in again", the CLI's
/// prompts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SignInForm {
    /// What the login field is: "Email", "Phone number", "User id"…
    pub login_label: String,
    /// What the secret field is ("Password", "Admin secret"); `None` where the API has no
    /// password (SecureAuth signs in with a code sent to the phone).
    pub password_label: Option<String>,
    /// The one-time codes it may ask for, in words; `None` where it never asks.
    pub codes: Option<String>,
    /// What an account of this API needs when it can no longer sign in by itself.
    pub sign_in_again: String,
}

impl DialectKind {
    pub fn sign_in_form(self) -> SignInForm {
        let password = |label: &str| Some(label.to_owned());
        let again_with_password = "The service no longer accepts the saved password, or asks \
                                   for a one-time code.";
        let (login, secret, codes, again) = match self {
            DialectKind::SecureAuth => (
                "Phone number",
                None,
                Some("a one-time code the service sends to that phone"),
                "The service needs a new one-time code: Sign in again sends one to your phone.",
            ),
            DialectKind::NodeAuth => (
                "Email",
                password("Password"),
                Some("an authenticator code, where two-factor sign-in is on"),
                again_with_password,
            ),
            DialectKind::Hectoday => (
                "Email",
                password("Password"),
                None,
                "The service no longer accepts the saved password.",
            ),
            DialectKind::Rtc => (
                "Email or username",
                password("Password"),
                Some("an authenticator code or a backup code, where two-factor sign-in is on"),
                again_with_password,
            ),
            DialectKind::NodeAuthAdmin => (
                "User id",
                password("Admin secret"),
                None,
                "The server no longer accepts the admin secret.",
            ),
            DialectKind::BetterAuth => (
                "Email",
                password("Password"),
                Some("an authenticator code, where two-factor sign-in is on"),
                again_with_password,
            ),
            DialectKind::Matrix => (
                "Matrix user (@name:server or name)",
                password("Password"),
                None,
                "The homeserver no longer accepts the saved password.",
            ),
            DialectKind::Allauth => (
                "Email or username",
                password("Password"),
                Some("an authenticator code or a recovery code, where two-factor sign-in is on"),
                again_with_password,
            ),
            DialectKind::HomeAssistant => (
                "Username",
                password("Password"),
                Some("an authenticator code, where two-factor sign-in is on"),
                "Home Assistant no longer accepts Session Warden's sign-in (it was signed out, \
                 or unused for 90 days): sign in again with your password.",
            ),
        };
        SignInForm {
            login_label: login.to_owned(),
            password_label: secret,
            codes: codes.map(str::to_owned),
            sign_in_again: again.to_owned(),
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

/// Whatever the API, what its server says is a stranger's word: its text is cleaned
/// (`server_text`), its times must be ones a calendar and the ledger can hold, and two
/// listed sessions never share one id.
fn admitted(mut sessions: Vec<Session>) -> Result<Vec<Session>> {
    for session in &mut sessions {
        check_times(session);
    }
    server_text::clean_sessions(&mut sessions);
    mark_non_addresses(&mut sessions);
    unique_ids(&mut sessions);
    Ok(sessions)
}

/// An `ip` that is not an IP address stays the server's text, marked as such
/// (`session::NOT_AN_ADDRESS`): no front end shows a claim as an address, and no rule reads
/// a network into it (`network_of` is `None` for it).
fn mark_non_addresses(sessions: &mut [Session]) {
    for session in sessions {
        if let Some(ip) = &mut session.ip
            && ip.parse::<std::net::IpAddr>().is_err()
        {
            ip.push_str(crate::session::NOT_AN_ADDRESS);
        }
    }
}

/// The years a server's time may fall in: from the Unix epoch to the last year RFC 3339
/// (and so the ledger) can write. A `lastActiveAt` in the year 262142 is a broken or
/// hostile server: never carried into arithmetic.
const PLAUSIBLE_YEARS: std::ops::RangeInclusive<i32> = 1970..=9999;

/// Leaves out of the session each time no server means (unreadable, or outside
/// `PLAUSIBLE_YEARS`), and says so in `Session::unreadable`: the session and the rest of the
/// listing are kept, so one broken row never hides the others.
fn check_times(session: &mut Session) {
    use chrono::Datelike;
    let mut said = Vec::new();
    for (what, time) in [
        ("sign-in time", &mut session.created_at),
        ("last activity", &mut session.last_active_at),
        ("expiry", &mut session.expires_at),
    ] {
        let Some(at) = *time else { continue };
        if at == wire_time::UNREADABLE {
            said.push(format!("its {what} is not a time"));
        } else if !PLAUSIBLE_YEARS.contains(&at.year()) {
            said.push(format!("its {what} is in the year {}", at.year()));
        } else {
            continue;
        }
        *time = None;
    }
    if !said.is_empty() {
        session.unreadable = Some(format!(
            "The server sent what no server means: {}; left out",
            said.join(", ")
        ));
    }
}

/// A server that lists one id twice lists two sessions as far as we are concerned: the
/// second and later get an id of their own (so nothing keyed by id mixes them up), and
/// only the first can be ours.
fn unique_ids(sessions: &mut [Session]) {
    // Every poll of every account comes through here, and servers almost never repeat an
    // id: look first, without copying an id, and renumber only when one is repeated.
    let mut ids = foldhash::HashSet::with_capacity_and_hasher(sessions.len(), Default::default());
    if sessions.iter().all(|s| ids.insert(&s.id)) {
        return;
    }
    let mut seen: foldhash::HashMap<SessionId, u32> = foldhash::HashMap::default();
    for session in sessions.iter_mut() {
        let count = seen.entry(session.id.clone()).or_insert(0);
        *count += 1;
        if *count > 1 {
            session.id = SessionId::derive_repeat(&session.account, &session.server_id, *count);
            session.is_current = false;
        }
    }
}

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
    /// The account's password, where a call needs it again (Matrix's sign-outs); `None`
    /// everywhere else.
    pub password: Option<&'a Secret>,
}

impl Ctx<'_> {
    pub fn endpoint(&self, path: &str) -> Result<Url> {
        self.base
            .join(path)
            .map_err(|e| Error::InvalidInput(format!("bad URL {}{path}: {e}", self.base)))
    }

    /// `path` followed by a server id as exactly one path segment: every byte but ASCII
    /// letters, digits, `-`, `_` and `~` percent-encoded (`.` too, and `/`, `?`, `#`, spaces),
    /// so an id can only ever name one session. An id of dots alone cannot be written so
    /// (URL parsers read `%2E%2E` as `..`): it is refused. The id may be a secret
    /// (hectoday's is the cookie); the URL is never logged nor put in an error.
    pub fn endpoint_with_id(&self, path: &str, id: &Secret) -> Result<Url> {
        let id = id.expose();
        if id.bytes().all(|b| b == b'.') {
            return Err(Error::Refused(
                "the server gave this session an id that cannot name it in a URL (empty or \
                 only dots); Session Warden sent nothing"
                    .into(),
            ));
        }
        let mut segment = String::with_capacity(id.len() * 3);
        for byte in id.bytes() {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'~') {
                segment.push(char::from(byte));
            } else {
                segment.push_str(&format!("%{byte:02X}"));
            }
        }
        let url = self.base.join(&format!("{path}{segment}")).map_err(|e| {
            Error::InvalidInput(format!("bad URL {}{path}<session id>: {e}", self.base))
        })?;
        // Belt and braces: whatever the parser made of it, the request goes to that one
        // segment under `path`, or nowhere.
        let expected = self.endpoint(path)?;
        let under = url
            .path()
            .strip_prefix(expected.path())
            .is_some_and(|rest| rest == segment);
        if !under || url.query().is_some() || url.fragment().is_some() {
            return Err(Error::Refused(
                "the server gave this session an id that would name another address; Session \
                 Warden sent nothing"
                    .into(),
            ));
        }
        Ok(url)
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

    #[test]
    fn a_session_id_names_one_path_segment_or_nothing() {
        let client = reqwest::Client::new();
        let base: Url = "http://127.0.0.1:1/app/".parse().expect("a URL");
        let account = AccountId::from_stored("acc".into());
        let ctx = Ctx {
            http: &client,
            base: &base,
            account: &account,
            login: "me",
            label: "me",
            now: chrono::Utc::now(),
            password: None,
        };
        let url = ctx
            .endpoint_with_id("api/sessions/", &Secret::new("a b.c/d?e#f%g"))
            .expect("encoded");
        assert_eq!(url.path(), "/app/api/sessions/a%20b%2Ec%2Fd%3Fe%23f%25g");
        assert_eq!((url.query(), url.fragment()), (None, None));
        for id in ["", ".", "..", "..."] {
            let err = ctx
                .endpoint_with_id("api/sessions/", &Secret::new(id))
                .expect_err("refused");
            assert!(matches!(err, Error::Refused(_)), "{id:?}: {err:?}");
            assert!(
                !err.to_string().contains("api/sessions"),
                "no URL in it: {err}"
            );
        }
    }

    #[test]
    fn every_api_says_what_its_sign_in_asks() {
        for kind in DialectKind::ALL {
            let form = kind.sign_in_form();
            assert!(
                !form.login_label.is_empty() && !form.sign_in_again.is_empty(),
                "{kind}"
            );
        }
        assert_eq!(DialectKind::SecureAuth.sign_in_form().password_label, None);
        assert!(!DialectKind::SecureAuth.uses_password());
        assert_eq!(
            DialectKind::NodeAuthAdmin
                .sign_in_form()
                .password_label
                .as_deref(),
            Some("Admin secret")
        );
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
