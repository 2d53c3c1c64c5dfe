//! The desktop's side of notifications: shows what core's notification policy publishes
//! (`warden_core::tell::notification`), with its actions, on the notification service
//! (org.freedesktop.Notifications on Linux). Core decides what to tell and when; this crate
//! only shows it and reports the action picked. Shared by the app and `warden watch
//! --notify`, so both show the same notification the same way.
#![forbid(unsafe_code)]

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use notify_rust::{Hint, Timeout, Urgency};
use warden_core::rules::Severity;
use warden_core::tell::notification::{Notification, NotificationAction};

/// Shows `notification` with its actions and waits, on a thread of its own, for the one the person
/// picks: `on_action` gets it (a desktop without actions, or a notification closed unused,
/// never calls back). A missing notification service is logged, not fatal: the window and
/// the terminal still tell.
pub fn show(
    notification: &Notification,
    on_action: impl FnOnce(NotificationAction) + Send + 'static,
) {
    let mut n = base(
        &notification.summary,
        &notification.body,
        notification.severity,
    );
    for action in &notification.actions {
        let (key, label) = action.key_and_label();
        n.action(key, label);
    }
    let tag = notification.tag.clone();
    if let Some(id) = tag.as_deref().and_then(shown_with) {
        n.id(id);
    }
    std::thread::spawn(move || match n.show() {
        Ok(handle) => {
            if let Some(tag) = tag {
                remember(tag, handle.id());
            }
            let mut on_action = Some(on_action);
            handle.wait_for_action(|key| {
                let picked = NotificationAction::ALL
                    .into_iter()
                    .find(|a| a.key_and_label().0 == key);
                if let (Some(action), Some(f)) = (picked, on_action.take()) {
                    f(action);
                }
            });
        }
        Err(e) => tracing::warn!("could not show a notification: {e}"),
    });
}

/// Shows `notification` without actions (a terminal has nobody to act on a click). May block on
/// D-Bus: call off the async runtime.
pub fn show_plain(notification: &Notification) {
    let mut n = base(
        &notification.summary,
        &notification.body,
        notification.severity,
    );
    if let Some(id) = notification.tag.as_deref().and_then(shown_with) {
        n.id(id);
    }
    match n.show() {
        Ok(handle) => {
            if let Some(tag) = notification.tag.clone() {
                remember(tag, handle.id());
            }
        }
        Err(e) => tracing::warn!("could not show a notification: {e}"),
    }
}

/// The notification service's id of the notification last shown with each tag: the next
/// one with that tag replaces it (a countdown becomes "Signed out …").
fn shown() -> &'static Mutex<HashMap<String, u32>> {
    static SHOWN: OnceLock<Mutex<HashMap<String, u32>>> = OnceLock::new();
    SHOWN.get_or_init(Mutex::default)
}

fn shown_with(tag: &str) -> Option<u32> {
    shown()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(tag)
        .copied()
}

fn remember(tag: String, id: u32) {
    shown()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(tag, id);
}

/// The outcome of an action taken outside the window, told briefly. May block on D-Bus.
pub fn tell(summary: &str, body: &str) {
    let shown = base(summary, body, None)
        .timeout(Timeout::Milliseconds(5000))
        .show();
    if let Err(e) = shown {
        tracing::warn!("could not show a notification: {e}");
    }
}

fn base(summary: &str, body: &str, severity: Option<Severity>) -> notify_rust::Notification {
    let mut n = notify_rust::Notification::new();
    n.appname("Session Warden")
        .summary(summary)
        .body(&desktop_body(body))
        .icon("security-high")
        .hint(Hint::Category("network.security".into()))
        .urgency(match severity {
            Some(Severity::Alert) => Urgency::Critical,
            Some(Severity::Warning) => Urgency::Normal,
            _ => Urgency::Low,
        });
    n
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
