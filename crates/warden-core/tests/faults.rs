//! The watcher through the mock's faults: a 500, a hang, malformed JSON, a 10 MB body, a 429
//! with Retry-After, a dead server. Each time it says "stale since" with a reason a person
//! understands, recovers when the fault ends, loses no sign-in made meanwhile, and panics
//! nowhere.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::World;
use rstest::rstest;
use serde_json::json;
use tokio::sync::mpsc;
use warden_core::watch::{WatchSettings, Watcher};
use warden_core::{Account, Event};
use warden_mock::{DEMO_LOGIN, FaultSpec};

const FIREFOX: &str = warden_mock::agents::FIREFOX_LINUX;

/// The demo account on hectoday, watched every 50 ms with requests that give up after
/// 800 ms, its first listing seen.
struct Watching {
    world: World,
    account: Account,
    rx: mpsc::UnboundedReceiver<Event>,
    _watcher: Watcher,
}

impl std::ops::Deref for Watching {
    type Target = World;
    fn deref(&self) -> &World {
        &self.world
    }
}

impl std::ops::DerefMut for Watching {
    fn deref_mut(&mut self) -> &mut World {
        &mut self.world
    }
}

async fn watching() -> Watching {
    let world = World::build()
        .request_timeout(Duration::from_millis(800))
        .start()
        .await;
    let account = world.add_demo().await;
    let (tx, rx) = mpsc::unbounded_channel();
    let watcher = Watcher::new(
        Arc::clone(&world.accounts),
        Arc::new(tx),
        WatchSettings {
            interval: Duration::from_millis(50),
            jitter: 0.0,
            max_backoff: Duration::from_millis(400),
        },
        tokio::runtime::Handle::current(),
    );
    watcher.watch(account.clone());
    let mut watching = Watching {
        world,
        account,
        rx,
        _watcher: watcher,
    };
    watching.next(|e| matches!(e, Event::Listed { .. })).await;
    watching
}

impl Watching {
    async fn next(&mut self, want: impl Fn(&Event) -> bool) -> Event {
        tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                let event = self.rx.recv().await.expect("the watcher runs");
                if want(&event) {
                    return event;
                }
            }
        })
        .await
        .expect("the expected event within 20 s")
    }
}

fn fault(spec: serde_json::Value) -> FaultSpec {
    serde_json::from_value(spec).expect("a fault")
}

#[rstest]
#[case::server_error(json!({ "route": "/hectoday/me/sessions", "status": 500 }), "500")]
#[case::malformed_json(json!({ "route": "/hectoday/me/sessions", "body": "malformed" }), "could not be understood")]
#[case::ten_megabytes(json!({ "route": "/hectoday/me/sessions", "sizeMb": 10 }), "larger than 4 MiB")]
#[case::truncated(json!({ "route": "/hectoday/me/sessions", "body": "truncated" }), "cannot reach")]
#[case::hang(json!({ "route": "/hectoday/me/sessions", "hang": true }), "did not answer in time")]
#[case::rate_limited(json!({ "route": "/hectoday", "status": 429, "retryAfter": 1 }), "rate limiting")]
#[tokio::test]
async fn the_watcher_goes_stale_with_a_reason_and_recovers_without_losing_a_sign_in(
    #[case] spec: serde_json::Value,
    #[case] reason: &str,
) {
    let mut w = watching().await;
    let control = w.mock.control();
    control.add_fault(&fault(spec)).await.expect("fault on");
    let Event::Stale { error, account, .. } = w.next(|e| matches!(e, Event::Stale { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(account, w.account.id);
    assert!(error.contains(reason), "{error:?} should say {reason:?}");

    // A device signs in while we cannot see.
    control
        .sign_in_device(DEMO_LOGIN, FIREFOX, "203.0.113.7")
        .await
        .expect("signs in");
    control.clear_faults().await.expect("fault off");
    w.next(|e| matches!(e, Event::Recovered { .. })).await;
    let Event::SessionAppeared { session, .. } =
        w.next(|e| matches!(e, Event::SessionAppeared { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(session.ip.as_deref(), Some("203.0.113.7"));
    let history = w.accounts.history(Some(&w.account)).expect("history");
    let kinds: Vec<&str> = history.iter().map(|h| h.kind.as_str()).collect();
    assert_eq!(kinds, ["stale", "recovered", "appeared"]);
}

#[tokio::test]
async fn a_dead_server_is_stale_and_says_it_cannot_be_reached() {
    let mut w = watching().await;
    w.mock.stop().await;
    let Event::Stale { error, .. } = w.next(|e| matches!(e, Event::Stale { .. })).await else {
        unreachable!()
    };
    assert!(error.contains("cannot reach"), "{error}");
}

/// A sink that panics on the first list it is handed: a bug of ours, not the server's.
struct PanicsOnce {
    out: mpsc::UnboundedSender<Event>,
    panicked: std::sync::atomic::AtomicBool,
}

impl warden_core::EventSink for PanicsOnce {
    fn emit(&self, event: Event) {
        if matches!(event, Event::Listed { .. })
            && !self
                .panicked
                .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            panic!("a bug in the sink");
        }
        let _ = self.out.send(event);
    }
}

#[tokio::test]
async fn a_watcher_that_panics_says_so_and_watches_again() {
    let w = watching().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let sink = Arc::new(PanicsOnce {
        out: tx,
        panicked: Default::default(),
    });
    let watcher = Watcher::new(
        Arc::clone(&w.accounts),
        sink,
        WatchSettings {
            interval: Duration::from_millis(50),
            jitter: 0.0,
            max_backoff: Duration::from_millis(400),
        },
        tokio::runtime::Handle::current(),
    );
    watcher.watch(w.account.clone());
    let Event::Stale {
        error,
        needs_sign_in,
        ..
    } = common::next_event(&mut rx, |e| matches!(e, Event::Stale { .. })).await
    else {
        unreachable!()
    };
    assert!(
        error.contains("watcher failed") && error.contains("a bug in the sink"),
        "{error}"
    );
    assert!(!needs_sign_in, "nothing for the person to do");
    common::next_event(&mut rx, |e| matches!(e, Event::Recovered { .. })).await;
    let history = w.accounts.history(Some(&w.account)).expect("history");
    assert!(
        history.iter().any(
            |e| e.kind == warden_core::ledger::history::HistoryKind::Stale
                && e.detail.contains("watcher failed")
        ),
        "the failure is in the history: {history:#?}"
    );
}
