//! The defence on the mock's clock: a copied session (the laptop's own session used from São
//! Paulo a minute after Berlin) is signed out when the wait runs out, checked gone and
//! recorded with its alert; "It's me" cancels it; "Sign out now" does not wait; a server down
//! is said once and tried again at each poll; "Tell me" only tells; and a sign-in that is
//! only the account's other session far away (a database's guess could make it the person's
//! phone) is never acted on.

mod common;

use std::sync::Arc;

use common::World;
use warden_core::rules::RuleId;
use warden_core::watch::Poller;
use warden_core::watch::defence::Defence;
use warden_core::{Account, EndReason, Event, Message};
use warden_mock::{DEMO_LOGIN, Dialect, FaultSpec};

/// The "impossible-travel" scenario on RTC, the engine on the mock's clock, polled by hand:
/// after `ready`, the Sydney sign-in has been seen and the laptop's session has just been
/// used from São Paulo.
struct Intrusion {
    w: World,
    account: Account,
    poller: Poller,
    events: common::Events,
}

async fn intrusion(defence: Option<Defence>) -> (Intrusion, Vec<Event>) {
    let w = World::build()
        .scenario("impossible-travel")
        .mock_clock()
        .start()
        .await;
    let account = w.add(Dialect::Rtc, DEMO_LOGIN).await.expect("added");
    if let Some(defence) = defence {
        w.accounts.set_defence(&account, defence).expect("set");
    }
    let events = common::Events::default();
    let mut poller = Poller::new(Arc::clone(&w.accounts), account.clone());
    poller.poll(&events).await;
    let mut it = Intrusion {
        w,
        account,
        poller,
        events,
    };
    // Sydney: impossible travel of the *account* (another session): told, never acted on.
    let sydney = it.after("PT1M").await;
    assert!(
        !sydney
            .iter()
            .any(|e| matches!(e, Event::SignOutPending { .. } | Event::DefenceAsks { .. })),
        "the account's other session far away is only told: {sydney:#?}"
    );
    // The laptop's own session, a minute after Berlin, in São Paulo: a copied cookie.
    let jump = it.after("PT1M").await;
    (it, jump)
}

impl Intrusion {
    /// Moves the mock's clock, polls once, and returns what was reported.
    async fn after(&mut self, by: &str) -> Vec<Event> {
        if by != "PT0S" {
            self.w.mock.control().advance_clock(by).await.expect("time");
        }
        self.poller.poll(&self.events).await;
        self.events.take()
    }

    async fn laptop_is_live(&self) -> bool {
        let snapshot = self
            .w
            .accounts
            .snapshot(&self.account)
            .await
            .expect("lists");
        snapshot
            .sessions
            .iter()
            .any(|s| s.ip.as_deref() == Some("192.0.2.45"))
    }
}

/// Whether the defence signed a session out among `events`.
fn signed_out(events: &[Event]) -> bool {
    events
        .iter()
        .any(|e| matches!(e, Event::DefenceSignedOut { .. }))
}

fn pending_of(events: &[Event]) -> Option<warden_core::watch::defence::PendingSignOut> {
    events.iter().find_map(|e| match e {
        Event::SignOutPending { pending, .. } => Some(pending.clone()),
        _ => None,
    })
}

#[tokio::test]
async fn a_copied_session_is_signed_out_when_the_wait_runs_out_checked_gone_and_recorded() {
    let (mut it, jump) = intrusion(None).await;
    assert_eq!(
        it.w.accounts.defence(&it.account).expect("read"),
        Defence::default(),
        "a new account signs out after a short wait"
    );
    let pending = pending_of(&jump).unwrap_or_else(|| panic!("a pending sign-out: {jump:#?}"));
    assert_eq!(pending.rule, RuleId::ImpossibleTravel);
    assert_eq!(pending.due - pending.since, chrono::TimeDelta::minutes(2));
    assert!(pending.device.contains("São Paulo"), "{}", pending.device);
    // Every process on the home sees it.
    assert_eq!(
        it.w.reopen().pending_sign_outs(None).expect("read"),
        vec![pending.clone()]
    );

    // A minute on: still waiting, still live.
    let waiting = it.after("PT1M").await;
    assert!(
        !waiting.iter().any(|e| matches!(
            e,
            Event::DefenceSignedOut { .. } | Event::SignOutPending { .. }
        )),
        "{waiting:#?}"
    );
    assert!(it.laptop_is_live().await);

    // The wait runs out: signed out at the next poll, checked gone, told once.
    let done = it.after("PT1M").await;
    let signed_out: Vec<&Event> = done
        .iter()
        .filter(|e| matches!(e, Event::DefenceSignedOut { .. }))
        .collect();
    assert_eq!(signed_out.len(), 1, "{done:#?}");
    assert!(!it.laptop_is_live().await, "gone on the server");
    assert!(
        it.w.accounts
            .pending_sign_outs(None)
            .expect("read")
            .is_empty()
    );
    let history = it.w.accounts.history(Some(&it.account)).expect("history");
    let ended = history
        .iter()
        .find(|e| e.detail.starts_with("ended by Session Warden"))
        .unwrap_or_else(|| panic!("recorded: {history:#?}"));
    assert!(
        ended.detail.contains("Impossible travel"),
        "{}",
        ended.detail
    );
    assert!(
        ended.detail.contains("rule impossible-travel"),
        "{}",
        ended.detail
    );

    // The next listing finds it ended, as the defence's, recorded once.
    let after = it.after("PT30S").await;
    assert!(after.iter().any(|e| matches!(
        e,
        Event::SessionEnded {
            how: EndReason::Defence,
            ..
        }
    )));
    let history = it.w.accounts.history(Some(&it.account)).expect("history");
    assert_eq!(
        history
            .iter()
            .filter(|e| e.detail.starts_with("ended by Session Warden"))
            .count(),
        1
    );
}

#[tokio::test]
async fn its_me_cancels_and_sign_out_now_does_not_wait() {
    let (mut it, jump) = intrusion(None).await;
    let pending = pending_of(&jump).expect("pending");
    // "It's me": cancelled (and trusted); the wait running out ends nothing.
    it.w.accounts
        .trust(&it.account, &pending.session)
        .await
        .expect("It's me");
    assert!(
        it.w.accounts
            .pending_sign_outs(None)
            .expect("read")
            .is_empty()
    );
    let later = it.after("PT5M").await;
    assert!(!signed_out(&later), "{later:#?}");
    assert!(it.laptop_is_live().await);

    // Cancelled by another process on the home (`warden defence --cancel`): the watcher
    // reads the ledger, and signs nothing out.
    let (mut it, jump) = intrusion(None).await;
    let pending = pending_of(&jump).expect("pending");
    assert!(
        it.w.reopen()
            .cancel_sign_out(&it.account.id, &pending.session)
            .expect("cancelled")
    );
    let later = it.after("PT5M").await;
    assert!(!signed_out(&later), "{later:#?}");
    assert!(it.laptop_is_live().await);

    let (mut it, jump) = intrusion(Some(
        Defence::wait(chrono::TimeDelta::hours(1)).expect("a wait"),
    ))
    .await;
    let pending = pending_of(&jump).expect("pending");
    assert!(
        it.w.accounts
            .sign_out_now(&it.account.id, &pending.session)
            .expect("hastened")
    );
    let now = it.after("PT0S").await;
    assert!(signed_out(&now), "{now:#?}");
    assert!(!it.laptop_is_live().await);
}

#[tokio::test]
async fn a_server_down_is_said_once_and_tried_again_at_each_poll() {
    let (it, jump) = intrusion(Some(Defence::AtOnce)).await;
    // At once: no countdown to show; it was carried out in the same poll.
    assert!(signed_out(&jump), "{jump:#?}");
    assert!(!it.laptop_is_live().await);

    let (mut it, _) = intrusion(Some(
        Defence::wait(chrono::TimeDelta::seconds(30)).expect("a wait"),
    ))
    .await;
    let fault: FaultSpec = serde_json::from_value(serde_json::json!({
        "route": "/rtc/api/sessions", "method": "DELETE", "status": 503
    }))
    .expect("a fault");
    it.w.mock
        .control()
        .add_fault(&fault)
        .await
        .expect("fault on");
    let failed = it.after("PT1M").await;
    assert_eq!(
        failed
            .iter()
            .filter(|e| matches!(e, Event::DefenceFailed { .. }))
            .count(),
        1,
        "{failed:#?}"
    );
    let again = it.after("PT30S").await;
    assert!(
        !again
            .iter()
            .any(|e| matches!(e, Event::DefenceFailed { .. })),
        "the same failure is not told twice: {again:#?}"
    );
    assert!(it.laptop_is_live().await);
    it.w.mock.control().clear_faults().await.expect("fault off");
    let done = it.after("PT30S").await;
    assert!(signed_out(&done), "{done:#?}");
    assert!(!it.laptop_is_live().await);
}

#[tokio::test]
async fn tell_me_only_tells() {
    let (mut it, jump) = intrusion(Some(Defence::Tell)).await;
    assert!(pending_of(&jump).is_none(), "{jump:#?}");
    assert!(
        jump.iter().any(|e| matches!(e, Event::Suspicious { .. })),
        "the alert is told as before: {jump:#?}"
    );
    it.after("PT10M").await;
    assert!(it.laptop_is_live().await);
}

/// On the IP databases that ship: Ann's sessions used at TU Berlin, then seconds later from a
/// São Paulo home line (Claro), are each one session in two places: acted on, one after the
/// other (the first's sightings are forgotten when it is signed out; the second is still
/// measured from its own).
#[tokio::test]
async fn on_the_shipped_databases_a_session_from_berlin_then_sao_paulo_is_acted_on() {
    let w = World::build().mock_clock().start().await;
    let (account, devices) = ann_at_tu_berlin(&w, Dialect::Rtc).await;
    let control = w.mock.control();
    let events = common::Events::default();
    let mut poller = Poller::new(Arc::clone(&w.accounts), account.clone());
    poller.poll(&events).await;
    events.take();
    for device in &devices {
        control.advance_clock("PT1M").await.expect("time");
        control
            .record_activity(device, Some("189.100.20.3"))
            .await
            .expect("used from São Paulo");
        poller.poll(&events).await;
        let told = events.take();
        let pending = pending_of(&told).unwrap_or_else(|| panic!("acted on: {told:#?}"));
        assert!(pending.device.contains("Sao Paulo"), "{}", pending.device);
        // The laptop, while her phone is in use at home: a copied cookie (NewCountry); the
        // phone then, alone: one session in two places (ImpossibleTravel).
        assert!(
            matches!(pending.rule, RuleId::NewCountry | RuleId::ImpossibleTravel),
            "{pending:?}"
        );
        w.accounts
            .sign_out_now(&account.id, &pending.session)
            .expect("now");
        poller.poll(&events).await;
        assert!(signed_out(&events.take()));
    }
}

/// Ann (on `dialect`, the IP databases that ship) with a laptop and a phone both in use at
/// TU Berlin, her account added: the sessions' ids, laptop first.
async fn ann_at_tu_berlin(w: &World, dialect: Dialect) -> (Account, Vec<String>) {
    w.accounts.set_geoip(Arc::new(warden_core::GeoIp::in_dir(
        &common::shipped_geoip(),
    )));
    let control = w.mock.control();
    let ann = "ann@example.com";
    control
        .create_user(ann, warden_mock::DEMO_PASSWORD)
        .await
        .expect("Ann");
    let mut devices = Vec::new();
    for agent in [
        warden_mock::agents::FIREFOX_LINUX,
        warden_mock::agents::SAFARI_IPHONE,
    ] {
        let id = control
            .sign_in_via(dialect, ann, agent, "130.149.7.201", None)
            .await
            .expect("signs in")
            .id;
        control
            .record_activity(&id, Some("130.149.7.201"))
            .await
            .expect("used at TU Berlin");
        devices.push(id);
    }
    let account = w.add(dialect, ann).await.expect("added");
    (account, devices)
}

/// The watcher polls when a sign-out is due, not only at its interval: with an hour between
/// polls and a wait of 10 seconds, the copied session is signed out about 10 seconds after
/// the alert, on the real clock.
#[tokio::test]
async fn the_watcher_signs_out_when_the_wait_runs_out_not_at_its_next_interval() {
    let w = World::build().start().await;
    let (account, devices) = ann_at_tu_berlin(&w, Dialect::Rtc).await;
    let wait = Defence::Wait { seconds: 10 };
    w.accounts.set_defence(&account, wait).expect("set");
    let (watcher, mut rx) = common::watcher(&w.accounts, std::time::Duration::from_secs(3600));
    watcher.watch(account.clone());
    common::next_event(&mut rx, |e| matches!(e, Event::Listed { .. })).await;
    w.mock
        .control()
        .record_activity(&devices[0], Some("189.100.20.3"))
        .await
        .expect("used from São Paulo");
    watcher.poll_now(&account.id);
    let pending =
        match common::next_event(&mut rx, |e| matches!(e, Event::SignOutPending { .. })).await {
            Event::SignOutPending { pending, .. } => pending,
            _ => unreachable!(),
        };
    let started = std::time::Instant::now();
    let done = tokio::time::timeout(std::time::Duration::from_secs(40), async {
        loop {
            match rx.recv().await.expect("the watcher is running") {
                Event::DefenceSignedOut { session, .. } => return session,
                Event::DefenceFailed { error, .. } => panic!("{error}"),
                _ => {}
            }
        }
    })
    .await
    .expect("signed out within 40 s, not at the hour's poll");
    assert_eq!(done.id, pending.session);
    let took = started.elapsed();
    assert!(
        took >= std::time::Duration::from_secs(8),
        "not before the wait ran out: {took:?}"
    );
}

/// node-auth cannot take back an access token it issued: the sign-out's notification says
/// until when the copied session's device can still use it.
#[tokio::test]
async fn on_node_auth_the_sign_out_says_until_when_its_access_token_still_works() {
    let w = World::build().mock_clock().start().await;
    let (account, devices) = ann_at_tu_berlin(&w, Dialect::NodeAuth).await;
    let events = common::Events::default();
    let mut poller = Poller::new(Arc::clone(&w.accounts), account.clone());
    poller.poll(&events).await;
    events.take();
    let control = w.mock.control();
    control.advance_clock("PT1M").await.expect("time");
    control
        .record_activity(&devices[0], Some("189.100.20.3"))
        .await
        .expect("used from São Paulo");
    poller.poll(&events).await;
    let jump = events.take();
    let pending = pending_of(&jump).unwrap_or_else(|| panic!("acted on: {jump:#?}"));
    w.accounts
        .sign_out_now(&account.id, &pending.session)
        .expect("now");
    poller.poll(&events).await;
    let done = events
        .take()
        .into_iter()
        .find(|e| matches!(e, Event::DefenceSignedOut { .. }))
        .expect("signed out");
    let now = w.accounts.clock().now();
    let told = Message::for_defence(&done, "Ann", now).expect("told");
    assert!(
        told.body
            .contains("keep using the access token it holds until"),
        "{}",
        told.body
    );
    assert!(
        told.body.contains("at most 14 minutes from now"),
        "{}",
        told.body
    );
}

/// The demo shows the defence: in its scene (watched through RTC Collector, as the demo
/// does; polled here every 30 seconds of the mock's clock, the app every 5), the stranger's sign-in from another continent is told,
/// and the home Mac's own session used from São Paulo is signed out after the wait, its
/// place the one RTC reports. Nothing else is.
#[tokio::test]
async fn the_demo_s_copied_cookie_is_signed_out_after_the_wait_and_nothing_else_is() {
    let w = World::build().scenario("demo").mock_clock().start().await;
    let account = w.add(Dialect::Rtc, DEMO_LOGIN).await.expect("added");
    let events = common::Events::default();
    let mut poller = Poller::new(Arc::clone(&w.accounts), account.clone());
    let mut pending = Vec::new();
    let mut done = Vec::new();
    for _ in 0..20 {
        poller.poll(&events).await;
        for event in events.take() {
            match event {
                Event::SignOutPending { pending: ref p, .. } => {
                    let told = Message::for_defence(&event, "Demo", p.since).expect("told");
                    // The words the README quotes.
                    assert_eq!(
                        told.summary,
                        "Signing out Safari on a computer (São Paulo, BR) in 2 minutes"
                    );
                    pending.push(p.clone());
                }
                Event::DefenceSignedOut { session, .. } => done.push(session),
                Event::DefenceAsks { .. } | Event::DefenceFailed { .. } => {
                    panic!("the demo's defence: {event:#?}")
                }
                _ => {}
            }
        }
        w.mock.control().advance_clock("PT30S").await.expect("time");
    }
    let [pending] = pending.as_slice() else {
        panic!("one sign-out decided on: {pending:#?}");
    };
    let [gone] = done.as_slice() else {
        panic!("one session signed out: {done:#?}");
    };
    assert_eq!(gone.id, pending.session);
}
