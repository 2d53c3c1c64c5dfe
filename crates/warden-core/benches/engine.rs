//! What one poll of a very large account costs the engine: parse the listing, diff it with
//! the previous one, run the rules on what changed. 10,000 sessions (target: under 20 ms).

use std::hint::black_box;

use chrono::{Duration, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use warden_core::dialect::parse_listing;
use warden_core::rules::Judge;
use warden_core::watch::diff::diff;
use warden_core::{AccountId, DialectKind, GeoIp, Snapshot};

const AGENTS: [&str; 4] = [
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "python-requests/2.31.0",
];

/// A node-auth listing of `n` sessions; `rotated` of them under new handles and `new`
/// more from new networks, as the next poll after a busy minute would see it.
fn node_auth_body(n: usize, rotated: usize, new: usize) -> Vec<u8> {
    let now = Utc::now();
    let sessions: Vec<serde_json::Value> = (0..n + new)
        .map(|i| {
            let handle = if i < rotated {
                format!("rotated-{i}")
            } else {
                format!("handle-{i}")
            };
            // Public addresses spread over many networks, so each is a real database lookup.
            let ip = if i >= n {
                format!("203.0.{}.{}", i % 250, i % 200)
            } else {
                format!(
                    "{}.{}.{}.{}",
                    80 + i % 60,
                    i / 256 % 256,
                    i % 256,
                    1 + i % 250
                )
            };
            let at = (now - Duration::minutes(i as i64 % 600)).to_rfc3339();
            serde_json::json!({
                "sessionHandle": handle,
                "userId": "1",
                "userAgent": AGENTS[i % AGENTS.len()],
                "ipAddress": ip,
                "createdAt": at,
                "expiresAt": (now + Duration::days(7)).to_rfc3339(),
                "lastActiveAt": at,
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({ "sessions": sessions })).unwrap_or_default()
}

fn poll(c: &mut Criterion) {
    let account = AccountId::from_stored("bench".into());
    let now = Utc::now();
    let before = node_auth_body(10_000, 0, 0);
    let after = node_auth_body(10_000, 50, 10);
    let previous = Snapshot {
        account: account.clone(),
        sessions: parse_listing(DialectKind::NodeAuth, &account, &before, now).unwrap_or_default(),
        fetched_at: Utc::now(),
    };
    // The databases the set-up installed (target/geoip), found as the app finds them.
    let geoip = GeoIp::discover(None);
    println!("IP databases: {:?}", geoip.sources());
    let mut previous = previous;
    geoip.enrich(&mut previous.sessions);
    let judge = Judge::default();
    judge.baseline(&previous, &[]);
    println!(
        "listing: {} sessions, {} KiB of JSON",
        previous.sessions.len(),
        after.len() / 1024
    );
    c.bench_function(
        "parse + locate + diff + detect, 10,000 sessions (node-auth)",
        |b| {
            b.iter(|| {
                let mut sessions =
                    parse_listing(DialectKind::NodeAuth, &account, black_box(&after), now)
                        .unwrap_or_default();
                geoip.enrich(&mut sessions);
                let current = Snapshot {
                    account: account.clone(),
                    sessions,
                    fetched_at: Utc::now(),
                };
                let changes = diff(&previous, &current);
                let mut findings = 0;
                for session in &changes.appeared {
                    findings += judge.appeared(session, &current, current.fetched_at).len();
                }
                let before_by_id = previous.by_id();
                for session in &current.sessions {
                    if let Some(before) = before_by_id.get(&session.id) {
                        findings += judge
                            .seen_again(before, session, &current, current.fetched_at)
                            .len();
                    }
                }
                black_box((changes.appeared.len(), changes.renamed.len(), findings))
            });
        },
    );
    c.bench_function("locate 10,000 addresses, nothing cached", |b| {
        let sessions =
            parse_listing(DialectKind::NodeAuth, &account, &after, now).unwrap_or_default();
        b.iter_batched(
            || (GeoIp::discover(None), sessions.clone()),
            |(fresh, mut sessions)| {
                fresh.enrich(&mut sessions);
                black_box(sessions.len())
            },
            criterion::BatchSize::LargeInput,
        );
    });
    c.bench_function("parse only, 10,000 sessions (node-auth)", |b| {
        b.iter(|| {
            parse_listing(DialectKind::NodeAuth, &account, black_box(&after), now).map(|s| s.len())
        });
    });
}

criterion_group! {
    name = engine;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(8));
    targets = poll
}
criterion_main!(engine);
