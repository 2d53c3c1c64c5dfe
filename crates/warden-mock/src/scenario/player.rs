//! Playing a scenario on the mock's clock: each step's occurrences run when they fall due
//! (a big clock jump catches up, capped), devices sign in, are used, refresh and move as
//! their API would show it (Home Assistant sees use only at each renewal).

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::MockState;
use crate::dialect::{self, Dialect};
use crate::store::{Device, Location, NewUser};
use crate::totp;
use crate::{home_assistant, node_auth};

use super::{Action, Offset, Scenario, ScenarioDevice};

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
    /// Device name → its user agent since its last update.
    agents: HashMap<String, String>,
    /// Device name → the id of the node-auth refresh token it was last given.
    refresh_tokens: HashMap<String, String>,
    /// Home Assistant: client (a device's name, or `name (copy)`) → when it was last given
    /// an access token. A client uses that token until it runs out and only then asks for
    /// another, HA's one moment of recording where and when a token was used.
    issued: HashMap<String, DateTime<Utc>>,
    /// Device name → the session a copy of its cookie or token was taken from, at the copy's
    /// first use. The copy stays that session's: when the device signs in again the copy
    /// does not follow it, and once that session is ended the copy is refused.
    copies: HashMap<String, String>,
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
        if let Some(start) = scenario.start {
            state.clock.set_now(start);
        }
        let steps = scenario.steps.len();
        let mut running = Running {
            scenario,
            start: state.clock.now(),
            next: vec![0; steps],
            sessions: HashMap::new(),
            agents: HashMap::new(),
            refresh_tokens: HashMap::new(),
            issued: HashMap::new(),
            copies: HashMap::new(),
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
            // A jump of years over a step every few seconds stays bounded.
            for k in first.max(k.saturating_sub(CATCH_UP * 1000))..k {
                if let Some(t) = running.occurrence(step, k)
                    && running.scenario.steps[step].happens(t, t - running.start)
                {
                    due.push((t, step, k));
                }
            }
            // Only the last occurrences of a step matter after a big jump.
            let mine = due.iter().filter(|(_, s, _)| *s == step).count();
            if mine > CATCH_UP as usize {
                let mut skip = mine - CATCH_UP as usize;
                due.retain(|(_, s, _)| {
                    let drop = *s == step && skip > 0;
                    skip -= usize::from(drop);
                    !drop
                });
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
        .and_then(|name| running.scenario.devices.iter().find(|d| &d.name == name))
        .cloned();
    let session = s
        .device
        .as_ref()
        .and_then(|name| running.sessions.get(name))
        .cloned();
    let ip = pick(&s.ips, k)
        .or_else(|| s.ip.clone())
        .map(|ip| running.address(&ip, at));
    let location = pick(&s.locations, k).or_else(|| s.location.clone());
    let agent = pick(&s.user_agents, k);
    let (action, fault, first_agent, copied) = (
        s.action,
        s.fault.clone(),
        s.user_agents.first().cloned(),
        s.copied,
    );
    match action {
        Action::SignIn => {
            let Some(device) = device else { return };
            let ip = ip
                .or_else(|| device.ip.clone())
                .map(|ip| running.address(&ip, at));
            sign_in(state, running, &device, ip, location, agent, at);
        }
        Action::Use => {
            let Some(device) = device else { return };
            let ip = ip
                .or_else(|| device.ip.clone())
                .map(|ip| running.address(&ip, at));
            let current = session
                .and_then(|id| state.store.session(&id))
                .filter(|s| usable(s, at));
            let Some(current) = current else {
                sign_in(state, running, &device, ip, location, None, at);
                return;
            };
            if current.dialect == Dialect::HomeAssistant {
                running.use_home_assistant(state, &current, &device.name, ip, at);
                return;
            }
            if let Some(ip) = ip.clone().filter(|ip| current.ip.as_ref() != Some(ip)) {
                let location = location.clone().or_else(|| running.place(&ip, &device));
                state.store.move_to(&current.id, ip, location);
            }
            if current.dialect != Dialect::NodeAuth
                || at - current.created_at < node_auth::ACCESS_LIFETIME
            {
                state.store.touch(&current.id, at);
                return;
            }
            // Its access token has run out: the browser refreshes, which works only for the
            // device holding the user's one valid refresh token (quirk 1).
            let holds = running.refresh_tokens.get(&device.name).is_some_and(|jti| {
                state.store.refresh_token(&current.user_id).as_ref() == Some(jti)
            });
            let rotated = state
                .store
                .session(&current.id)
                .filter(|_| holds)
                .and_then(|moved| node_auth::refresh_device(state, &moved, at));
            match rotated {
                Some(rotated) => {
                    running.sessions.insert(device.name.clone(), rotated.id);
                    running.remember_refresh_token(state, &device.name, &current.user_id);
                }
                None => sign_in(state, running, &device, ip, location, None, at),
            }
        }
        Action::Update => {
            if let (Some(device), Some(agent)) = (device, first_agent) {
                running.agents.insert(device.name, agent);
            }
        }
        Action::Activity => {
            let session = match (&device, session) {
                (Some(device), Some(id)) if copied => Some(
                    running
                        .copies
                        .entry(device.name.clone())
                        .or_insert(id)
                        .clone(),
                ),
                (_, session) => session,
            };
            let Some(id) = session else { return };
            if copied && !state.store.session(&id).is_some_and(|s| s.is_live(at)) {
                // A copied cookie of a session that is over is refused, as the server would.
                return;
            }
            let home_assistant = state
                .store
                .session(&id)
                .filter(|s| s.dialect == Dialect::HomeAssistant && s.is_live(at));
            if let (Some(current), Some(device)) = (home_assistant, &device) {
                let client = if copied {
                    format!("{} (copy)", device.name)
                } else {
                    device.name.clone()
                };
                running.use_home_assistant(state, &current, &client, ip, at);
                return;
            }
            if let Some(ip) = ip {
                let location = location.or_else(|| running.scenario.locate(&ip));
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
            if !current.is_live(at) || current.dialect != Dialect::NodeAuth {
                return;
            }
            if let (Some(rotated), Some(device)) =
                (node_auth::refresh_device(state, &current, at), device)
            {
                running.sessions.insert(device.name.clone(), rotated.id);
                running.remember_refresh_token(state, &device.name, &current.user_id);
            }
        }
        Action::Fault => {
            if let Some(fault) = fault {
                state.faults.add(fault);
            }
        }
        Action::ClearFaults => state.faults.clear(),
    }
}

impl Running {
    /// `ip`, or the address it names at `at`.
    fn address(&self, ip: &str, at: DateTime<Utc>) -> String {
        let offset = at - self.start;
        self.scenario
            .addresses
            .iter()
            .filter(|a| a.name == ip && a.from.is_none_or(|Offset(from)| from <= offset))
            .max_by_key(|a| a.from.map(|Offset(from)| from))
            .map_or_else(|| ip.to_owned(), |a| a.ip.clone())
    }

    /// Where a device at `ip` is: the scenario's networks say, else the device's own place.
    fn place(&self, ip: &str, device: &ScenarioDevice) -> Option<Location> {
        self.scenario.locate(ip).or_else(|| device.location.clone())
    }

    /// A Home Assistant client uses its session: with the access token it holds while that
    /// lasts (the server sees nothing), else it refreshes, and the token's `last_used_*`
    /// become now and `ip`.
    fn use_home_assistant(
        &mut self,
        state: &MockState,
        session: &crate::store::Session,
        client: &str,
        ip: Option<String>,
        at: DateTime<Utc>,
    ) {
        let holds = self
            .issued
            .get(client)
            .is_some_and(|&issued| at - issued < home_assistant::ACCESS_LIFETIME);
        if holds {
            return;
        }
        self.issued.insert(client.to_owned(), at);
        let ip = ip.or_else(|| session.ip.clone()).unwrap_or_default();
        home_assistant::issued(state, session, ip, at);
    }

    fn remember_refresh_token(&mut self, state: &MockState, device: &str, user_id: &str) {
        if let Some(jti) = state.store.refresh_token(user_id) {
            self.refresh_tokens.insert(device.to_owned(), jti);
        }
    }
}

/// The device signs in (again), from `ip`, with its current user agent unless `agent`.
fn sign_in(
    state: &MockState,
    running: &mut Running,
    device: &ScenarioDevice,
    ip: Option<String>,
    location: Option<Location>,
    agent: Option<String>,
    at: DateTime<Utc>,
) {
    let Some(user) = state.store.user_by_login(&device.user) else {
        tracing::warn!("scenario: no user {:?}", device.user);
        return;
    };
    let location = location.or_else(|| match &ip {
        Some(ip) => running.place(ip, device),
        None => device.location.clone(),
    });
    let user_agent = if device.dialect == Dialect::HomeAssistant {
        running.issued.insert(device.name.clone(), at);
        device
            .client_id
            .clone()
            .unwrap_or_else(|| home_assistant::WEB_UI.to_owned())
    } else {
        agent
            .or_else(|| running.agents.get(&device.name).cloned())
            .unwrap_or_else(|| device.user_agent.clone())
    };
    let seen = Device {
        user_agent,
        ip,
        location,
        name: device.display_name.clone(),
    };
    let (session, _) =
        dialect::sign_in_at(state, &user, device.dialect, seen, device.remember_me, at);
    running.sessions.insert(device.name.clone(), session.id);
    if device.dialect == Dialect::NodeAuth {
        running.remember_refresh_token(state, &device.name, &user.id);
    }
}

/// Whether the device's browser can still use its session: not ended or expired, and for
/// SecureAuth, its JWT (signed once, at sign-in, for 7 days) not run out.
fn usable(session: &crate::store::Session, at: DateTime<Utc>) -> bool {
    session.is_live(at)
        && (session.dialect != Dialect::SecureAuth
            || at - session.created_at < crate::secureauth::TOKEN_LIFETIME)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    /// HA records where and when a token is used only when it issues an access token: a
    /// client keeps using the one it holds for 30 minutes. A copy of the token held by
    /// someone else is another client, which asks at once.
    #[test]
    fn home_assistant_sees_use_only_at_each_renewal_and_a_copy_at_once() {
        let text = r#"
            start = "2026-11-02T00:00:00Z"
            [[user]]
            email = "mia@example.com"
            password = "pw"
            username = "mia"
            [[device]]
            name = "phone"
            user = "mia@example.com"
            client_id = "https://home-assistant.io/iOS"
            ip = "10.0.0.1"
            [[step]]
            at = "PT1H"
            action = "sign-in"
            device = "phone"
            [[step]]
            at = "PT1H10M"
            every = "PT10M"
            count = 6
            action = "use"
            device = "phone"
            ips = ["10.0.0.2", "10.0.0.3"]
            [[step]]
            at = "PT1H45M"
            action = "activity"
            device = "phone"
            ip = "203.0.113.9"
            copied = true
        "#;
        let scenario = Scenario::parse(text)
            .expect("parses")
            .via(Dialect::HomeAssistant);
        let state = MockState::with_demo_user();
        state.start_scenario(scenario, false);
        let start = state.clock.now();
        let user = state.store.user_by_email("mia@example.com").expect("Mia");
        let token = |at: Duration| {
            state.clock.set_now(start + at);
            state.scenario.run_due(&state);
            let sessions = state.store.every_session_of(&user.id, state.clock.now());
            assert_eq!(sessions.len(), 1, "one token, the copy's use included");
            let s = sessions[0].clone();
            // In whole minutes: the mock's clock runs on between the scenario's start and now.
            let used = (s.last_active_at - start).num_milliseconds() as f64 / 60_000.0;
            (s.user_agent, s.ip, Duration::minutes(used.round() as i64))
        };
        let (client, ip, used) = token(Duration::minutes(60));
        assert_eq!(client, "https://home-assistant.io/iOS");
        assert_eq!(
            (ip.as_deref(), used),
            (Some("10.0.0.1"), Duration::minutes(60))
        );
        // 10, 20 min after: the access token from the sign-in still holds.
        let (_, ip, used) = token(Duration::minutes(80));
        assert_eq!(
            (ip.as_deref(), used),
            (Some("10.0.0.1"), Duration::minutes(60))
        );
        // 30 min after: renewed, from where the phone is then.
        let (_, ip, used) = token(Duration::minutes(90));
        assert_eq!(
            (ip.as_deref(), used),
            (Some("10.0.0.2"), Duration::minutes(90))
        );
        let (_, ip, used) = token(Duration::minutes(105));
        assert_eq!(
            (ip.as_deref(), used),
            (Some("203.0.113.9"), Duration::minutes(105)),
            "the copy has no access token of its own: it renews at once"
        );
    }

    /// A copied cookie is the session it was taken from: once that session is ended (the
    /// person's app revoked it) the copy is refused, and it does not follow the device to the
    /// session it signs in with next.
    #[test]
    fn a_copy_dies_with_its_session_and_never_follows_a_new_sign_in() {
        let text = r#"
            start = "2026-11-02T00:00:00Z"
            [[user]]
            email = "mia@example.com"
            password = "pw"
            [[device]]
            name = "laptop"
            user = "mia@example.com"
            user_agent = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"
            ip = "10.0.0.1"
            [[step]]
            at = "PT1H"
            every = "PT20M"
            action = "use"
            device = "laptop"
            [[step]]
            at = "PT1H2M"
            every = "PT10M"
            count = 4
            action = "activity"
            device = "laptop"
            ip = "203.0.113.9"
            copied = true
        "#;
        let scenario = Scenario::parse(text).expect("parses").via(Dialect::Rtc);
        let state = MockState::with_demo_user();
        state.start_scenario(scenario, false);
        let start = state.clock.now();
        let user = state.store.user_by_email("mia@example.com").expect("Mia");
        let at = |offset: Duration| {
            state.clock.set_now(start + offset);
            state.scenario.run_due(&state);
            state.store.every_session_of(&user.id, state.clock.now())
        };
        let copied = at(Duration::minutes(65));
        assert_eq!(copied.len(), 1);
        assert_eq!(
            copied[0].ip.as_deref(),
            Some("203.0.113.9"),
            "the copy in use"
        );
        // Her app revokes it; the laptop signs in again at 1:20, at home, and the copy is
        // tried at 1:22 and 1:32.
        state.store.end_session(&copied[0].id, state.clock.now());
        let after = at(Duration::minutes(95));
        let live: Vec<_> = after
            .iter()
            .filter(|s| s.is_live(state.clock.now()))
            .collect();
        assert_eq!(live.len(), 1, "her new session: {after:?}");
        assert_ne!(live[0].id, copied[0].id);
        assert_eq!(
            live[0].ip.as_deref(),
            Some("10.0.0.1"),
            "the copy's uses at 1:22 and 1:32 did not move her new session"
        );
    }
}
