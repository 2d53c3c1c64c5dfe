//! Naming a device from its user agent the way the real servers do.

/// hectoday's `deviceName`: "<browser> on <os>", with "Unknown browser" / "Unknown OS".
pub fn hectoday_device_name(user_agent: &str) -> String {
    let parsed = woothee::parser::Parser::new().parse(user_agent);
    // Only browsers get a name: woothee also names crawlers and HTTP libraries.
    let browser = parsed
        .as_ref()
        .filter(|r| {
            matches!(
                r.category,
                "pc" | "smartphone" | "mobilephone" | "appliance"
            )
        })
        .map(|r| r.name)
        .filter(|n| !n.is_empty() && *n != woothee::woothee::VALUE_UNKNOWN)
        .unwrap_or("Unknown browser");
    let os = parsed
        .as_ref()
        .map(|r| os_name(r.os))
        .unwrap_or("Unknown OS");
    format!("{browser} on {os}")
}

/// SecureAuth's `browser`, `os` and `device`, as ua-parser-js names them: "Mobile Safari 17.4",
/// "iOS 17.4", "mobile"; "Unknown" when it cannot tell, `device` "desktop" by default.
pub struct UaParserFields {
    pub browser: String,
    pub os: String,
    pub device: &'static str,
}

pub fn secureauth_fields(user_agent: &str) -> UaParserFields {
    let Some(parsed) = woothee::parser::Parser::new().parse(user_agent) else {
        return UaParserFields {
            browser: "Unknown".into(),
            os: "Unknown".into(),
            device: "desktop",
        };
    };
    let known = |v: &str| !v.is_empty() && v != woothee::woothee::VALUE_UNKNOWN;
    let device = match (parsed.category, parsed.os) {
        (_, "iPad") => "tablet",
        ("smartphone" | "mobilephone", _) if user_agent.contains("Tablet") => "tablet",
        ("smartphone" | "mobilephone", _) => "mobile",
        ("appliance", _) => "console",
        _ => "desktop",
    };
    let name = match parsed.name {
        "Safari" if device != "desktop" => "Mobile Safari",
        "Internet Explorer" => "IE",
        other => other,
    };
    // ua-parser-js names browsers only; woothee also names crawlers and HTTP libraries.
    let is_browser = matches!(
        parsed.category,
        "pc" | "smartphone" | "mobilephone" | "appliance"
    );
    let browser = match (is_browser && known(name), known(parsed.version)) {
        (true, true) => format!("{name} {}", parsed.version),
        (true, false) => name.to_owned(),
        _ => "Unknown".to_owned(),
    };
    let os_name = match parsed.os {
        "iPhone" | "iPad" | "iPod" => "iOS",
        "Mac OSX" => "Mac OS",
        windows if windows.starts_with("Windows") => "Windows",
        other => other,
    };
    let os_version = match parsed.os {
        windows if windows.starts_with("Windows ") => windows["Windows ".len()..].to_owned(),
        _ => parsed.os_version.replace('_', "."),
    };
    let os = match (known(os_name), known(&os_version)) {
        (true, true) => format!("{os_name} {os_version}"),
        (true, false) => os_name.to_owned(),
        _ => "Unknown".to_owned(),
    };
    UaParserFields {
        browser,
        os,
        device,
    }
}

/// RTC's `deviceType` and `browser`, by the seed's plain substring rules (in that order, so
/// an iPad that says "Mobile" is a mobile device, as on the real server).
pub fn rtc_fields(user_agent: &str) -> (&'static str, &'static str) {
    let has = |s: &str| user_agent.contains(s);
    let kind = if has("Mobile") || has("Android") || has("iPhone") {
        "Mobile Device"
    } else if has("Tablet") || has("iPad") {
        "Tablet"
    } else {
        "Desktop"
    };
    let browser = if has("Firefox") {
        "Firefox"
    } else if has("Edg") {
        "Edge"
    } else if has("OPR") || has("Opera") {
        "Opera"
    } else if has("Chrome") {
        "Chrome"
    } else if has("Safari") {
        "Safari"
    } else {
        "Unknown"
    };
    (kind, browser)
}

fn os_name(os: &str) -> &str {
    match os {
        "" | woothee::woothee::VALUE_UNKNOWN => "Unknown OS",
        "Mac OSX" => "macOS",
        "iPhone" | "iPod" => "iOS",
        "iPad" => "iPadOS",
        windows if windows.starts_with("Windows") => "Windows",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_agents_get_the_names_people_use() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
                "Firefox on Linux",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
                "Safari on iOS",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
                "Chrome on Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
                "Chrome on macOS",
            ),
            ("", "Unknown browser on Unknown OS"),
            ("curl/8.5.0", "Unknown browser on Unknown OS"),
        ];
        for (agent, expected) in cases {
            assert_eq!(hectoday_device_name(agent), expected, "for {agent:?}");
        }
    }

    #[test]
    fn secureauth_names_devices_as_ua_parser_js_does() {
        let cases = [
            (IPHONE, "Mobile Safari 17.4", "iOS 17.4", "mobile"),
            (WINDOWS_CHROME, "Chrome 124.0.0.0", "Windows 10", "desktop"),
            (MAC_SAFARI, "Safari 17.4", "Mac OS 10.15.7", "desktop"),
            (LINUX_FIREFOX, "Firefox 128.0", "Linux", "desktop"),
            ("curl/8.5.0", "Unknown", "Unknown", "desktop"),
        ];
        for (agent, browser, os, device) in cases {
            let fields = secureauth_fields(agent);
            assert_eq!(
                (fields.browser.as_str(), fields.os.as_str(), fields.device),
                (browser, os, device),
                "for {agent:?}"
            );
        }
    }

    #[test]
    fn rtc_applies_the_seed_rules_in_order() {
        assert_eq!(rtc_fields(IPHONE), ("Mobile Device", "Safari"));
        assert_eq!(rtc_fields(WINDOWS_CHROME), ("Desktop", "Chrome"));
        assert_eq!(rtc_fields(LINUX_FIREFOX), ("Desktop", "Firefox"));
        assert_eq!(
            rtc_fields("Mozilla/5.0 (Windows NT 10.0) Chrome/124.0 Safari/537.36 Edg/124.0"),
            ("Desktop", "Edge")
        );
        assert_eq!(rtc_fields(""), ("Desktop", "Unknown"));
    }

    const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
    const WINDOWS_CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
    const MAC_SAFARI: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15";
    const LINUX_FIREFOX: &str =
        "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
}
