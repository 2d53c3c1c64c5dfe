//! HS256 JWTs, checked against the mock's clock rather than the wall clock, so the virtual
//! clock expires tokens too. Each API signs with its own key: one API's token is garbage to
//! another, as between real services.

use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::dialect::Dialect;

/// Why a token was refused, in the words of the `jsonwebtoken` npm package the real servers use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtError {
    Malformed,
    Expired,
    BadSignature,
}

impl JwtError {
    pub fn message(self) -> &'static str {
        match self {
            JwtError::Malformed => "jwt malformed",
            JwtError::Expired => "jwt expired",
            JwtError::BadSignature => "invalid signature",
        }
    }
}

fn key(secret: &str, dialect: Dialect) -> Vec<u8> {
    format!("{secret}:{}", dialect.name()).into_bytes()
}

pub fn sign(secret: &str, dialect: Dialect, claims: &impl Serialize) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(&key(secret, dialect)),
    )
    // Serializing a plain struct of strings and numbers with an HMAC key cannot fail.
    .unwrap_or_default()
}

/// Checks the signature, then `exp` against `now`.
pub fn verify<T: DeserializeOwned>(
    secret: &str,
    dialect: Dialect,
    token: &str,
    now: DateTime<Utc>,
) -> Result<T, JwtError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<serde_json::Value>(
        token,
        &DecodingKey::from_secret(&key(secret, dialect)),
        &validation,
    )
    .map_err(|e| match e.kind() {
        ErrorKind::InvalidSignature => JwtError::BadSignature,
        _ => JwtError::Malformed,
    })?;
    match data.claims.get("exp").and_then(serde_json::Value::as_i64) {
        Some(exp) if exp > now.timestamp() => {}
        _ => return Err(JwtError::Expired),
    }
    serde_json::from_value(data.claims).map_err(|_| JwtError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Claims {
        sub: String,
        exp: i64,
    }

    #[test]
    fn tokens_verify_until_the_mock_clock_passes_exp() {
        let now = Utc::now();
        let claims = Claims {
            sub: "1".into(),
            exp: (now + Duration::minutes(15)).timestamp(),
        };
        let token = sign("s", Dialect::NodeAuth, &claims);
        assert_eq!(
            verify::<Claims>("s", Dialect::NodeAuth, &token, now),
            Ok(claims)
        );
        let later = now + Duration::minutes(16);
        assert_eq!(
            verify::<Claims>("s", Dialect::NodeAuth, &token, later),
            Err(JwtError::Expired)
        );
        assert_eq!(
            verify::<Claims>("other", Dialect::NodeAuth, &token, now),
            Err(JwtError::BadSignature)
        );
        assert_eq!(
            verify::<Claims>("s", Dialect::Rtc, &token, now),
            Err(JwtError::BadSignature)
        );
        assert_eq!(
            verify::<Claims>("s", Dialect::NodeAuth, "not.a.jwt", now),
            Err(JwtError::Malformed)
        );
    }
}
