//! What the engine's integration tests share: a watcher with its event stream, and waiting
//! for the event a test expects.
#![allow(dead_code)] // each test file uses its own part

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use warden_core::watch::{WatchSettings, Watcher};
use warden_core::{Accounts, Event};

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
