//! A month of one person's ordinary life, with five intrusions mixed in (warden-mock's
//! `ordinary-month` scenario), played on the mock's clock and watched through every API as
//! the app would: one poll every ten minutes. Counts what the person would have been
//! notified of. Every intrusion must raise a Warning or an Alert for its session with a true
//! reason; ordinary life must notify nothing but the one new device she really adds.
//!
//! Her devices and the intruders use real operators' addresses, and the engine places them
//! with the IP databases Session Warden ships, which place them as real databases do: her
//! home line in Saxony, then (renumbered) in Westphalia, her phone's carrier in Munich or
//! Düsseldorf, a VPN in Canada. The same month is also played on exact databases written
//! from where each address really is, to tell a rule's fault from the data's.

mod common;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use common::{Events, MockTime, Outbox};
use warden_core::rules::{RuleId, Severity, worst};
use warden_core::watch::Poller;
use warden_core::{
    Accounts, DeviceKind, DialectKind, Event, GeoIp, Home, MemoryStore, Message, NewAccount,
    Secret, Session,
};
use warden_mock::{Dialect, MockState, Scenario};

const LOGIN: &str = "mia@example.com";
const PASSWORD: &str = "mia-password";
const PHONE: &str = "+15550002222";
/// The watch begins on the first Monday at 09:30, her three devices in use.
const WATCH_FROM: Duration = Duration::minutes(9 * 60 + 30);
const MONTH: Duration = Duration::days(31);
const POLL_EVERY: Duration = Duration::minutes(10);

/// The intrusions: where each comes from, and the rules that would tell it truly.
const INTRUSIONS: [(&str, &str, &[RuleId]); 5] = [
    (
        "scripted client from a cloud network",
        "3.120.181.7",
        &[RuleId::OddClient, RuleId::HostingNetwork, RuleId::NewDevice],
    ),
    (
        "phished password, common browser, at night",
        "94.134.81.17",
        &[RuleId::SeveralSigns, RuleId::NewDevice],
    ),
    (
        "copied session cookie used abroad",
        "189.100.20.3",
        &[RuleId::NewCountry, RuleId::ImpossibleTravel],
    ),
    (
        "her exact browser from a VPN abroad",
        "37.120.205.18",
        &[RuleId::HostingNetwork],
    ),
    (
        "a new browser from a new network at home",
        "78.35.10.44",
        &[RuleId::NewDevice],
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Data {
    /// The databases Session Warden ships (DB-IP Lite city, RouteViews + DB-IP ASN).
    Shipped,
    /// Databases written from where each address really is: nothing is misplaced.
    Exact,
}

impl Data {
    fn name(self) -> &'static str {
        match self {
            Data::Shipped => "shipped databases",
            Data::Exact => "exact databases",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    Rtc,
    Hectoday,
    SecureAuth,
    NodeAuth,
    NodeAuthAdmin,
    BetterAuth,
    Matrix,
    Allauth,
    HomeAssistant,
}

impl Api {
    fn name(self) -> &'static str {
        match self {
            Api::Rtc => "rtc",
            Api::Hectoday => "hectoday",
            Api::SecureAuth => "secureauth",
            Api::NodeAuth => "node-auth (user)",
            Api::NodeAuthAdmin => "node-auth (admin)",
            Api::BetterAuth => "better-auth",
            Api::Matrix => "matrix",
            Api::Allauth => "allauth",
            Api::HomeAssistant => "home-assistant",
        }
    }

    fn mock(self) -> Dialect {
        match self {
            Api::Rtc => Dialect::Rtc,
            Api::Hectoday => Dialect::Hectoday,
            Api::SecureAuth => Dialect::SecureAuth,
            Api::NodeAuth | Api::NodeAuthAdmin => Dialect::NodeAuth,
            Api::BetterAuth => Dialect::BetterAuth,
            Api::Matrix => Dialect::Matrix,
            Api::Allauth => Dialect::Allauth,
            Api::HomeAssistant => Dialect::HomeAssistant,
        }
    }

    fn dialect(self) -> DialectKind {
        match self {
            Api::Rtc => DialectKind::Rtc,
            Api::Hectoday => DialectKind::Hectoday,
            Api::SecureAuth => DialectKind::SecureAuth,
            Api::NodeAuth => DialectKind::NodeAuth,
            Api::NodeAuthAdmin => DialectKind::NodeAuthAdmin,
            Api::BetterAuth => DialectKind::BetterAuth,
            Api::Matrix => DialectKind::Matrix,
            Api::Allauth => DialectKind::Allauth,
            Api::HomeAssistant => DialectKind::HomeAssistant,
        }
    }
}

/// One notification the person got, and what it was about.
#[derive(Debug)]
struct Told {
    at: DateTime<Utc>,
    summary: String,
    body: String,
    session: Session,
    rules: Vec<RuleId>,
}

struct Tally {
    api: Api,
    data: Data,
    /// Per intrusion: the worst severity raised for its session, and the rules that said so.
    intrusions: Vec<(Option<Severity>, Vec<RuleId>)>,
    told: Vec<Told>,
    polls: usize,
}

impl Tally {
    fn caught(&self) -> usize {
        self.intrusions
            .iter()
            .zip(INTRUSIONS)
            .filter(|((severity, rules), (_, _, true_rules))| {
                *severity >= Some(Severity::Warning) && rules.iter().any(|r| true_rules.contains(r))
            })
            .count()
    }

    fn is_intrusion(session: &Session) -> bool {
        INTRUSIONS
            .iter()
            .any(|(_, ip, _)| session.ip.as_deref() == Some(ip))
    }

    /// Notifications about ordinary life, the tablet's first one excepted.
    fn false_alarms(&self) -> Vec<&Told> {
        let mut tablet_told = false;
        self.told
            .iter()
            .filter(|t| !Self::is_intrusion(&t.session))
            .filter(|t| {
                let first_tablet = t.session.device.kind == DeviceKind::Tablet && !tablet_told;
                tablet_told |= first_tablet;
                !first_tablet
            })
            .collect()
    }

    fn tablet_told(&self) -> usize {
        self.told
            .iter()
            .filter(|t| t.session.device.kind == DeviceKind::Tablet)
            .count()
    }

    /// What the false notifications were about, most frequent first.
    fn causes(&self) -> String {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for told in self.false_alarms() {
            let cause = if told.rules.is_empty() {
                "plain new sign-in".to_owned()
            } else {
                let names: Vec<String> = told.rules.iter().map(|r| format!("{r:?}")).collect();
                names.join("+")
            };
            match counts.iter_mut().find(|(c, _)| *c == cause) {
                Some((_, n)) => *n += 1,
                None => counts.push((cause, 1)),
            }
        }
        counts.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        let parts: Vec<String> = counts.iter().map(|(c, n)| format!("{c} ×{n}")).collect();
        parts.join(", ")
    }
}

async fn live_a_month(api: Api, data: Data) -> Tally {
    let state = MockState::with_demo_user();
    let scenario = Scenario::load("ordinary-month")
        .expect("the scenario ships")
        .via(api.mock());
    let exact = tempfile::tempdir().expect("temp dir");
    let geoip = match data {
        Data::Shipped => GeoIp::in_dir(&common::shipped_geoip()),
        Data::Exact => {
            common::write_geoip(exact.path(), &scenario.networks);
            GeoIp::in_dir(exact.path())
        }
    };
    state.start_scenario(scenario, false);
    let mock = warden_mock::spawn_with(state.clone())
        .await
        .expect("mock starts");
    state.clock.advance(WATCH_FROM);
    state.scenario.run_due(&state);

    let home = tempfile::tempdir().expect("temp dir");
    let accounts = Arc::new(
        Accounts::open(
            &Home::at(home.path()),
            Arc::new(MemoryStore::default()),
            Arc::new(MockTime(state.clock.clone())),
        )
        .expect("open")
        .with_geoip(Arc::new(geoip)),
    );
    accounts.set_prompt(Arc::new(Outbox(state.clone())));
    let (login, password) = match api {
        Api::SecureAuth => (PHONE.to_owned(), ""),
        Api::NodeAuthAdmin => (
            state.store.user_by_email(LOGIN).expect("Mia exists").id,
            warden_mock::DEMO_ADMIN_SECRET,
        ),
        // Matrix and Home Assistant sign in with the user name.
        Api::Matrix | Api::HomeAssistant => (
            state
                .store
                .user_by_email(LOGIN)
                .expect("Mia exists")
                .username,
            PASSWORD,
        ),
        _ => (LOGIN.to_owned(), PASSWORD),
    };
    let account = accounts
        .add(
            NewAccount {
                url: mock.api_url(api.mock()).to_string(),
                dialect: api.dialect(),
                login,
                label: Some("Mia".into()),
            },
            Secret::new(password),
        )
        .await
        .expect("her account is added");

    let events = Events::default();
    let mut poller = Poller::new(Arc::clone(&accounts), account.clone());
    let mut tally = Tally {
        api,
        data,
        intrusions: vec![(None, Vec::new()); INTRUSIONS.len()],
        told: Vec::new(),
        polls: 0,
    };
    let start = state.clock.now();
    while state.clock.now() - start < MONTH - WATCH_FROM {
        poller.poll(&events).await;
        tally.polls += 1;
        let now = state.clock.now();
        for event in events.take() {
            note(&mut tally, &event, now);
            if let Event::Stale {
                needs_sign_in: true,
                ..
            } = &event
            {
                // As she would when told: sign in again (SecureAuth's token lasts 7 days).
                let mia: Arc<dyn warden_core::CodePrompt> = Arc::new(Outbox(state.clone()));
                accounts
                    .sign_in_again(&account, None, &mia)
                    .await
                    .expect("she signs in again");
            }
        }
        state.clock.advance(POLL_EVERY);
        state.scenario.run_due(&state);
    }
    tally
}

fn note(tally: &mut Tally, event: &Event, now: DateTime<Utc>) {
    let (session, findings) = match event {
        Event::SessionAppeared { session, findings } | Event::Suspicious { session, findings } => {
            (session, findings)
        }
        _ => return,
    };
    if let Some(i) = INTRUSIONS
        .iter()
        .position(|(_, ip, _)| session.ip.as_deref() == Some(ip))
    {
        let (severity, rules) = &mut tally.intrusions[i];
        *severity = (*severity).max(worst(findings));
        rules.extend(
            findings
                .iter()
                .filter(|f| f.severity >= Severity::Warning)
                .map(|f| f.rule),
        );
    }
    if let Some(notice) = Message::for_event(event, "Mia") {
        tally.told.push(Told {
            at: now,
            summary: notice.summary,
            body: notice.body,
            session: session.clone(),
            rules: findings.iter().map(|f| f.rule).collect(),
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_month_of_ordinary_life_notifies_nothing_but_the_intrusions_on_every_api() {
    let apis = [
        Api::Rtc,
        Api::Hectoday,
        Api::SecureAuth,
        Api::NodeAuth,
        Api::NodeAuthAdmin,
        Api::BetterAuth,
        Api::Matrix,
        Api::Allauth,
        Api::HomeAssistant,
    ];
    let runs: Vec<_> = [Data::Shipped, Data::Exact]
        .into_iter()
        .flat_map(|data| apis.map(|api| tokio::spawn(live_a_month(api, data))))
        .collect();
    let mut tallies = Vec::new();
    for run in runs {
        tallies.push(run.await.expect("the month runs"));
    }
    println!(
        "\nIP data: {}",
        std::fs::read_to_string(common::shipped_geoip().join("installed.txt"))
            .unwrap_or_default()
            .replace('\n', " ")
    );
    println!(
        "\n| API watched | caught, shipped databases | false notifications, shipped databases | caught, exact databases | false notifications, exact databases |"
    );
    println!("|---|---|---|---|---|");
    for api in apis {
        let of = |data| {
            tallies
                .iter()
                .find(|t| t.api == api && t.data == data)
                .expect("every month ran")
        };
        let (shipped, exact) = (of(Data::Shipped), of(Data::Exact));
        let falses = |t: &Tally| match t.false_alarms().len() {
            0 => "0".to_owned(),
            n => format!("{n} ({})", t.causes()),
        };
        println!(
            "| {} | {} of 5 | {} | {} of 5 | {} |",
            api.name(),
            shipped.caught(),
            falses(shipped),
            exact.caught(),
            falses(exact),
        );
    }
    for tally in &tallies {
        let who = format!("{} on {}", tally.api.name(), tally.data.name());
        for ((name, _, _), (severity, rules)) in INTRUSIONS.iter().zip(&tally.intrusions) {
            println!("{who}: {name}: {severity:?} {rules:?}");
        }
        for told in tally.false_alarms().iter().take(5) {
            println!(
                "{who}: false: {} {} | {} | {} {:?} {:?}",
                told.at.format("%a %d %H:%M"),
                told.summary,
                told.body,
                told.session.device.label,
                told.session.ip,
                told.rules
            );
        }
    }
    for tally in &tallies {
        let who = format!("{} on {}", tally.api.name(), tally.data.name());
        assert!(tally.polls > 4000, "a month of polls: {}", tally.polls);
        let (caught, false_alarms, why) = expected(tally.api);
        assert!(
            tally.caught() >= caught,
            "{who}: {caught} intrusions raise a Warning or an Alert with a true reason ({why}): {:?}",
            tally.intrusions
        );
        assert!(
            tally.false_alarms().len() <= false_alarms,
            "{who}: ordinary life notifies at most {false_alarms} times ({why}): {}",
            tally.causes()
        );
        // RTC names an iPad "Mobile Device - Safari", as it names her iPhone, and on Home
        // Assistant both run the same iOS app (one client id): on those APIs the tablet at
        // home is her phone at home, and nothing is told.
        // Matrix is left out: see `expected`.
        if tally.api != Api::Matrix {
            let expected = usize::from(!matches!(tally.api, Api::Rtc | Api::HomeAssistant));
            assert_eq!(
                tally.tablet_told(),
                expected,
                "{who}: the tablet she bought is told once, where the API tells it from her phone",
            );
        }
    }
}

/// What the rules can make of each API's month: the intrusions caught at least, the false
/// notifications at most, and why an API falls short of 5 and 0. Measured; a change that
/// does better tightens these.
fn expected(api: Api) -> (usize, usize, &'static str) {
    match api {
        Api::Rtc
        | Api::Hectoday
        | Api::SecureAuth
        | Api::NodeAuth
        | Api::NodeAuthAdmin
        | Api::Allauth => (5, 0, "every session shows its device, address and activity"),
        Api::BetterAuth => (
            4,
            0,
            "a session's address is the one it signed in from, so a copied cookie used abroad \
             is invisible",
        ),
        Api::HomeAssistant => (
            5,
            0,
            "a device is its client id alone (every browser is \"Web browser at\" the address \
             it has the web UI open at) and a token's address and time move only when it is \
             renewed, every 30 minutes of use; the rules judge the address, operator, place \
             and time, and a browser's new sign-in from a network or place it was never used \
             from",
        ),
        Api::Matrix => (
            4,
            2,
            "devices have no user agent and no address until their first request, so a new \
             device is told apart by its name alone",
        ),
    }
}
