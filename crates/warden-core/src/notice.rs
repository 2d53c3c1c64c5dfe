//! What a person is told about an event, in a notification or a status line, and the
//! desktop notifier that shows it.

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
            .body(&notice.body)
            .icon("security-high")
            .show();
        // No notification daemon is not a reason to stop watching: the window still shows it.
        if let Err(e) = shown {
            tracing::warn!("could not show a notification: {e}");
        }
    }
}
