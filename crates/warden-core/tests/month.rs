//! A month of one person's ordinary life, with five intrusions mixed in (warden-mock's
//! `ordinary-month` scenario), played on the mock's clock and watched through every API as
//! the app would: one poll every ten minutes. Counts what the person would have been
//! notified of. Every intrusion must raise a Warning or an Alert for its session with a true
//! reason; ordinary life must notify nothing but the one new device she really adds.

mod common;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use common::{Events, MockTime, Outbox};
use warden_core::rules::{RuleId, Severity, worst};
use warden_core::watch::Poller;
use warden_core::{
    Accounts, DeviceKind, DialectKind, Event, GeoIp, Home, MemoryStore, NewAccount, Notice, Secret,
    Session,
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
        "86.120.44.91",
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

/// What the table in the issue counted before this change (commit 2074517), on this
/// scenario, for comparison: (caught, false notifications).
const BEFORE: [(Api, usize, usize); 5] = [
    (Api::Rtc, 4, 16),
    (Api::Hectoday, 3, 122),
    (Api::SecureAuth, 4, 16),
    (Api::NodeAuth, 4, 1478),
    (Api::NodeAuthAdmin, 4, 1200),
];

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
        }
    }
}

/// One notification the person got, and what it was about.
#[derive(Debug)]
struct Told {
    at: DateTime<Utc>,
    summary: String,
    session: Session,
    rules: Vec<RuleId>,
}

struct Tally {
    api: Api,
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

async fn live_a_month(api: Api) -> Tally {
    let state = MockState::with_demo_user();
    let scenario = Scenario::load("ordinary-month")
        .expect("the scenario ships")
        .via(api.mock());
    let geoip_dir = tempfile::tempdir().expect("temp dir");
    common::write_geoip(geoip_dir.path(), &scenario.networks);
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
        .with_geoip(Arc::new(GeoIp::in_dir(geoip_dir.path()))),
    );
    accounts.set_prompt(Arc::new(Outbox(state.clone())));
    let (login, password) = match api {
        Api::SecureAuth => (PHONE.to_owned(), ""),
        Api::NodeAuthAdmin => (
            state.store.user_by_email(LOGIN).expect("Mia exists").id,
            warden_mock::DEMO_ADMIN_SECRET,
        ),
        // Matrix signs in with the user name.
        Api::Matrix => (
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
    if let Some(notice) = Notice::for_event(event, "Mia") {
        tally.told.push(Told {
            at: now,
            summary: notice.summary,
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
    ];
    let runs: Vec<_> = apis
        .into_iter()
        .map(|api| tokio::spawn(live_a_month(api)))
        .collect();
    let mut tallies = Vec::new();
    for run in runs {
        tallies.push(run.await.expect("the month runs"));
    }
    println!(
        "\n| API watched | intrusions caught (before → now) | false notifications (before → now) | what the false ones were |"
    );
    println!("|---|---|---|---|");
    for tally in &tallies {
        let (caught_before, false_before) = BEFORE
            .iter()
            .find(|(api, _, _)| *api == tally.api)
            .map_or(("new".to_owned(), "new".to_owned()), |(_, c, f)| {
                (c.to_string(), f.to_string())
            });
        println!(
            "| {} | {caught_before} → {} of 5 | {false_before} → {} | {} |",
            tally.api.name(),
            tally.caught(),
            tally.false_alarms().len(),
            tally.causes()
        );
    }
    for tally in &tallies {
        for ((name, _, _), (severity, rules)) in INTRUSIONS.iter().zip(&tally.intrusions) {
            println!("{:>18}: {name}: {severity:?} {rules:?}", tally.api.name());
        }
        for told in tally.false_alarms().iter().take(5) {
            println!(
                "{:>18}: false: {} {} {} {:?} {:?}",
                tally.api.name(),
                told.at.format("%a %d %H:%M"),
                told.summary,
                told.session.device.label,
                told.session.ip,
                told.rules
            );
        }
    }
    for tally in &tallies {
        assert!(tally.polls > 4000, "a month of polls: {}", tally.polls);
        let (caught, false_alarms, why) = expected(tally.api);
        assert!(
            tally.caught() >= caught,
            "{}: {caught} intrusions raise a Warning or an Alert with a true reason ({why}): {:?}",
            tally.api.name(),
            tally.intrusions
        );
        assert!(
            tally.false_alarms().len() <= false_alarms,
            "{}: ordinary life notifies at most {false_alarms} times ({why}): {}",
            tally.api.name(),
            tally.causes()
        );
        // RTC names an iPad "Mobile Device - Safari", as it names her iPhone: on that API the
        // tablet at home is her phone at home, and nothing is told.
        // Matrix is left out: see `expected`.
        if tally.api != Api::Matrix {
            let expected = usize::from(tally.api != Api::Rtc);
            assert_eq!(
                tally.tablet_told(),
                expected,
                "{}: the tablet she bought is told once, where the API tells it from her phone",
                tally.api.name()
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
        Api::Matrix => (
            4,
            2,
            "devices have no user agent and no address until their first request, so a new \
             device is told apart by its name alone",
        ),
    }
}
