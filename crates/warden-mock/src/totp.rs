//! TOTP second factors (RFC 6238: SHA-1, 6 digits, 30 s), computed at the mock's time.

use chrono::{DateTime, Utc};
use rand::Rng;
use totp_rs::{Algorithm, Secret, TOTP};

use crate::store::Totp;

/// A fresh secret and ten backup codes.
pub fn enroll() -> Totp {
    let mut rng = rand::rng();
    let bytes: [u8; 20] = rng.random();
    let backup_codes = (0..10)
        .map(|_| format!("{:08}", rng.random_range(0..100_000_000u32)))
        .collect();
    Totp {
        secret: Secret::Raw(bytes.to_vec()).to_encoded().to_string(),
        backup_codes,
    }
}

fn totp(secret: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().ok()?;
    TOTP::new_unchecked(Algorithm::SHA1, 6, 1, 30, bytes).into()
}

fn seconds(now: DateTime<Utc>) -> u64 {
    u64::try_from(now.timestamp()).unwrap_or_default()
}

/// The code an authenticator shows at `now`.
pub fn code_at(secret: &str, now: DateTime<Utc>) -> Option<String> {
    Some(totp(secret)?.generate(seconds(now)))
}

/// Accepts the code of the current step or the one either side, as real servers do.
pub fn check(secret: &str, code: &str, now: DateTime<Utc>) -> bool {
    totp(secret).is_some_and(|t| t.check(code.trim(), seconds(now)))
}

/// What an authenticator app scans.
pub fn otpauth_url(secret: &str, account: &str, issuer: &str) -> String {
    let label: String =
        url::form_urlencoded::byte_serialize(format!("{issuer}:{account}").as_bytes()).collect();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("secret", secret)
        .append_pair("issuer", issuer)
        .finish();
    format!("otpauth://totp/{label}?{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_of_now_checks_and_a_stale_one_does_not() {
        let totp = enroll();
        let now = Utc::now();
        let code = code_at(&totp.secret, now).expect("a code");
        assert_eq!(code.len(), 6);
        assert!(check(&totp.secret, &code, now));
        assert!(!check(
            &totp.secret,
            &code,
            now + chrono::Duration::minutes(5)
        ));
        assert_eq!(totp.backup_codes.len(), 10);
    }
}
