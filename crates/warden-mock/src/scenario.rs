//! Scenarios: a timeline of users, devices, sign-ins, activity, refreshes and faults that the
//! mock plays on its own clock. Written in TOML (docs/mock.md describes the format); five
//! ship with the binary. Time is the mock's clock, so `POST /__mock/clock` fast-forwards a
//! scenario and runs every step that falls due, before it answers.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use crate::MockState;
use crate::dialect::{self, Dialect};
use crate::faults::FaultSpec;
use crate::node_auth;
use crate::store::{Device, Location, NewUser};
use crate::totp;

/// The scenarios that ship with `warden-mock`, by name.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("quiet", include_str!("../scenarios/quiet.toml")),
    ("demo", include_str!("../scenarios/demo.toml")),
    (
        "credential-stuffing",
        include_str!("../scenarios/credential-stuffing.toml"),
    ),
    (
        "impossible-travel",
        include_str!("../scenarios/impossible-travel.toml"),
    ),
    (
        "refresh-storm",
        include_str!("../scenarios/refresh-storm.toml"),
    ),
    ("flaky", include_str!("../scenarios/flaky.toml")),
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

/// Occurrences past this many per step are skipped when a big clock jump makes them due at
/// once: only their final state matters, and a jump of days must not run millions.
const CATCH_UP: u64 = 1000;

struct Running {
    scenario: Scenario,
    start: DateTime<Utc>,
    /// Per step, the index of its next occurrence.
    next: Vec<u64>,
    /// Device name → its current session id.
    sessions: HashMap<String, String>,
}

impl Running {
    fn occurrence(&self, step: usize, k: u64) -> Option<DateTime<Utc>> {
        let s = &self.scenario.steps[step];
        let offset = match s.every {
            None if k > 0 => return None,
            None => s.at.0,
            Some(Offset(every)) => {
                if s.count.is_some_and(|n| k >= n) {
                    return None;
                }
                let offset = s.at.0 + every * i32::try_from(k).ok()?;
                if s.until.is_some_and(|Offset(until)| offset > until) {
                    return None;
                }
                offset
            }
        };
        Some(self.start + offset)
    }
}

/// Plays one scenario on a server.
#[derive(Default)]
pub struct ScenarioRunner {
    running: Mutex<Option<Running>>,
}

impl ScenarioRunner {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Running>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts `scenario` now: creates its users, then plays every step already due (those
    /// in the past set the scene). With `skip_past`, steps before now are skipped instead,
    /// for a server that restored its state from a file.
    pub fn start(&self, state: &MockState, scenario: Scenario, skip_past: bool) {
        for user in &scenario.users {
            if state.store.user_by_email(&user.email).is_none() {
                state.store.add_user(NewUser {
                    email: user.email.clone(),
                    username: user.username.clone(),
                    phone: user.phone.clone(),
                    password: user.password.clone(),
                    display_name: user.display_name.clone().unwrap_or_default(),
                    totp: user.totp.then(totp::enroll),
                });
            }
        }
        let steps = scenario.steps.len();
        let mut running = Running {
            scenario,
            start: state.clock.now(),
            next: vec![0; steps],
            sessions: HashMap::new(),
        };
        if skip_past {
            for step in 0..steps {
                while running
                    .occurrence(step, running.next[step])
                    .is_some_and(|t| t < running.start)
                {
                    running.next[step] += 1;
                }
            }
        }
        *self.lock() = Some(running);
        self.run_due(state);
    }

    /// Starts the current scenario again from now (after a reset).
    pub fn restart(&self, state: &MockState) {
        let scenario = self.lock().take().map(|r| r.scenario);
        if let Some(scenario) = scenario {
            self.start(state, scenario, false);
        }
    }

    pub fn is_running(&self) -> bool {
        self.lock().is_some()
    }

    /// When the next step falls due.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        let guard = self.lock();
        let running = guard.as_ref()?;
        (0..running.next.len())
            .filter_map(|step| running.occurrence(step, running.next[step]))
            .min()
    }

    /// Plays every step due by the mock's now, in time order; returns how many ran.
    pub fn run_due(&self, state: &MockState) -> usize {
        let now = state.clock.now();
        let mut guard = self.lock();
        let Some(running) = guard.as_mut() else {
            return 0;
        };
        let mut due = Vec::new();
        for step in 0..running.next.len() {
            let first = running.next[step];
            let mut k = first;
            while running.occurrence(step, k).is_some_and(|t| t <= now) {
                k += 1;
            }
            running.next[step] = k;
            for k in first.max(k.saturating_sub(CATCH_UP))..k {
                if let Some(t) = running.occurrence(step, k) {
                    due.push((t, step, k));
                }
            }
        }
        due.sort();
        for &(at, step, k) in &due {
            play(state, running, step, k, at);
        }
        due.len()
    }
}

fn pick<T: Clone>(list: &[T], k: u64) -> Option<T> {
    if list.is_empty() {
        return None;
    }
    list.get(usize::try_from(k).ok()? % list.len()).cloned()
}

/// One occurrence of a step, at time `at`.
fn play(state: &MockState, running: &mut Running, step: usize, k: u64, at: DateTime<Utc>) {
    let s = &running.scenario.steps[step];
    let device = s
        .device
        .as_ref()
        .and_then(|name| running.scenario.devices.iter().find(|d| &d.name == name));
    let session = s
        .device
        .as_ref()
        .and_then(|name| running.sessions.get(name))
        .cloned();
    let ip = pick(&s.ips, k).or_else(|| s.ip.clone());
    let location = pick(&s.locations, k).or_else(|| s.location.clone());
    match s.action {
        Action::SignIn => {
            let Some(device) = device else { return };
            let Some(user) = state.store.user_by_login(&device.user) else {
                tracing::warn!("scenario: no user {:?}", device.user);
                return;
            };
            let seen = Device {
                user_agent: pick(&s.user_agents, k).unwrap_or_else(|| device.user_agent.clone()),
                ip: ip.or_else(|| device.ip.clone()),
                location: location.or_else(|| device.location.clone()),
            };
            let (session, _) =
                dialect::sign_in_at(state, &user, device.dialect, seen, device.remember_me, at);
            running.sessions.insert(device.name.clone(), session.id);
        }
        Action::Activity => {
            let Some(id) = session else { return };
            if let Some(ip) = ip {
                state.store.move_to(&id, ip, location);
            }
            state.store.touch(&id, at);
        }
        Action::SignOut => {
            if let Some(id) = session {
                state.store.end_session(&id, at);
            }
        }
        Action::Refresh => {
            let Some(current) = session.and_then(|id| state.store.session(&id)) else {
                return;
            };
            if !current.is_live(at) {
                return;
            }
            if let (Some(rotated), Some(name)) =
                (node_auth::refresh_device(state, &current, at), &s.device)
            {
                running.sessions.insert(name.clone(), rotated.id);
            }
        }
        Action::Fault => {
            if let Some(fault) = s.fault.clone() {
                state.faults.add(fault);
            }
        }
        Action::ClearFaults => state.faults.clear(),
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
