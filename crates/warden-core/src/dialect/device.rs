//! Naming devices the way a person would, from whatever the server tells us.

use std::sync::Arc;

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

    /// From a raw user agent (node-auth, SecureAuth). An empty agent is a device that did
    /// not say what it is, which is itself worth noticing.
    pub fn from_user_agent(agent: &str) -> Self {
        let parsed = woothee::parser::Parser::new().parse(agent);
        let is_browser = parsed.as_ref().is_some_and(|r| {
            matches!(
                r.category,
                "pc" | "smartphone" | "mobilephone" | "appliance"
            )
        });
        let browser = parsed
            .as_ref()
            .filter(|_| is_browser)
            .and_then(|r| known(r.name))
            .or_else(|| tool_name(agent));
        let os = parsed.as_ref().and_then(|r| known(os_name(r.os)));
        let kind = match (&os, parsed.as_ref().map(|r| r.category)) {
            (Some(os), _) => kind_from_os(os),
            (None, Some("smartphone" | "mobilephone")) => DeviceKind::Mobile,
            _ => DeviceKind::Unknown,
        };
        let label = match (&browser, &os) {
            (Some(b), Some(o)) => format!("{b} on {o}"),
            (Some(b), None) => b.clone(),
            (None, Some(o)) => format!("Unknown browser on {o}"),
            (None, None) if agent.trim().is_empty() => "Unnamed client".to_owned(),
            (None, None) => "Unknown device".to_owned(),
        };
        Device {
            kind,
            browser,
            os,
            label,
        }
    }

    /// From RTC's `deviceType` ("Mobile Device", "Tablet", "Desktop") and `browser`.
    pub fn from_type_and_browser(device_type: &str, browser: &str) -> Self {
        let kind = match device_type {
            "Mobile Device" => DeviceKind::Mobile,
            "Tablet" => DeviceKind::Tablet,
            "Desktop" => DeviceKind::Desktop,
            _ => DeviceKind::Unknown,
        };
        let browser = known(browser);
        let place = match kind {
            DeviceKind::Mobile => "a phone",
            DeviceKind::Tablet => "a tablet",
            DeviceKind::Desktop => "a computer",
            DeviceKind::Tv | DeviceKind::Token | DeviceKind::Unknown => "an unknown device",
        };
        let label = format!(
            "{} on {place}",
            browser.as_deref().unwrap_or("Unknown browser")
        );
        Device {
            kind,
            browser,
            os: None,
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

/// Names devices by user agent, parsing each distinct agent once: a listing of thousands of
/// sessions holds a handful of agents, and its sessions share one copy of each agent and
/// its device rather than a copy per session.
#[derive(Default)]
pub(crate) struct AgentNames(foldhash::HashMap<Arc<str>, Arc<Device>>);

impl AgentNames {
    /// The device and the agent text of a listed session. Ours is named as ours whatever
    /// its agent; an empty agent is no agent.
    pub(crate) fn describe(
        &mut self,
        agent: Option<&str>,
        ours: bool,
    ) -> (Arc<Device>, Option<Arc<str>>) {
        let agent = agent.unwrap_or_default();
        let (text, device) = match self.0.get_key_value(agent) {
            Some((text, device)) => (text.clone(), device.clone()),
            None => {
                let text: Arc<str> = Arc::from(agent);
                let device = Arc::new(Device::from_user_agent(agent));
                self.0.insert(text.clone(), device.clone());
                (text, device)
            }
        };
        let device = if ours {
            Arc::new(Device::ours())
        } else {
            device
        };
        (device, Some(text).filter(|t| !t.is_empty()))
    }
}

fn known(part: &str) -> Option<String> {
    let part = part.trim();
    let unknown = part.is_empty() || part.to_ascii_lowercase().starts_with("unknown");
    (!unknown).then(|| part.to_owned())
}

fn os_name(os: &str) -> &str {
    match os {
        "Mac OSX" => "macOS",
        "iPhone" | "iPod" => "iOS",
        "iPad" => "iPadOS",
        windows if windows.starts_with("Windows") => "Windows",
        other => other,
    }
}

/// Scripting tools and HTTP libraries name themselves first: "curl/8.5.0".
fn tool_name(agent: &str) -> Option<String> {
    let first = agent.split_whitespace().next()?;
    let name = first.split('/').next()?;
    (!name.is_empty() && !name.eq_ignore_ascii_case("mozilla")).then(|| name.to_owned())
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
    fn user_agents_are_named_as_people_would() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
                "Firefox on Linux",
                DeviceKind::Desktop,
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
                "Safari on iOS",
                DeviceKind::Mobile,
            ),
            (
                "python-requests/2.31.0",
                "python-requests",
                DeviceKind::Unknown,
            ),
            ("curl/8.5.0", "curl", DeviceKind::Unknown),
            ("", "Unnamed client", DeviceKind::Unknown),
        ];
        for (agent, label, kind) in cases {
            let d = Device::from_user_agent(agent);
            assert_eq!((d.label.as_str(), d.kind), (label, kind), "{agent:?}");
        }
    }

    #[test]
    fn rtc_types_become_kinds() {
        let d = Device::from_type_and_browser("Mobile Device", "Chrome");
        assert_eq!(d.kind, DeviceKind::Mobile);
        assert_eq!(d.label, "Chrome on a phone");
        assert_eq!(
            Device::from_type_and_browser("Desktop", "Unknown").label,
            "Unknown browser on a computer"
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
