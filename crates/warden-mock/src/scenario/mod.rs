//! Scenarios: a timeline of users, devices, sign-ins, activity, refreshes and faults that the
//! mock plays on its own clock. Written in TOML (docs/mock.md describes the format); five
//! ship with the binary. Time is the mock's clock, so `POST /__mock/clock` fast-forwards a
//! scenario and runs every step that falls due, before it answers.

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use crate::dialect::Dialect;
use crate::faults::FaultSpec;
use crate::store::Location;

mod player;

pub use player::ScenarioRunner;

/// The scenarios that ship with `warden-mock`, by name.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("quiet", include_str!("../../scenarios/quiet.toml")),
    ("demo", include_str!("../../scenarios/demo.toml")),
    (
        "credential-stuffing",
        include_str!("../../scenarios/credential-stuffing.toml"),
    ),
    (
        "impossible-travel",
        include_str!("../../scenarios/impossible-travel.toml"),
    ),
    (
        "refresh-storm",
        include_str!("../../scenarios/refresh-storm.toml"),
    ),
    ("flaky", include_str!("../../scenarios/flaky.toml")),
    (
        "ordinary-month",
        include_str!("../../scenarios/ordinary-month.toml"),
    ),
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    #[serde(default)]
    pub description: String,
    #[serde(default, rename = "user")]
    pub users: Vec<ScenarioUser>,
    #[serde(default, rename = "device")]
    pub devices: Vec<ScenarioDevice>,
    #[serde(default, rename = "step")]
    pub steps: Vec<Step>,
    /// What an IP database would say of the scenario's addresses. The mock places a sign-in
    /// from them there (RTC shows it); a test can write these into a database of its own.
    #[serde(default, rename = "network")]
    pub networks: Vec<Network>,
    /// Named addresses a step can use instead of an IP (`ip = "home"`), each from a moment
    /// on: an ISP that renumbers a home line is one more entry.
    #[serde(default, rename = "address")]
    pub addresses: Vec<Address>,
    /// Where the scenario's clock starts (the mock's clock is set to it), so its hours and
    /// weekdays mean what they say. Without it, it starts now.
    #[serde(default)]
    pub start: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    pub name: String,
    pub ip: String,
    /// From this offset on (the start, when absent).
    #[serde(default)]
    pub from: Option<Offset>,
}

/// An address block and what it is: where, and whose.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    pub prefix: ipnet::IpNet,
    pub city: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub lat: f64,
    pub lon: f64,
    /// The operator's autonomous system.
    pub asn: u32,
    pub org: String,
}

impl Network {
    pub fn location(&self) -> Location {
        Location {
            city: self.city.clone(),
            country: self.country.clone(),
            lat: self.lat,
            lon: self.lon,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioUser {
    pub email: String,
    pub password: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub totp: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioDevice {
    pub name: String,
    /// The account it signs in to: an email, username or phone.
    pub user: String,
    #[serde(default = "default_dialect")]
    pub dialect: Dialect,
    #[serde(default)]
    pub user_agent: String,
    #[serde(default)]
    pub ip: Option<String>,
    #[serde(default)]
    pub location: Option<Location>,
    #[serde(default)]
    pub remember_me: bool,
    /// What it calls itself when it signs in to Home Assistant, which keeps no user agent:
    /// an app's client id, or for a browser the address of the web UI it has open
    /// ([`home_assistant::WEB_UI`] when absent).
    #[serde(default)]
    pub client_id: Option<String>,
    /// The name the device gives itself (Matrix's display name). On Home Assistant, with an
    /// empty `client_id`, the name of a long-lived token made instead of a sign-in.
    #[serde(default)]
    pub display_name: Option<String>,
}

fn default_dialect() -> Dialect {
    Dialect::Hectoday
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// The device signs in: a new session.
    SignIn,
    /// The device uses the service (from `ip` / `location` when given: it moved).
    Activity,
    /// The device signs out, or the service ends its session.
    SignOut,
    /// node-auth: the device refreshes, and its session gets a new handle.
    Refresh,
    /// A person uses the device, as its browser would: its session goes on where it still
    /// can (from where the device is now), is refreshed where its API wants that (node-auth,
    /// if its refresh token is still the valid one), or the person signs in again.
    Use,
    /// The device's software updates: its user agent is `user_agents[0]` from now on (a
    /// session it holds keeps the agent it signed in with).
    Update,
    /// Switches `fault` on.
    Fault,
    /// Switches every fault off.
    ClearFaults,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// When, from the scenario's start: an ISO-8601 duration, negative for the past
    /// ("-PT3H": signed in three hours before the scenario began).
    pub at: Offset,
    /// Repeats at this interval.
    #[serde(default)]
    pub every: Option<Offset>,
    /// With `every`: this many times in all.
    #[serde(default)]
    pub count: Option<u64>,
    /// With `every`: not after this offset.
    #[serde(default)]
    pub until: Option<Offset>,
    pub action: Action,
    #[serde(default)]
    pub device: Option<String>,
    #[serde(default)]
    pub ip: Option<String>,
    /// Cycled through, one per occurrence (a botnet's addresses).
    #[serde(default)]
    pub ips: Vec<String>,
    /// Cycled through, one per occurrence.
    #[serde(default)]
    pub user_agents: Vec<String>,
    #[serde(default)]
    pub location: Option<Location>,
    /// Cycled through with `ips`.
    #[serde(default)]
    pub locations: Vec<Location>,
    #[serde(default)]
    pub fault: Option<FaultSpec>,
    /// Only occurrences at these hours of the day (UTC, "19:00-22:30").
    #[serde(default)]
    pub hours: Option<Hours>,
    /// Only occurrences on these days ("mon" … "sun").
    #[serde(default)]
    pub days: Vec<chrono::Weekday>,
    /// No occurrence between these two offsets (a trip away).
    #[serde(default)]
    pub pause: Option<[Offset; 2]>,
    /// `activity` by someone else holding a copy of the device's credentials (a copied
    /// cookie or token). It is the same session everywhere; on Home Assistant the copy is
    /// another client, which gets its own access tokens (see `Running::issued`).
    #[serde(default)]
    pub copied: bool,
}

/// A span of the day, "HH:MM-HH:MM", start included, end not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hours(chrono::NaiveTime, chrono::NaiveTime);

impl<'de> Deserialize<'de> for Hours {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let parse = |t: &str| chrono::NaiveTime::parse_from_str(t.trim(), "%H:%M");
        match text.split_once('-').map(|(a, b)| (parse(a), parse(b))) {
            Some((Ok(from), Ok(to))) if from < to => Ok(Hours(from, to)),
            _ => Err(serde::de::Error::custom(format!(
                "{text:?} is not a span of the day such as \"19:00-22:30\""
            ))),
        }
    }
}

impl Step {
    /// Whether an occurrence at `at` (`offset` into the scenario) takes place.
    fn happens(&self, at: DateTime<Utc>, offset: Duration) -> bool {
        use chrono::Datelike;
        let in_hours = self
            .hours
            .is_none_or(|Hours(from, to)| (from..to).contains(&at.time()));
        let on_day = self.days.is_empty() || self.days.contains(&at.weekday());
        let paused = self
            .pause
            .is_some_and(|[Offset(from), Offset(to)]| (from..to).contains(&offset));
        in_hours && on_day && !paused
    }
}

/// A signed ISO-8601 duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offset(pub Duration);

impl<'de> Deserialize<'de> for Offset {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_offset(&text)
            .map(Offset)
            .map_err(serde::de::Error::custom)
    }
}

/// "PT25H", "-PT3H", "P1DT2M": days, hours, minutes and seconds (years and months have no
/// fixed length, so they are refused).
pub fn parse_offset(text: &str) -> Result<Duration, String> {
    let (sign, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text),
    };
    let parsed = iso8601_duration::Duration::parse(unsigned)
        .map_err(|_| format!("{text:?} is not an ISO-8601 duration such as PT25H"))?;
    let duration = parsed.to_chrono().ok_or_else(|| {
        format!("{text:?}: use days, hours, minutes and seconds, not years or months")
    })?;
    Ok(duration * sign)
}

impl Scenario {
    pub fn parse(text: &str) -> Result<Scenario, String> {
        let scenario: Scenario = toml::from_str(text).map_err(|e| e.to_string())?;
        scenario.check()?;
        Ok(scenario)
    }

    /// A built-in scenario by name, or a TOML file.
    pub fn load(name_or_file: &str) -> Result<Scenario, String> {
        if let Some((_, text)) = BUILT_IN.iter().find(|(name, _)| *name == name_or_file) {
            return Scenario::parse(text).map_err(|e| format!("scenario {name_or_file}: {e}"));
        }
        let text = std::fs::read_to_string(name_or_file).map_err(|e| {
            let names: Vec<&str> = BUILT_IN.iter().map(|(n, _)| *n).collect();
            format!(
                "{name_or_file:?} is neither a scenario ({}) nor a readable file: {e}",
                names.join(", ")
            )
        })?;
        Scenario::parse(&text).map_err(|e| format!("{name_or_file}: {e}"))
    }

    /// The same timeline with every device signing in through `dialect`: one person's life,
    /// watched through another API.
    pub fn via(mut self, dialect: Dialect) -> Scenario {
        for device in &mut self.devices {
            device.dialect = dialect;
        }
        self
    }

    /// Where the scenario's networks place `ip`.
    pub fn locate(&self, ip: &str) -> Option<Location> {
        let ip: std::net::IpAddr = ip.parse().ok()?;
        self.networks
            .iter()
            .filter(|n| n.prefix.contains(&ip))
            .max_by_key(|n| n.prefix.prefix_len())
            .map(Network::location)
    }

    fn check(&self) -> Result<(), String> {
        for (i, step) in self.steps.iter().enumerate() {
            let what = format!("step {} ({:?})", i + 1, step.action);
            let needs_device = !matches!(step.action, Action::Fault | Action::ClearFaults);
            match &step.device {
                Some(name) if !self.devices.iter().any(|d| &d.name == name) => {
                    return Err(format!("{what}: no device named {name:?}"));
                }
                None if needs_device => return Err(format!("{what}: which device?")),
                _ => {}
            }
            if step.action == Action::Update && step.user_agents.is_empty() {
                return Err(format!("{what}: which user agent does it update to?"));
            }
            if step.action == Action::Fault {
                let fault = step.fault.as_ref().ok_or(format!("{what}: which fault?"))?;
                fault.validate().map_err(|e| format!("{what}: {e}"))?;
            }
            if step.every.is_some_and(|Offset(e)| e <= Duration::zero()) {
                return Err(format!("{what}: `every` must be positive"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_scenario_parses() {
        for (name, _) in BUILT_IN {
            Scenario::load(name).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    #[test]
    fn offsets_are_signed_iso_durations() {
        assert_eq!(parse_offset("PT90S"), Ok(Duration::seconds(90)));
        assert_eq!(parse_offset("-PT3H"), Ok(Duration::hours(-3)));
        assert!(parse_offset("P1M").is_err());
        assert!(parse_offset("soon").is_err());
    }

    #[test]
    fn a_step_naming_a_missing_device_is_refused_in_words() {
        let text = r#"
            [[step]]
            at = "PT1M"
            action = "sign-in"
            device = "ghost"
        "#;
        let err = Scenario::parse(text).expect_err("refused");
        assert!(err.contains("no device named \"ghost\""), "{err}");
    }
}
