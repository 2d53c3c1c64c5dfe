//! The rules at work in the watcher, on the mock's scenarios: what a person is told.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::next_event;
use tokio::sync::mpsc;
use warden_core::rules::{RuleId, Severity};
use warden_core::watch::Watcher;
use warden_core::{
    Account, Accounts, DialectKind, Event, Home, MemoryStore, NewAccount, Notice, Secret,
    SystemClock,
};
use warden_mock::{DEMO_LOGIN, DEMO_PASSWORD, Dialect, MockServer, MockState, Scenario};

struct World {
    mock: MockServer,
    accounts: Arc<Accounts>,
    _home: tempfile::TempDir,
}

async fn playing(scenario: &str) -> World {
    let state = MockState::with_demo_user();
    state.start_scenario(Scenario::load(scenario).expect("scenario"), false);
    let mock = warden_mock::spawn_with(state).await.expect("mock starts");
    let home = tempfile::tempdir().expect("temp dir");
    let accounts = Accounts::open(
        &Home::at(home.path()),
        Arc::new(MemoryStore::default()),
        Arc::new(SystemClock),
    )
    .expect("open");
    World {
        mock,
        accounts: Arc::new(accounts),
        _home: home,
    }
}

impl World {
    async fn add(&self, dialect: Dialect, kind: DialectKind) -> Account {
        self.accounts
            .add(
                NewAccount {
                    url: self.mock.api_url(dialect).to_string(),
                    dialect: kind,
                    login: DEMO_LOGIN.into(),
                    label: Some(format!("demo {dialect}")),
                },
                Secret::new(DEMO_PASSWORD),
            )
            .await
            .expect("added")
    }

    fn watch(&self, account: &Account) -> (Watcher, mpsc::UnboundedReceiver<Event>) {
        let (watcher, rx) = common::watcher(&self.accounts, Duration::from_millis(50));
        watcher.watch(account.clone());
        (watcher, rx)
    }

    async fn advance(&self, by: &str) {
        self.mock
            .control()
            .advance_clock(by)
            .await
            .expect("advances");
    }
}

fn is_news(event: &Event) -> bool {
    matches!(
        event,
        Event::SessionAppeared { .. } | Event::Suspicious { .. }
    )
}

#[tokio::test]
async fn impossible_travel_and_a_copied_token_are_alerts_with_reasons() {
    let w = playing("impossible-travel").await;
    let account = w.add(Dialect::Rtc, DialectKind::Rtc).await;
    let (_watcher, mut rx) = w.watch(&account);
    next_event(&mut rx, |e| matches!(e, Event::Listed { .. })).await;

    w.advance("PT1M").await;
    let Event::SessionAppeared { session, findings } = next_event(&mut rx, is_news).await else {
        panic!("a sign-in first");
    };
    assert_eq!(session.location.as_deref(), Some("Sydney, AU"));
    let travel = findings
        .iter()
        .find(|f| f.rule == RuleId::ImpossibleTravel)
        .unwrap_or_else(|| panic!("impossible travel among {findings:?}"));
    assert_eq!(travel.severity, Severity::Alert);
    assert!(travel.reason.contains("Berlin, DE"), "{}", travel.reason);
    let notice = Notice::for_event(
        &Event::SessionAppeared {
            session: session.clone(),
            findings: findings.clone(),
        },
        "demo rtc",
    )
    .expect("worth a notification");
    assert_eq!(notice.summary, "Suspicious sign-in on demo rtc");
    assert!(notice.body.contains("Impossible travel"), "{}", notice.body);

    w.advance("PT1M").await;
    let Event::Suspicious { session, findings } =
        next_event(&mut rx, |e| matches!(e, Event::Suspicious { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(session.location.as_deref(), Some("São Paulo, BR"));
    // The laptop's own session, a minute after Berlin: a copied token, told as the jump.
    let jump = findings
        .iter()
        .find(|f| f.rule == RuleId::ImpossibleTravel)
        .unwrap_or_else(|| panic!("the jump among {findings:?}"));
    assert_eq!(jump.severity, Severity::Alert);
    assert!(
        jump.reason.contains("this session was in Berlin"),
        "{}",
        jump.reason
    );
}

#[tokio::test]
async fn credential_stuffing_names_the_scripting_tools() {
    let w = playing("credential-stuffing").await;
    let account = w.add(Dialect::NodeAuth, DialectKind::NodeAuth).await;
    let (_watcher, mut rx) = w.watch(&account);
    next_event(&mut rx, |e| matches!(e, Event::Listed { .. })).await;
    w.advance("PT30S").await;
    let Event::SessionAppeared { session, findings } = next_event(&mut rx, is_news).await else {
        panic!("a sign-in");
    };
    assert_eq!(
        session.user_agent.as_deref(),
        Some("python-requests/2.31.0")
    );
    let rules: Vec<RuleId> = findings.iter().map(|f| f.rule).collect();
    assert!(rules.contains(&RuleId::OddClient), "{rules:?}");
    assert!(rules.contains(&RuleId::NewDevice), "{rules:?}");
    assert!(rules.contains(&RuleId::NewNetwork), "{rules:?}");
}

#[tokio::test]
async fn a_trusted_device_signing_in_again_raises_nothing() {
    let w = playing("quiet").await;
    let account = w.add(Dialect::Hectoday, DialectKind::Hectoday).await;
    let (_watcher, mut rx) = w.watch(&account);
    next_event(&mut rx, |e| matches!(e, Event::Listed { .. })).await;
    let agent = "curl/8.5.0";
    w.mock
        .control()
        .sign_in_device(DEMO_LOGIN, agent, "203.0.113.50")
        .await
        .expect("signs in");
    let Event::SessionAppeared { session, findings } = next_event(&mut rx, is_news).await else {
        panic!("a sign-in");
    };
    assert!(
        !findings.is_empty(),
        "curl from a new network is odd at first"
    );
    // "It's me."
    w.accounts.detector().trust(&account.id, &session);
    w.mock
        .control()
        .sign_in_device(DEMO_LOGIN, agent, "203.0.113.51")
        .await
        .expect("signs in again");
    let Event::SessionAppeared { findings, .. } = next_event(&mut rx, is_news).await else {
        panic!("a sign-in");
    };
    assert!(findings.is_empty(), "trusted: {findings:?}");
}
