//! Secrets (passwords, session tokens, server-side session ids that double as cookies).
//! `Secret` prints as `[REDACTED]` and has no `Serialize`: it cannot reach a log, a file or
//! the webview by accident. It can be *deserialized*, so a typed password arrives wrapped.

use secrecy::ExposeSecret;

/// A secret string. `Debug` redacts it; it implements neither `Display` nor `Serialize`.
#[derive(Clone, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(secrecy::SecretString);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(secrecy::SecretString::from(value.into()))
    }

    /// The only way to read the value: every call site is a place a secret leaves the type.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for Secret {}

#[cfg(test)]
mod tests {
    use super::*;

    static_assertions::assert_not_impl_any!(Secret: serde::Serialize, std::fmt::Display);

    #[test]
    fn debug_output_never_contains_the_value() {
        let secret = Secret::new("hunter2-very-secret");
        let printed = format!("{secret:?} {:?}", Some(&secret));
        assert!(
            !printed.contains("hunter2"),
            "Debug leaked the secret: {printed}"
        );
        assert!(printed.contains("REDACTED"));
    }

    #[test]
    fn a_secret_can_be_deserialized_from_a_form() {
        let secret: Secret = serde_json::from_str("\"pw\"").expect("a JSON string is a secret");
        assert_eq!(secret.expose(), "pw");
    }
}
