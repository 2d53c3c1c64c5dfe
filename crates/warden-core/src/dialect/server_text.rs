//! Text a server hands us about a session — the device's name, its address, its place, its
//! user agent — is chosen by the server, and often by whoever signed in to it: hectoday
//! stores the first `X-Forwarded-For` entry as the address, exactly as the client sent it.
//! It is shown on terminals, in notifications, in the tray and in the window. So it is
//! cleaned once, where it enters the engine — session fields and error texts alike: no
//! control characters (which could rewrite a terminal), no bidi controls or invisible
//! format characters (which make "moc.evil" read as "live.com", or hide a word), and no
//! more than `MAX_CHARS` of it (a megabyte of "device name" would fill notifications and
//! the history), and no secret of the account (`scrub`: a password or token quoted back).
//! Markup is the notifier's business (`warden_notify::desktop_body`), since only it
//! knows whether its reader renders any.

use std::borrow::Cow;
use std::sync::Arc;

use crate::session::{Device, Session};

/// Long enough for any real user agent; far more than any name or address needs.
pub const MAX_CHARS: usize = 512;

/// An error a server words itself is shown in one line: shorter than a session's text.
pub const MAX_ERROR_CHARS: usize = 300;

/// `text` without control, bidi or invisible characters and cut to `MAX_CHARS` ("…" marks
/// the cut). Borrowed when there is nothing to clean, as with nearly every server.
pub fn clean(text: &str) -> Cow<'_, str> {
    match crate::dialect::scrub::session_text(text) {
        Cow::Borrowed(text) => clean_to(text, MAX_CHARS),
        Cow::Owned(scrubbed) => Cow::Owned(clean_to(&scrubbed, MAX_CHARS).into_owned()),
    }
}

/// What a server says about an error (its message, a body it sent instead of JSON), cleaned
/// like a session's text, on one line, and cut to `MAX_ERROR_CHARS` — after every secret of
/// the account is taken out (`scrub`), so a cut never leaves half of one.
pub fn clean_error(text: &str) -> String {
    clean_to(
        crate::dialect::scrub::error_text(text).trim(),
        MAX_ERROR_CHARS,
    )
    .into_owned()
}

fn clean_to(text: &str, max: usize) -> Cow<'_, str> {
    if surely_clean(text, max) {
        return Cow::Borrowed(text);
    }
    let mut chars = text.chars();
    let needs = chars.by_ref().take(max).any(is_unwanted) || chars.next().is_some();
    if !needs {
        return Cow::Borrowed(text);
    }
    let mut kept: String = text
        .chars()
        .filter(|c| !is_unwanted(*c))
        .take(max + 1)
        .collect();
    if kept.chars().count() > max {
        kept = kept.chars().take(max - 1).collect();
        kept.push('…');
    }
    Cow::Owned(kept)
}

/// Control characters (C0, DEL, C1), the line and paragraph separators, and the invisible
/// format characters (Unicode's Cf: bidi embeddings, overrides and isolates, the Arabic
/// letter mark, zero-width spaces and joiners, the byte-order mark, soft hyphens, tags…).
pub fn is_unwanted(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') || is_format(c)
}

/// Unicode general category Cf (format), as of Unicode 15.
fn is_format(c: char) -> bool {
    matches!(c,
        '\u{ad}'
        | '\u{600}'..='\u{605}'
        | '\u{61c}'
        | '\u{6dd}'
        | '\u{70f}'
        | '\u{890}'..='\u{891}'
        | '\u{8e2}'
        | '\u{180e}'
        | '\u{200b}'..='\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206f}'
        | '\u{feff}'
        | '\u{fff9}'..='\u{fffb}'
        | '\u{110bd}'
        | '\u{110cd}'
        | '\u{13430}'..='\u{1343f}'
        | '\u{1bca0}'..='\u{1bca3}'
        | '\u{1d173}'..='\u{1d17a}'
        | '\u{e0001}'
        | '\u{e0020}'..='\u{e007f}'
    )
}

/// The quick look every listed session gets, on bytes: short enough, and no byte that can
/// start an unwanted character. C0 and DEL are single bytes; C1 and the soft hyphen start
/// with 0xC2; every other one is in a three- or four-byte sequence starting 0xD8, 0xDB,
/// 0xDC, 0xE0–0xE2, 0xEF, 0xF0 or 0xF3. Text with such a lead byte (most non-Latin text
/// has some) takes the slow look, which decides by character.
fn surely_clean(text: &str, max: usize) -> bool {
    text.len() <= max
        && !text.bytes().any(|b| {
            b < 0x20
                || b == 0x7f
                || matches!(
                    b,
                    0xc2 | 0xd8 | 0xdb | 0xdc | 0xe0..=0xe2 | 0xef | 0xf0 | 0xf3
                )
        })
}

fn clean_string(text: &mut String) {
    if let Cow::Owned(cleaned) = clean(text) {
        *text = cleaned;
    }
}

fn clean_option(text: &mut Option<String>) {
    if let Some(text) = text {
        clean_string(text);
    }
}

fn device_is_clean(device: &Device) -> bool {
    [
        Some(&device.label),
        device.browser.as_ref(),
        device.os.as_ref(),
    ]
    .into_iter()
    .flatten()
    .all(|text| matches!(clean(text), Cow::Borrowed(_)))
}

/// Cleans what a server said about the sessions of one listing, in place.
pub fn clean_sessions(sessions: &mut [Session]) {
    // The sessions of a listing share one device and one agent text per distinct agent:
    // each shared part is looked at once (by address: all of them live until we are done).
    let mut clean_parts: foldhash::HashSet<usize> = foldhash::HashSet::default();
    for session in sessions {
        clean_option(&mut session.ip);
        clean_option(&mut session.location);
        if let Some(agent) = &session.user_agent {
            let address = Arc::as_ptr(agent).cast::<u8>() as usize;
            if !clean_parts.contains(&address) {
                match clean(agent) {
                    Cow::Borrowed(_) => {
                        clean_parts.insert(address);
                    }
                    Cow::Owned(cleaned) => session.user_agent = Some(Arc::from(cleaned)),
                }
            }
        }
        let device = Arc::as_ptr(&session.device) as usize;
        if clean_parts.contains(&device) {
            continue;
        }
        if device_is_clean(&session.device) {
            clean_parts.insert(device);
        } else {
            // Its own copy: a device shared with other sessions is cleaned for each of them.
            let device = Arc::make_mut(&mut session.device);
            clean_string(&mut device.label);
            clean_option(&mut device.browser);
            clean_option(&mut device.os);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_text_is_borrowed_as_it_is() {
        for text in [
            "Firefox on Linux",
            "203.0.113.7",
            "São Paulo, BR",
            "© 2026\u{a0}Ltd",
            "",
        ] {
            assert!(matches!(clean(text), Cow::Borrowed(t) if t == text));
        }
        let longest = "a".repeat(MAX_CHARS);
        assert!(matches!(clean(&longest), Cow::Borrowed(_)));
    }

    #[test]
    fn control_characters_are_dropped() {
        assert_eq!(
            clean("Fire\u{1b}[2Jfox\r\non\tLinux\u{7}"),
            "Fire[2JfoxonLinux"
        );
        assert_eq!(clean("\u{9b}31mred"), "31mred", "the C1 escape too");
    }

    #[test]
    fn bidi_controls_and_invisible_characters_are_dropped() {
        let sneaky = "\u{202e}moc.evil\u{202c} \u{2066}a\u{2069}\u{200b}b\u{feff}\u{61c}c\u{2028}d\u{2029}e\u{ad}f\u{e0041}";
        assert_eq!(clean(sneaky), "moc.evil abcdef");
        for c in [
            '\u{200b}', '\u{200c}', '\u{200d}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202b}',
            '\u{202c}', '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
            '\u{feff}', '\u{61c}', '\u{2028}', '\u{2029}',
        ] {
            assert!(is_unwanted(c), "U+{:04X} must be dropped", u32::from(c));
        }
        for kept in [
            "São Paulo",
            "Zürich",
            "東京",
            "Москва",
            "القاهرة",
            "🙂 phone",
            "—",
        ] {
            assert_eq!(clean(kept), kept, "ordinary text of any script is kept");
        }
    }

    #[test]
    fn an_error_text_is_one_clean_short_line() {
        let said = clean_error(&format!(
            "  bad\u{1b}[31m \u{202e}thing{}  ",
            "x".repeat(2_000_000)
        ));
        assert!(said.starts_with("bad[31m thing"), "{said}");
        assert_eq!(said.chars().count(), MAX_ERROR_CHARS);
        assert!(said.ends_with('…'));
    }

    #[test]
    fn long_text_is_cut_and_says_so() {
        let cut = clean(&"é".repeat(MAX_CHARS * 10)).into_owned();
        assert_eq!(cut.chars().count(), MAX_CHARS);
        assert!(cut.ends_with('…'));
        assert_eq!(clean(&"x".repeat(MAX_CHARS + 1)).chars().count(), MAX_CHARS);
    }

    #[test]
    fn a_session_is_cleaned_everywhere_the_server_speaks() {
        let device = Arc::new(Device {
            kind: crate::session::DeviceKind::Unknown,
            browser: Some("Evil\u{1b}]0;title\u{7}".into()),
            os: None,
            label: "Evil\u{1b}]0;title\u{7}".into(),
        });
        let mut session = Session::bare(
            &crate::accounts::account::AccountId::from_stored("a".into()),
            "s",
            "",
        );
        session.device = Arc::clone(&device);
        session.user_agent = Some(Arc::from("curl\u{0}/8"));
        session.ip = Some("203.0.113.7\u{1b}[2J".into());
        session.location = Some("Berlin\n, DE".into());
        clean_sessions(std::slice::from_mut(&mut session));
        assert_eq!(session.ip.as_deref(), Some("203.0.113.7[2J"));
        assert_eq!(session.location.as_deref(), Some("Berlin, DE"));
        assert_eq!(session.user_agent.as_deref(), Some("curl/8"));
        assert_eq!(session.device.label, "Evil]0;title");
        assert_eq!(session.device.browser.as_deref(), Some("Evil]0;title"));
        assert!(
            device.label.contains('\u{1b}'),
            "the shared original is untouched"
        );
    }
}
