//! The rules at work in the watcher, on the mock's scenarios: what a person is told.

mod common;

use std::time::Duration;

use common::{World, next_event};
use tokio::sync::mpsc;
use warden_core::rules::{RuleId, Severity};
use warden_core::watch::Watcher;
use warden_core::{Account, Event, Message};
use warden_mock::{DEMO_LOGIN, Dialect};

async fn playing(scenario: &'static str) -> World {
    World::build().scenario(scenario).start().await
}

async fn add(w: &World, dialect: Dialect) -> Account {
    w.add(dialect, DEMO_LOGIN).await.expect("added")
}

fn watch(w: &World, account: &Account) -> (Watcher, mpsc::UnboundedReceiver<Event>) {
    let (watcher, rx) = w.watcher(Duration::from_millis(50));
    watcher.watch(account.clone());
    (watcher, rx)
}

async fn advance(w: &World, by: &str) {
    w.mock.control().advance_clock(by).await.expect("advances");
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
    let account = add(&w, Dialect::Rtc).await;
    let (_watcher, mut rx) = watch(&w, &account);
    next_event(&mut rx, |e| matches!(e, Event::Listed { .. })).await;

    advance(&w, "PT1M").await;
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
    let notice = Message::for_event(
        &Event::SessionAppeared {
            session: session.clone(),
            findings: findings.clone(),
        },
        "demo rtc",
    )
    .expect("worth a notification");
    assert_eq!(notice.summary, "Suspicious sign-in on demo rtc");
    assert!(notice.body.contains("Impossible travel"), "{}", notice.body);

    advance(&w, "PT1M").await;
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
        jump.reason
            .contains("from Berlin, DE, where this session was"),
        "{}",
        jump.reason
    );
}

#[tokio::test]
async fn credential_stuffing_names_the_scripting_tools() {
    let w = playing("credential-stuffing").await;
    let account = add(&w, Dialect::NodeAuth).await;
    let (_watcher, mut rx) = watch(&w, &account);
    next_event(&mut rx, |e| matches!(e, Event::Listed { .. })).await;
    advance(&w, "PT30S").await;
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
    let account = add(&w, Dialect::Hectoday).await;
    let (_watcher, mut rx) = watch(&w, &account);
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
    w.accounts.judge().trust(&account.id, &session);
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
