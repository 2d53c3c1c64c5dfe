//! Naming a device from its user agent the way the real servers do.

/// hectoday's `deviceName`: "<browser> on <os>", with "Unknown browser" / "Unknown OS".
pub fn hectoday_device_name(user_agent: &str) -> String {
    let parsed = woothee::parser::Parser::new().parse(user_agent);
    let browser = parsed
        .as_ref()
        .map(|r| r.name)
        .filter(|n| !n.is_empty() && *n != woothee::woothee::VALUE_UNKNOWN)
        .unwrap_or("Unknown browser");
    let os = parsed
        .as_ref()
        .map(|r| os_name(r.os))
        .unwrap_or("Unknown OS");
    format!("{browser} on {os}")
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
        ];
        for (agent, expected) in cases {
            assert_eq!(hectoday_device_name(agent), expected, "for {agent:?}");
        }
    }
}
