//! An account the user watches: where it lives and which API it speaks. Never a secret.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::dialect::DialectKind;
use crate::error::{Error, Result};

/// A short random id, stable for the life of the account. Shared, not copied: every session
/// of a listing carries it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(type = "string"))]
pub struct AccountId(std::sync::Arc<str>);

impl AccountId {
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string()[..12].into())
    }

    pub fn from_stored(id: String) -> Self {
        Self(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for AccountId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Account {
    pub id: AccountId,
    pub label: String,
    pub base_url: Url,
    pub dialect: DialectKind,
    /// What the user signs in with: an email, a username or a phone number.
    pub login: String,
    pub added_at: DateTime<Utc>,
}

impl Account {
    /// Whether this account is the one `login` signs in to at `base_url`: the same server
    /// and the same person, whatever the spelling of the login (case; on Matrix, `@name:server`
    /// or `name`).
    pub fn is_same_login(&self, base_url: &Url, dialect: DialectKind, login: &str) -> bool {
        self.base_url == *base_url
            && login_key(self.dialect, &self.login) == login_key(dialect, login)
    }
}

/// A login as a server tells people apart: case does not count; a Matrix user is its
/// localpart on its homeserver.
fn login_key(dialect: DialectKind, login: &str) -> String {
    let login = login.trim();
    let login = match dialect {
        DialectKind::Matrix => login
            .strip_prefix('@')
            .map_or(login, |l| l.split(':').next().unwrap_or(l)),
        _ => login,
    };
    login.to_lowercase()
}

/// What the user supplies to add an account; the password travels separately, as a `Secret`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewAccount {
    pub url: String,
    pub dialect: DialectKind,
    pub login: String,
    #[serde(default)]
    pub label: Option<String>,
}

impl NewAccount {
    /// Checks the input and fills the defaults, before anything touches the network.
    pub(crate) fn validate(&self) -> Result<(Url, String, String)> {
        let url = parse_base_url(&self.url)?;
        let login = self.login.trim();
        if login.is_empty() {
            return Err(Error::InvalidInput(
                "the login (email or username) is empty".into(),
            ));
        }
        let label = match self.label.as_deref().map(str::trim) {
            Some(label) if !label.is_empty() => label.to_owned(),
            _ => format!("{login}@{}", url.host_str().unwrap_or("server")),
        };
        Ok((url, login.to_owned(), label))
    }
}

/// A base URL always ends in `/`, so joining `login` keeps any path prefix. A URL with a
/// user name or password in it is refused, and never repeated: it would be kept in the
/// ledger, printed by `accounts list`, and sent to the server as HTTP Basic auth.
pub fn parse_base_url(input: &str) -> Result<Url> {
    let trimmed = input.trim();
    // What the error may repeat of the input: nothing, when it may hold a password.
    let shown = if trimmed.contains('@') {
        "that URL".to_owned()
    } else {
        format!("{trimmed:?}")
    };
    let mut url = Url::parse(trimmed)
        .map_err(|e| Error::InvalidInput(format!("{shown} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::InvalidInput(format!(
            "{shown} is not an http(s) URL"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::InvalidInput(
            "the URL has a user name or password in it; give the address alone (the login \
             and password are asked separately, and the password is kept in the keyring)"
                .into(),
        ));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

/// Whether `url` is on this machine (`localhost`, 127.0.0.0/8, ::1): traffic to it never
/// leaves it, so plain HTTP is fine and no proxy is wanted.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        None => false,
    }
}

/// What to tell the person before a password goes to `url`, when it would travel in the
/// clear: plain `http://` to another machine. `None` when there is nothing to say.
pub fn transport_warning(url: &Url, dialect: crate::dialect::DialectKind) -> Option<String> {
    if url.scheme() != "http" || is_loopback(url) {
        return None;
    }
    let what = if dialect.uses_password() {
        "your password and session token"
    } else {
        "your one-time code and session token"
    };
    Some(format!(
        "{} is plain http://: {what} would cross the network unencrypted, readable by anyone \
         on the way. Use its https:// address if it has one.",
        url.host_str().unwrap_or("this server")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_person_on_one_server_is_one_account_however_the_login_is_spelt() {
        let matrix = Account {
            id: AccountId::generate(),
            label: "chat".into(),
            base_url: parse_base_url("https://matrix.example.org").expect("url"),
            dialect: DialectKind::Matrix,
            login: "@Alice:example.org".into(),
            added_at: Utc::now(),
        };
        let same = parse_base_url("https://MATRIX.example.org/").expect("url");
        assert!(matrix.is_same_login(&same, DialectKind::Matrix, "alice"));
        assert!(matrix.is_same_login(&same, DialectKind::Matrix, " @alice:example.org "));
        assert!(!matrix.is_same_login(&same, DialectKind::Matrix, "bob"));
        let elsewhere = parse_base_url("https://matrix.example.org/other/").expect("url");
        assert!(!matrix.is_same_login(&elsewhere, DialectKind::Matrix, "alice"));
    }

    #[test]
    fn credentials_in_a_url_are_refused_and_never_repeated() {
        for url in [
            "http://alice:hunter2@example.com/",
            "https://alice@example.com/api",
            "http://:hunter2@127.0.0.1:8080/",
            "http://alice:hunter2@exa mple.com/",
        ] {
            let err = parse_base_url(url).expect_err("refused");
            let said = err.to_string();
            assert!(
                !said.contains("hunter2") && !said.contains("alice"),
                "{said}"
            );
            assert_eq!(err.code(), crate::error::ErrorCode::InvalidInput);
        }
    }

    #[test]
    fn plain_http_is_told_only_off_this_machine() {
        use crate::dialect::DialectKind::{Hectoday, SecureAuth};
        let url = |u: &str| parse_base_url(u).expect("a URL");
        for local in [
            "http://127.0.0.1:8787/",
            "http://localhost/",
            "http://[::1]:8080/",
            "http://127.5.6.7/",
            "http://app.localhost/",
            "https://example.com/",
        ] {
            assert_eq!(transport_warning(&url(local), Hectoday), None, "{local}");
        }
        let said = transport_warning(&url("http://example.com/api"), Hectoday).expect("told");
        assert!(
            said.contains("example.com") && said.contains("password"),
            "{said}"
        );
        let said = transport_warning(&url("http://10.0.0.2/"), SecureAuth).expect("told");
        assert!(said.contains("one-time code"), "{said}");
    }

    #[test]
    fn a_base_url_keeps_its_path_prefix_and_gains_a_trailing_slash() {
        let url = parse_base_url("http://127.0.0.1:8080/hectoday").expect("valid");
        assert_eq!(url.join("login").expect("joins").path(), "/hectoday/login");
    }

    #[test]
    fn a_url_without_http_is_refused_in_words() {
        let err = parse_base_url("ftp://example.com").expect_err("ftp is not a session API");
        assert!(err.to_string().contains("not an http(s) URL"), "{err}");
    }

    #[test]
    fn the_default_label_names_login_and_host() {
        let new = NewAccount {
            url: "https://example.com/".into(),
            dialect: DialectKind::Hectoday,
            login: " demo@example.com ".into(),
            label: None,
        };
        let (_, login, label) = new.validate().expect("valid");
        assert_eq!(login, "demo@example.com");
        assert_eq!(label, "demo@example.com@example.com");
    }
}
