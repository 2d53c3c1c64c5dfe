//! Naming devices the way a person would, from whatever the server tells us.

use crate::session::{Device, DeviceKind};

impl Device {
    /// From a server's "<browser> on <os>" label (hectoday), where "Unknown browser" and
    /// "Unknown OS" stand for nothing known.
    pub fn from_label(label: &str) -> Self {
        let (browser, os) = match label.split_once(" on ") {
            Some((b, o)) => (known(b), known(o)),
            None => (known(label), None),
        };
        let kind = os.as_deref().map_or(DeviceKind::Unknown, kind_from_os);
        let label = match (&browser, &os) {
            (None, None) => "Unknown device".to_owned(),
            _ => label.trim().to_owned(),
        };
        Device {
            kind,
            browser,
            os,
            label,
        }
    }

    /// Session Warden's own session. Servers cannot name it from our user agent, but we
    /// know which one it is: the session we signed in with.
    pub fn ours() -> Self {
        Device {
            kind: DeviceKind::Desktop,
            browser: Some("Session Warden".into()),
            os: None,
            label: "Session Warden".into(),
        }
    }
}

fn known(part: &str) -> Option<String> {
    let part = part.trim();
    let unknown = part.is_empty() || part.to_ascii_lowercase().starts_with("unknown");
    (!unknown).then(|| part.to_owned())
}

/// The kind of device an operating system name implies, where it implies one.
pub fn kind_from_os(os: &str) -> DeviceKind {
    let os = os.to_ascii_lowercase();
    if os.contains("ipad") {
        DeviceKind::Tablet
    } else if os.contains("ios") || os.contains("iphone") || os.contains("android") {
        DeviceKind::Mobile
    } else if os.contains("tizen") || os.contains("webos") || os.contains("tvos") {
        DeviceKind::Tv
    } else {
        DeviceKind::Desktop
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_browser_on_os_label_is_split() {
        let d = Device::from_label("Firefox on Linux");
        assert_eq!(d.browser.as_deref(), Some("Firefox"));
        assert_eq!(d.os.as_deref(), Some("Linux"));
        assert_eq!(d.kind, DeviceKind::Desktop);
        assert_eq!(d.label, "Firefox on Linux");
    }

    #[test]
    fn a_phone_is_a_mobile_device() {
        assert_eq!(Device::from_label("Safari on iOS").kind, DeviceKind::Mobile);
        assert_eq!(
            Device::from_label("Chrome on Android").kind,
            DeviceKind::Mobile
        );
    }

    #[test]
    fn unknown_parts_are_absent_not_strings() {
        let d = Device::from_label("Unknown browser on Unknown OS");
        assert_eq!(d.browser, None);
        assert_eq!(d.os, None);
        assert_eq!(d.kind, DeviceKind::Unknown);
        assert_eq!(d.label, "Unknown device");
        let d = Device::from_label("Unknown browser on Linux");
        assert_eq!(d.browser, None);
        assert_eq!(d.os.as_deref(), Some("Linux"));
    }
}
