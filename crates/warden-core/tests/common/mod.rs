//! What the engine's integration tests share: a watcher with its event stream, and waiting
//! for the event a test expects.
#![allow(dead_code)] // each test file uses its own part

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use warden_core::watch::{WatchSettings, Watcher};
use warden_core::{Accounts, Clock, CodePrompt, CodeRequest, Event, EventSink, Secret};
use warden_mock::MockState;

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
