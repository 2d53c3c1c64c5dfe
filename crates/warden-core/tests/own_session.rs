//! Session Warden's own session, over its life, on `warden-mock`'s virtual clock: when
//! SecureAuth's sign-in ends (7 days after the code) the person is told a day ahead, once;
//! on node-auth, signing in again leaves no trail of our earlier sessions, and one the server
//! still lists is known as ours; after a node-auth revoke, the person learns how long the
//! device keeps its access token.

mod common;

use std::sync::Arc;

use chrono::TimeDelta;
use common::{Events, World};
use warden_core::watch::Poller;
use warden_core::{Account, Event, Outages};
use warden_mock::{DEMO_LOGIN, DEMO_PHONE, Dialect};

const IPHONE: &str = warden_mock::agents::SAFARI_IPHONE;

/// The engine on the mock's clock, which the tests move.
async fn world() -> World {
    World::build().mock_clock().start().await
}

async fn add(w: &World, dialect: Dialect, login: &str) -> Account {
    w.add(dialect, login).await.expect("added")
}

fn advance(w: &World, by: TimeDelta) {
    w.state.clock.advance(by);
}

#[tokio::test]
async fn secureauth_says_a_day_ahead_that_its_sign_in_will_need_a_new_code() {
    let w = world().await;
    let account = add(&w, Dialect::SecureAuth, DEMO_PHONE).await;
    let signed_in = w.state.clock.now();
    let until = w
        .accounts
        .signed_in_until(&account)
        .await
        .expect("known from sign-in");
    assert!(
        (until - (signed_in + TimeDelta::days(7)))
            .num_seconds()
            .abs()
            < 5,
        "SecureAuth signs in for 7 days from the code: {until} vs {signed_in}"
    );

    let events = Events::default();
    let mut poller = Poller::new(Arc::clone(&w.accounts), account.clone());
    let ending = |events: &Events| {
        events
            .take()
            .into_iter()
            .filter(|e| matches!(e, Event::SignInEnding { .. }))
            .collect::<Vec<_>>()
    };
    poller.poll(&events).await;
    assert!(ending(&events).is_empty(), "nothing to say on day one");
    advance(&w, TimeDelta::days(5) + TimeDelta::hours(23));
    poller.poll(&events).await;
    assert!(ending(&events).is_empty(), "not yet: more than a day left");
    advance(&w, TimeDelta::hours(2));
    poller.poll(&events).await;
    let told = ending(&events);
    assert_eq!(told.len(), 1, "told once, a day ahead: {told:?}");
    let Event::SignInEnding { at, .. } = &told[0] else {
        unreachable!()
    };
    assert_eq!(*at, until);
    let notice = Outages::default()
        .message(&told[0], "mine", w.state.clock.now())
        .expect("a notification");
    assert_eq!(notice.summary, "mine will need a new code");
    assert!(
        notice.body.contains("warden accounts login") && notice.body.contains("in the window"),
        "{}",
        notice.body
    );
    poller.poll(&events).await;
    assert!(ending(&events).is_empty(), "never twice");
    let mut restarted = Poller::new(Arc::clone(&w.accounts), account.clone());
    restarted.poll(&events).await;
    assert!(
        ending(&events).is_empty(),
        "not again after a restart either"
    );
    assert!(
        w.accounts
            .history(Some(&account))
            .expect("history")
            .iter()
            .any(|e| e.kind == warden_core::ledger::history::HistoryKind::SignInEnding),
        "kept in the history"
    );
}

#[tokio::test]
async fn node_auth_signing_in_again_leaves_no_trail_of_our_sessions() {
    let w = world().await;
    let account = add(&w, Dialect::NodeAuth, DEMO_LOGIN).await;
    let control = w.mock.control();
    let first = w.accounts.snapshot(&account).await.expect("lists");
    let ours_before = first
        .sessions
        .iter()
        .find(|s| s.is_current)
        .expect("ours")
        .id
        .clone();

    // Quirk 1: the phone's login takes the user's one refresh token; once our access token
    // runs out, Session Warden signs in again, and ends the session it held.
    control
        .sign_in_via(Dialect::NodeAuth, DEMO_LOGIN, IPHONE, "198.51.100.20", None)
        .await
        .expect("the phone signs in");
    advance(&w, TimeDelta::minutes(16));
    let after = w.accounts.snapshot(&account).await.expect("lists");
    let ours: Vec<_> = after.sessions.iter().filter(|s| s.is_ours()).collect();
    assert_eq!(
        ours.len(),
        1,
        "one session of ours, the new one: {:#?}",
        after.sessions
    );
    assert!(ours[0].is_current && ours[0].id != ours_before);
    assert!(
        after.get(&ours_before).is_none(),
        "the earlier one was ended on the server"
    );

    // When ending it fails, the one left behind is still known as ours, by the ledger.
    let fault: warden_mock::FaultSpec = serde_json::from_value(
        serde_json::json!({ "route": "/node-auth/auth/sessions", "method": "DELETE", "status": 500 }),
    )
    .expect("a fault");
    control.add_fault(&fault).await.expect("fault");
    let held = ours[0].id.clone();
    control
        .sign_in_via(Dialect::NodeAuth, DEMO_LOGIN, IPHONE, "198.51.100.21", None)
        .await
        .expect("the phone signs in again");
    advance(&w, TimeDelta::minutes(16));
    let left = w.accounts.snapshot(&account).await.expect("lists");
    let leftover = left.get(&held).expect("the server still lists it");
    assert!(!leftover.is_current && leftover.ours_earlier && leftover.is_ours());
    assert_eq!(
        left.sessions.iter().filter(|s| s.is_current).count(),
        1,
        "and one we hold"
    );
}

#[tokio::test]
async fn a_node_auth_revoke_says_how_long_the_device_keeps_its_access_token() {
    let w = world().await;
    let account = add(&w, Dialect::NodeAuth, DEMO_LOGIN).await;
    let lifetime = w
        .accounts
        .access_lifetime(&account)
        .expect("read from our tokens");
    assert_eq!(
        lifetime,
        TimeDelta::minutes(15),
        "the mock's, as the library's default"
    );
    assert!(
        w.accounts
            .caveat(&account)
            .is_some_and(|c| c.contains("within 15 minutes")),
        "{:?}",
        w.accounts.caveat(&account)
    );
    w.mock
        .control()
        .sign_in_via(Dialect::NodeAuth, DEMO_LOGIN, IPHONE, "198.51.100.20", None)
        .await
        .expect("the phone signs in");
    let phone = w
        .accounts
        .snapshot(&account)
        .await
        .expect("lists")
        .sessions
        .into_iter()
        .find(|s| !s.is_current)
        .expect("the phone");
    let revoked = w
        .accounts
        .revoke_session(&account, phone)
        .await
        .expect("revoked");
    let note = w.accounts.after_revoke(&account, &revoked).expect("told");
    assert!(
        note.contains("keep using the access token it holds until"),
        "{note}"
    );
    advance(&w, TimeDelta::minutes(20));
    assert_eq!(
        w.accounts.after_revoke(&account, &revoked),
        None,
        "nothing left to tell"
    );
}
