//! The idle policy on the mock's clock: which sessions it ends, what it spares, what it
//! records and tells, and that the preview shows the same before it is on.

mod common;

use std::sync::Arc;

use warden_core::tell::notification::{NotificationPolicy, NotificationSettings};
use warden_core::watch::Poller;
use warden_core::{EndReason, Event, IdleAfter, IdlePolicy};
use warden_mock::{DEMO_LOGIN, Dialect};

const IPHONE: &str = warden_mock::agents::SAFARI_IPHONE;
const FIREFOX: &str = warden_mock::agents::FIREFOX_LINUX;
const EDGE: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0";

#[tokio::test]
async fn a_week_ends_exactly_the_sessions_idle_longer_records_them_and_tells_once() {
    let w = common::World::build().mock_clock().start().await;
    // Matrix lists a device that made no request since signing in with no activity at all.
    let account = w.add(Dialect::Matrix, "demo").await.expect("added");
    let control = w.mock.control();
    // Trust is by device (what it is, not its address): each device here is another one.
    let device = |agent: &'static str, ip: &'static str| {
        let control = control.clone();
        async move {
            control
                .sign_in_via(Dialect::Matrix, DEMO_LOGIN, agent, ip, None)
                .await
                .expect("signs in")
                .id
        }
    };
    let old = device(FIREFOX, "198.51.100.1").await;
    let trusted = device(IPHONE, "198.51.100.2").await;
    let silent = device(EDGE, "198.51.100.3").await;
    control.advance_clock("PT1M").await.expect("time");
    for id in [&old, &trusted] {
        control.record_activity(id, None).await.expect("used once");
    }
    control.advance_clock("P8D").await.expect("eight days pass");
    let recent = device("curl/8.5.0", "198.51.100.4").await;
    control.advance_clock("PT1M").await.expect("time");
    control.record_activity(&recent, None).await.expect("used");

    let at = |ip: &str, snapshot: &warden_core::Snapshot| {
        snapshot
            .sessions
            .iter()
            .find(|s| s.ip.as_deref() == Some(ip) || s.device.label.contains(ip))
            .cloned()
    };
    let listed = w.accounts.snapshot(&account).await.expect("lists");
    let trusted_session = at("198.51.100.2", &listed).expect("the trusted device");
    w.accounts
        .trust(&account, &trusted_session.id)
        .await
        .expect("It's me");

    let policy = IdlePolicy {
        after: IdleAfter::Week,
        include_trusted: false,
    };
    let preview = w
        .accounts
        .idle_preview(&account, policy)
        .await
        .expect("a preview");
    let ips = |sessions: &[warden_core::Session]| {
        sessions
            .iter()
            .map(|s| s.ip.clone().unwrap_or_else(|| "no address".into()))
            .collect::<Vec<_>>()
    };
    assert_eq!(ips(&preview.ending), ["198.51.100.1"], "{preview:#?}");
    assert_eq!(ips(&preview.spared_trusted), ["198.51.100.2"]);
    assert_eq!(preview.unknown_activity.len(), 1, "the silent device");
    assert!(
        preview
            .note
            .is_some_and(|n| n.contains("rather than guess"))
    );
    assert_eq!(w.server_side_ids().await.len(), 5, "a preview ends nothing");

    w.accounts
        .set_idle_policy(&account, Some(policy))
        .expect("on");
    // Another process on the home sees the same policy.
    assert_eq!(
        w.reopen().idle_policy(&account).expect("read"),
        Some(policy)
    );
    let events = common::Events::default();
    let mut poller = Poller::new(Arc::clone(&w.accounts), account.clone());
    poller.poll(&events).await;
    let told: Vec<Event> = events
        .take()
        .into_iter()
        .filter(|e| matches!(e, Event::IdleSignedOut { .. }))
        .collect();
    assert_eq!(told.len(), 1, "one run, told once");
    let Event::IdleSignedOut { ended, after, .. } = &told[0] else {
        unreachable!()
    };
    assert_eq!(
        (ips(ended), *after),
        (vec!["198.51.100.1".to_owned()], IdleAfter::Week)
    );
    let live = w.server_side_ids().await;
    assert!(!live.contains(&old), "ended on the server");
    for kept in [&trusted, &silent, &recent] {
        assert!(live.contains(kept), "only the idle one ends");
    }

    // Told in one notification, in these words, published by the policy.
    let (policy, mut published) = NotificationPolicy::new(tokio::runtime::Handle::current());
    policy.tell(
        &told[0],
        &account,
        &NotificationSettings::default(),
        chrono::Utc::now(),
        12,
    );
    let shown = tokio::time::timeout(std::time::Duration::from_secs(10), published.recv())
        .await
        .expect("published")
        .expect("a notification");
    assert_eq!(shown.summary, "Signed out 1 session idle for over a week");

    // The next polls: the end is reported and recorded once, as the policy's; nothing more
    // is ended or told.
    poller.poll(&events).await;
    poller.poll(&events).await;
    let later = events.take();
    assert!(
        !later
            .iter()
            .any(|e| matches!(e, Event::IdleSignedOut { .. }))
    );
    let history = w.accounts.history(Some(&account)).expect("history");
    let ended: Vec<_> = history
        .iter()
        .filter(|e| e.detail == EndReason::IdlePolicy.words())
        .collect();
    assert_eq!(ended.len(), 1, "{history:#?}");
    assert_eq!(ended[0].ip.as_deref(), Some("198.51.100.1"));
}
