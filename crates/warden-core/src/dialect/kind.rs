//! Which API a server speaks, and what each API can and cannot do: the capability table
//! every front end reads (what a sign-in asks, whether a revoke asks the password again,
//! how fine its activity times are), decided here once.

use serde::{Deserialize, Serialize};

use super::{better_auth, home_assistant, node_auth};
use crate::error::{Error, Result};

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
        match self {
            DialectKind::NodeAuth => Some(node_auth::caveat(access_lifetime)),
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
