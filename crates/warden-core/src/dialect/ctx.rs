//! Where and as whom a dialect call is made, and the URLs it calls: a session id is one
//! path segment, never a way into another path.

use std::sync::Arc;

use url::Url;

use crate::accounts::account::AccountId;
use crate::error::{Error, Result};
use crate::prompt::{CodePrompt, CodeRequest};
use crate::secret::Secret;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
