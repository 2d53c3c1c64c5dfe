//! Text a server hands us about a session — the device's name, its address, its place, its
//! user agent — is chosen by the server, and often by whoever signed in to it: hectoday
//! stores the first `X-Forwarded-For` entry as the address, exactly as the client sent it.
//! It is shown on terminals, in notifications, in the tray and in the window. So it is
//! cleaned once, where sessions enter the engine: no control characters (which could
//! rewrite a terminal), and no more than `MAX_CHARS` of it (a megabyte of "device name"
//! would fill notifications and the history). Markup is the notifier's business
//! (`notice::desktop_body`), since only it knows whether its reader renders any.

use std::borrow::Cow;
use std::sync::Arc;

use crate::session::{Device, Session};

/// Long enough for any real user agent; far more than any name or address needs.
pub const MAX_CHARS: usize = 512;

/// `text` without control characters and cut to `MAX_CHARS` ("…" marks the cut). Borrowed
/// when there is nothing to clean, as with nearly every server.
pub fn clean(text: &str) -> Cow<'_, str> {
    if surely_clean(text) {
        return Cow::Borrowed(text);
    }
    let mut chars = text.chars();
    let needs = chars.by_ref().take(MAX_CHARS).any(char::is_control) || chars.next().is_some();
    if !needs {
        return Cow::Borrowed(text);
    }
    let mut kept: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_CHARS + 1)
        .collect();
    if kept.chars().count() > MAX_CHARS {
        kept = kept.chars().take(MAX_CHARS - 1).collect();
        kept.push('…');
    }
    Cow::Owned(kept)
}

/// The quick look every listed session gets, on bytes: short enough, and no byte that can
/// start a control character (C0 and DEL are single bytes; C1 starts with 0xC2, as do a
/// few printable characters, which then take the slow look).
fn surely_clean(text: &str) -> bool {
    text.len() <= MAX_CHARS && !text.bytes().any(|b| b < 0x20 || b == 0x7f || b == 0xc2)
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
        let mut session = Session {
            account: crate::account::AccountId::from_stored("a".into()),
            id: "0123456789abcdef".parse().expect("an id"),
            server_id: crate::secret::Secret::new("s"),
            device: Arc::clone(&device),
            user_agent: Some(Arc::from("curl\u{0}/8")),
            ip: Some("203.0.113.7\u{1b}[2J".into()),
            location: Some("Berlin\n, DE".into()),
            coordinates: None,
            operator: None,
            label: None,
            created_at: None,
            last_active_at: None,
            expires_at: None,
            is_current: false,
        };
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
