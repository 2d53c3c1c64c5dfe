//! Every secret Session Warden knows of an account — the password it sends, the tokens it
//! holds, the tokens of other sessions an API hands out (Better Auth's listing, hectoday's
//! ids) — is removed from what a server says, where it enters the engine
//! (`server_text::clean_error`, `server_text::clean`), as control characters are. A server
//! that quotes the password back in an error message, or another session's token, would
//! otherwise have it printed, notified, kept in the history and exported.
//!
//! A dialect call runs inside its account's scope (`Known::scope`): the cleaning functions
//! look the scope up, so no dialect has to remember to pass the secrets along, and a
//! secret never has to be copied into an error to be compared.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::secret::Secret;

/// What takes a secret's place in a server's text.
pub const HIDDEN: &str = "[hidden]";

/// Shorter than this, a "secret" is any word: scrubbing it would garble the text and hide
/// nothing (no real password or token is this short).
const MIN_CHARS: usize = 4;

/// Other sessions' tokens remembered per account; the oldest go first. Ours and the
/// password are always kept.
const HANDED_OUT: usize = 4096;

tokio::task_local! {
    static SCOPE: Known;
}

/// The secrets of one account, shared by every call on it.
#[derive(Clone, Default)]
pub struct Known(Arc<Mutex<Secrets>>);

#[derive(Default)]
struct Secrets {
    /// The password and our own tokens, in every form a server may quote them (`forms`):
    /// few, and looked for in every text a server sends.
    own: Vec<String>,
    /// Other sessions' tokens, in every form: looked for in error texts only (a listing
    /// names thousands). The set answers "known already?" for each token of each listing.
    handed_out: VecDeque<String>,
    handed_out_set: std::collections::HashSet<String>,
    password_known: bool,
}

impl Known {
    fn lock(&self) -> std::sync::MutexGuard<'_, Secrets> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Our own secret (the password, a token we hold: `dialect::secret_parts`).
    pub fn add_own(&self, secret: &str) {
        let mut secrets = self.lock();
        for part in parts(secret) {
            for form in forms(part) {
                if !secrets.own.iter().any(|s| *s == form) {
                    secrets.own.push(form.into_owned());
                }
            }
        }
    }

    pub fn add_password(&self, password: &Secret) {
        self.add_own(password.expose());
        self.lock().password_known = true;
    }

    /// The keyring was asked and holds no password: not asked again by this process.
    pub fn no_password(&self) {
        self.lock().password_known = true;
    }

    pub fn password_known(&self) -> bool {
        self.lock().password_known
    }

    fn add_handed_out(&self, token: &str) {
        let mut secrets = self.lock();
        for part in parts(token) {
            if secrets.handed_out_set.contains(part) {
                continue;
            }
            for form in forms(part) {
                if secrets.handed_out.len() >= HANDED_OUT
                    && let Some(oldest) = secrets.handed_out.pop_front()
                {
                    secrets.handed_out_set.remove(&oldest);
                }
                secrets.handed_out_set.insert(form.to_string());
                secrets.handed_out.push_back(form.into_owned());
            }
        }
    }

    /// Runs `call` with these secrets in scope: what the server says during it is scrubbed
    /// of them, and the tokens it hands out are learned.
    pub async fn scope<F: Future>(&self, call: F) -> F::Output {
        SCOPE.scope(self.clone(), call).await
    }

    fn scrub<'a>(&self, text: &'a str, everything: bool) -> Cow<'a, str> {
        let secrets = self.lock();
        let handed_out = secrets.handed_out.iter().filter(|_| everything);
        let mut text = Cow::Borrowed(text);
        for secret in secrets.own.iter().chain(handed_out) {
            if text.contains(secret.as_str()) {
                text = Cow::Owned(text.replace(secret.as_str(), HIDDEN));
            }
        }
        text
    }
}

/// The parts of a secret worth looking for: each line (a token as a server may give two),
/// long enough to mean something.
fn parts(secret: &str) -> impl Iterator<Item = &str> {
    secret
        .split('\n')
        .map(str::trim)
        .filter(|p| p.chars().count() >= MIN_CHARS)
}

/// A secret as it may come back: as sent, and as a form or a URL would quote it.
fn forms(secret: &str) -> impl Iterator<Item = Cow<'_, str>> {
    let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let encoded = (encoded != secret).then_some(Cow::Owned(encoded));
    std::iter::once(Cow::Borrowed(secret)).chain(encoded)
}

/// A token another session holds, as an API hands it out: scrubbed from error texts from now
/// on. Outside a call's scope (a benchmark's parse), nothing to do.
pub(crate) fn learn(token: &str) {
    let _ = SCOPE.try_with(|known| known.add_handed_out(token));
}

/// An error text without any secret of the account in scope.
pub(crate) fn error_text(text: &str) -> Cow<'_, str> {
    SCOPE
        .try_with(|known| match known.scrub(text, true) {
            Cow::Borrowed(_) => None,
            Cow::Owned(owned) => Some(owned),
        })
        .ok()
        .flatten()
        .map_or(Cow::Borrowed(text), Cow::Owned)
}

/// A session's text without our own secrets (other sessions' tokens are not looked for
/// here: a listing names thousands of sessions, each with several fields).
pub(crate) fn session_text(text: &str) -> Cow<'_, str> {
    SCOPE
        .try_with(|known| match known.scrub(text, false) {
            Cow::Borrowed(_) => None,
            Cow::Owned(owned) => Some(owned),
        })
        .ok()
        .flatten()
        .map_or(Cow::Borrowed(text), Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_known_secret_is_hidden_wherever_a_server_quotes_it_and_only_in_its_scope() {
        let known = Known::default();
        known.add_password(&Secret::new("correct horse&battery"));
        known.add_own("our-access-token");
        let quoted = "wrong: correct horse&battery, correct+horse%26battery, our-access-token";
        known
            .scope(async {
                learn("their-token-31337");
                learn("ab");
                assert_eq!(error_text(quoted), "wrong: [hidden], [hidden], [hidden]");
                assert_eq!(
                    error_text("session their-token-31337 not found"),
                    "session [hidden] not found"
                );
                // Session fields: our own secrets, not every other session's token.
                assert_eq!(session_text("our-access-token"), "[hidden]");
                assert_eq!(session_text("their-token-31337"), "their-token-31337");
                // Too short to be a secret: the text stays as it is.
                assert_eq!(error_text("ab cd"), "ab cd");
                assert!(matches!(error_text("nothing to hide"), Cow::Borrowed(_)));
            })
            .await;
        assert_eq!(
            error_text(quoted),
            quoted,
            "outside the scope, nothing known"
        );
        assert!(known.password_known());
    }
}
