//! What watching costs, measured in a release build against `warden-mock` over loopback:
//! the engine's CPU time per poll of a 100-session account, and the time from a sign-in on
//! the mock to the watcher's event with a 1 s interval (target: the interval + 200 ms).
//!
//! The mock runs on its own runtime threads; the engine on this thread alone, so this
//! thread's CPU time is the engine's (`/proc/thread-self/stat`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use warden_core::watch::{WatchSettings, Watcher};
use warden_core::{
    Accounts, DialectKind, Event, Home, MemoryStore, NewAccount, Secret, SystemClock,
};
use warden_mock::{DEMO_LOGIN, DEMO_PASSWORD, Dialect};

const AGENT: &str = warden_mock::agents::FIREFOX_LINUX;

/// This thread's CPU time (user + system), in ticks of 10 ms.
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse().ok())
        .collect();
    Duration::from_millis(fields.iter().sum::<u64>() * 10)
}

fn main() {
    // `cargo test --all-targets` runs benches once as tests: keep that quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let server_runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mock = server_runtime
        .block_on(warden_mock::spawn())
        .expect("mock starts");
    let control = mock.control();
    let engine = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let home = tempfile::tempdir().expect("home");
    let accounts = Arc::new(
        Accounts::open(
            &Home::at(home.path()),
            Arc::new(MemoryStore::default()),
            Arc::new(SystemClock),
        )
        .expect("opens"),
    );
    for dialect in [Dialect::Hectoday, Dialect::NodeAuth] {
        let kind = match dialect {
            Dialect::NodeAuth => DialectKind::NodeAuth,
            _ => DialectKind::Hectoday,
        };
        let account = engine
            .block_on(accounts.add(
                NewAccount {
                    url: mock.api_url(dialect).to_string(),
                    dialect: kind,
                    login: DEMO_LOGIN.into(),
                    label: Some(dialect.to_string()),
                },
                Secret::new(DEMO_PASSWORD),
            ))
            .expect("added");
        let have = engine
            .block_on(accounts.snapshot(&account))
            .map(|s| s.sessions.len())
            .unwrap_or_default();
        for i in have..100 {
            server_runtime
                .block_on(control.sign_in_via(
                    Dialect::Hectoday,
                    DEMO_LOGIN,
                    AGENT,
                    &format!("198.51.100.{i}"),
                    None,
                ))
                .expect("signs in");
        }
        let polls: u32 = if quick { 5 } else { 500 };
        let (cpu, wall) = (thread_cpu(), Instant::now());
        for _ in 0..polls {
            let snapshot = engine.block_on(accounts.snapshot(&account)).expect("lists");
            assert!(snapshot.sessions.len() >= 100);
        }
        let cpu = thread_cpu().saturating_sub(cpu);
        println!(
            "one poll of a 100-session account ({dialect}): {:.2} ms CPU, {:.2} ms wall \
             (mean of {polls}, the engine's thread only)",
            cpu.as_secs_f64() * 1000.0 / f64::from(polls),
            wall.elapsed().as_secs_f64() * 1000.0 / f64::from(polls)
        );
    }

    let account = accounts.find("hectoday").expect("the hectoday account");
    let interval = Duration::from_secs(1);
    let rounds = if quick { 1 } else { 10 };
    let mut latencies = engine.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let watcher = Watcher::new(
            Arc::clone(&accounts),
            Arc::new(tx),
            WatchSettings {
                interval,
                ..WatchSettings::default()
            },
            tokio::runtime::Handle::current(),
        );
        watcher.watch(account.clone());
        while !matches!(rx.recv().await, Some(Event::Listed { .. })) {}
        let mut latencies = Vec::new();
        for i in 0..rounds {
            tokio::time::sleep(Duration::from_millis(rand::random_range(0..1000))).await;
            let started = Instant::now();
            control
                .sign_in_device(DEMO_LOGIN, AGENT, &format!("203.0.113.{i}"))
                .await
                .expect("signs in");
            loop {
                match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
                    Ok(Some(Event::SessionAppeared { .. })) => break,
                    Ok(Some(_)) => {}
                    _ => panic!("no event within 10 s"),
                }
            }
            latencies.push(started.elapsed());
        }
        latencies
    });
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "sign-in on the mock to the event, 1 s interval (10 % jitter), {rounds} sign-ins at \
         random moments: median {:.0} ms, max {:.0} ms (target: within {:.0} ms)",
        ms(latencies[latencies.len() / 2]),
        ms(latencies[latencies.len() - 1]),
        ms(interval) + 200.0
    );
    drop(mock);
}
