//! What a person is told about an event, in a notification or a status line, and the
//! desktop notifier that shows it.

use std::borrow::Cow;

use crate::event::Event;
use crate::rules::{Finding, Severity};
use crate::session::Session;

/// A notification's text. No secret ever goes in here: only labels, devices and addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub summary: String,
    pub body: String,
}

impl Notice {
    /// The notice for an event worth interrupting the user for, if it is one.
    pub fn for_event(event: &Event, account_label: &str) -> Option<Notice> {
        match event {
            Event::SessionAppeared { session, findings } => {
                let summary = if findings.iter().any(|f| f.severity >= Severity::Warning) {
                    format!("Suspicious sign-in on {account_label}")
                } else {
                    format!("New sign-in on {account_label}")
                };
                Some(Notice {
                    summary,
                    body: body(session, findings),
                })
            }
            Event::Suspicious { session, findings } => Some(Notice {
                summary: format!("Suspicious activity on {account_label}"),
                body: body(session, findings),
            }),
            _ => None,
        }
    }
}

/// "Firefox on Linux, 203.0.113.7 (São Paulo, BR)", then why it looks wrong, then what to do.
fn body(session: &Session, findings: &[Finding]) -> String {
    let mut text = session.device.label.clone();
    if let Some(ip) = &session.ip {
        text.push_str(&format!(", {ip}"));
    }
    if let Some(place) = &session.location {
        text.push_str(&format!(" ({place})"));
    }
    text.push('.');
    for finding in findings.iter().filter(|f| f.severity >= Severity::Warning) {
        text.push_str(&format!("\n• {}", finding.reason));
    }
    text.push_str("\nNot you? Revoke it in Session Warden.");
    text
}

/// The body as the desktop's notification service should be handed it. Most services
/// (GNOME, KDE, dunst) read a body as markup, links included, and a body quotes what a
/// server said (hectoday's address is whatever the signing-in client claimed): in a
/// security tool's notification, that must show as the text it is, never as a link.
pub fn desktop_body(body: &str) -> Cow<'_, str> {
    if renders_markup() {
        escape_markup(body)
    } else {
        Cow::Borrowed(body)
    }
}

/// `text` as markup that shows exactly `text`.
pub fn escape_markup(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>']) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            c => escaped.push(c),
        }
    }
    Cow::Owned(escaped)
}

/// Whether the notification service says it reads markup (asked once it answers; until
/// then, assumed, which at worst shows an entity literally).
#[cfg(all(unix, not(target_os = "macos")))]
fn renders_markup() -> bool {
    static MARKUP: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if let Some(known) = MARKUP.get() {
        return *known;
    }
    match notify_rust::get_capabilities() {
        Ok(capabilities) => *MARKUP.get_or_init(|| capabilities.iter().any(|c| c == "body-markup")),
        Err(_) => true,
    }
}

/// macOS and Windows show notification text as plain text.
#[cfg(not(all(unix, not(target_os = "macos"))))]
fn renders_markup() -> bool {
    false
}

/// Shows notices to the user. Calls may block on D-Bus: call off the async runtime.
pub trait Notifier: Send + Sync + 'static {
    fn notify(&self, notice: &Notice);
}

/// The desktop's notification service (org.freedesktop.Notifications on Linux).
#[derive(Debug, Default, Clone, Copy)]
pub struct DesktopNotifier;

impl Notifier for DesktopNotifier {
    fn notify(&self, notice: &Notice) {
        let shown = notify_rust::Notification::new()
            .appname("Session Warden")
            .summary(&notice.summary)
            .body(&desktop_body(&notice.body))
            .icon("security-high")
            .show();
        // No notification daemon is not a reason to stop watching: the window still shows it.
        if let Err(e) = shown {
            tracing::warn!("could not show a notification: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_shows_as_the_text_it_is() {
        assert_eq!(
            escape_markup(r#"<a href="https://evil.example/">Reset</a> & <b>now</b>"#),
            r#"&lt;a href="https://evil.example/"&gt;Reset&lt;/a&gt; &amp; &lt;b&gt;now&lt;/b&gt;"#
        );
        assert!(matches!(
            escape_markup("Firefox on Linux, 203.0.113.7."),
            Cow::Borrowed(_)
        ));
    }
}
