//! RFC 3339 times as the JSON APIs send them (node-auth, RTC). chrono's own `Deserialize`
//! goes through its general, relaxed parser, which was a quarter of the cost of a
//! 10,000-session listing; its strict RFC 3339 parser is several times faster and takes
//! what these servers send. Anything else (a space for the `T`, say) still gets the
//! relaxed parser, so nothing that parsed before is refused now.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};

/// A time a server sent that no calendar holds ("10000-01-01…", "yesterday", a number of
/// milliseconds past chrono's range), kept in the field it came in until `admitted` leaves
/// it out of the session and says so: one session's unreadable time must not refuse the
/// whole listing.
pub(crate) const UNREADABLE: DateTime<Utc> = DateTime::<Utc>::MIN_UTC;

/// For `#[serde(default, deserialize_with = "wire_time::optional")]`: an unreadable time is
/// [`UNREADABLE`], not an error; anything but a string or null is still an error.
pub(crate) fn optional<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    let Some(text) = Option::<Cow<'de, str>>::deserialize(deserializer)? else {
        return Ok(None);
    };
    Ok(Some(
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.to_utc())
            .or_else(|_| text.parse::<DateTime<Utc>>())
            .unwrap_or(UNREADABLE),
    ))
}

/// The time, unless it is [`UNREADABLE`]: for what is derived from it (an expiry).
pub(crate) fn readable(time: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    time.filter(|t| *t != UNREADABLE)
}

/// Milliseconds since the epoch, or [`UNREADABLE`] past chrono's range.
pub(crate) fn millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(UNREADABLE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct At {
        #[serde(default, deserialize_with = "optional")]
        at: Option<DateTime<Utc>>,
    }

    fn parse(json: &str) -> Result<Option<DateTime<Utc>>, serde_json::Error> {
        serde_json::from_str::<At>(json).map(|a| a.at)
    }

    #[test]
    fn strict_relaxed_absent_and_null_times_parse_as_chrono_would() {
        let cases = [
            r#"{"at":"2026-11-30T09:15:02.123456789+00:00"}"#,
            r#"{"at":"2026-11-30T09:15:02Z"}"#,
            r#"{"at":"2026-11-30T10:15:02+01:00"}"#,
            r#"{"at":"2026-11-30 09:15:02Z"}"#,
            r#"{"at":"2026-11-30T09:15:02\u002B00:00"}"#,
        ];
        for json in cases {
            let text: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
            let expected = text["at"]
                .as_str()
                .and_then(|t| t.parse::<DateTime<Utc>>().ok());
            assert!(expected.is_some(), "{json}");
            assert_eq!(parse(json).ok().flatten(), expected, "{json}");
        }
        assert_eq!(parse("{}").ok(), Some(None));
        assert_eq!(parse(r#"{"at":null}"#).ok(), Some(None));
    }

    #[test]
    fn an_unreadable_time_is_marked_and_a_wrong_type_is_an_error() {
        for json in [
            r#"{"at":"yesterday"}"#,
            r#"{"at":"2026-13-01T00:00:00Z"}"#,
            r#"{"at":"10000-01-01T00:00:00Z"}"#,
        ] {
            assert_eq!(parse(json).ok(), Some(Some(UNREADABLE)), "{json}");
        }
        assert!(parse(r#"{"at":5}"#).is_err());
        assert_eq!(millis(i64::MAX), UNREADABLE);
    }
}
