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

/// A base URL always ends in `/`, so joining `login` keeps any path prefix.
pub fn parse_base_url(input: &str) -> Result<Url> {
    let trimmed = input.trim();
    let mut url = Url::parse(trimmed)
        .map_err(|e| Error::InvalidInput(format!("{trimmed:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::InvalidInput(format!(
            "{trimmed:?} is not an http(s) URL"
        )));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

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
