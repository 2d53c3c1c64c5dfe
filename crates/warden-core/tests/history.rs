//! The ledger's history: what the watcher saw, kept and exported; trust kept across a
//! restart; and nothing committed lost when the process is killed mid-write.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::{World, next_event};
use tokio::sync::mpsc;
use warden_core::ledger::Ledger;
use warden_core::ledger::history::{to_csv, to_json};
use warden_core::watch::Watcher;
use warden_core::{Account, Accounts, Event};
use warden_mock::DEMO_LOGIN;

const FIREFOX: &str = warden_mock::agents::FIREFOX_LINUX;

fn watch(accounts: &Arc<Accounts>, account: &Account) -> (Watcher, mpsc::UnboundedReceiver<Event>) {
    let (watcher, rx) = common::watcher(accounts, Duration::from_millis(50));
    watcher.watch(account.clone());
    (watcher, rx)
}

#[tokio::test]
async fn the_history_keeps_sign_ins_and_how_each_session_ended_and_exports_them() {
    let w = World::start().await;
    let (mock, accounts) = (&w.mock, &w.accounts);
    let account = w.add_demo().await;
    let (watcher, mut rx) = watch(accounts, &account);
    next_event(&mut rx, |e| matches!(e, Event::Listed { .. })).await;

    let control = mock.control();
    let stranger = control
        .sign_in_device(DEMO_LOGIN, "curl/8.5.0", "203.0.113.9")
        .await
        .expect("signs in");
    let Event::SessionAppeared { session, .. } =
        next_event(&mut rx, |e| matches!(e, Event::SessionAppeared { .. })).await
    else {
        unreachable!()
    };
    accounts
        .revoke(&account, &session.id)
        .await
        .expect("revoked");
    watcher.poll_now(&account.id);
    next_event(&mut rx, |e| matches!(e, Event::SessionEnded { .. })).await;
    let laptop = control
        .sign_in_device(DEMO_LOGIN, FIREFOX, "198.51.100.4")
        .await
        .expect("signs in");
    next_event(&mut rx, |e| matches!(e, Event::SessionAppeared { .. })).await;
    control
        .end_session(&laptop)
        .await
        .expect("ended by the service");
    next_event(&mut rx, |e| matches!(e, Event::SessionEnded { .. })).await;
    drop(watcher);
    assert_ne!(stranger, laptop);

    let history = accounts.history(Some(&account)).expect("history");
    let kinds: Vec<&str> = history.iter().map(|h| h.kind.as_str()).collect();
    assert_eq!(kinds, ["appeared", "ended", "appeared", "ended"]);
    assert_eq!(history[1].detail, "revoked here");
    assert_eq!(history[3].detail, "revoked elsewhere");
    assert!(
        history[0]
            .detail
            .contains("A device never seen on this account"),
        "{}",
        history[0].detail
    );
    assert_eq!(history[0].ip.as_deref(), Some("203.0.113.9"));

    let seen = accounts.seen_sessions(&account).expect("sessions");
    assert_eq!(
        seen.len(),
        3,
        "ours, the stranger and the laptop, ended ones included"
    );
    assert_eq!(
        seen.iter().filter(|s| s.ended_at.is_some()).count(),
        2,
        "{seen:?}"
    );

    let csv = to_csv(&history).expect("csv");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("seq,at,account,kind,session,device,ip,place,severity,detail")
    );
    assert_eq!(lines.count(), 4);
    let json: serde_json::Value =
        serde_json::from_str(&to_json(&history).expect("json")).expect("parses");
    assert_eq!(json.as_array().map(Vec::len), Some(4));
    assert_eq!(json[1]["detail"], "revoked here");
}

#[tokio::test]
async fn trust_and_labels_hold_across_a_restart() {
    let w = World::start().await;
    let mock = &w.mock;
    let account = w.add_demo().await;
    // The first run of Session Warden; `second` is the next, after a restart.
    let first = w.reopen();
    mock.control()
        .sign_in_device(DEMO_LOGIN, "curl/8.5.0", "203.0.113.9")
        .await
        .expect("signs in");
    let snapshot = first.snapshot(&account).await.expect("lists");
    let curl = snapshot
        .sessions
        .iter()
        .find(|s| !s.is_current)
        .expect("curl");
    first.trust(&account, &curl.id).await.expect("trusted");
    first
        .set_label(&account, &curl.id, "my backup script")
        .expect("labelled");
    drop(first);

    let second = w.reopen();
    let snapshot = second.snapshot(&account).await.expect("lists");
    let curl = snapshot
        .sessions
        .iter()
        .find(|s| !s.is_current)
        .expect("curl");
    assert_eq!(curl.label.as_deref(), Some("my backup script"));
    let trusted: Vec<_> = second
        .history(Some(&account))
        .expect("history")
        .into_iter()
        .filter(|e| e.kind == warden_core::ledger::history::HistoryKind::Trusted)
        .collect();
    assert_eq!(trusted.len(), 1, "the timeline says when it was trusted");
    assert_eq!(trusted[0].session.as_deref(), Some(curl.id.as_str()));
    let (_watcher, mut rx) = watch(&second, &account);
    next_event(&mut rx, |e| matches!(e, Event::Listed { .. })).await;
    mock.control()
        .sign_in_device(DEMO_LOGIN, "curl/8.5.0", "192.0.2.99")
        .await
        .expect("signs in again");
    let Event::SessionAppeared { findings, .. } =
        next_event(&mut rx, |e| matches!(e, Event::SessionAppeared { .. })).await
    else {
        unreachable!()
    };
    assert!(
        findings.is_empty(),
        "trusted since before the restart: {findings:?}"
    );
}

/// The writer the crash test kills: commits events as fast as it can and prints each
/// committed sequence number. Does nothing unless run by that test.
#[test]
fn ledger_writer_child() {
    let Ok(path) = std::env::var("WARDEN_CRASH_LEDGER") else {
        return;
    };
    let ledger = Ledger::open(std::path::Path::new(&path)).expect("opens");
    let account = warden_core::AccountId::from_stored("crash".into());
    for n in 0u64.. {
        let event = Event::Stale {
            account: account.clone(),
            since: chrono::Utc::now(),
            error: format!("write {n}"),
            needs_sign_in: false,
        };
        ledger.record(&event, chrono::Utc::now()).expect("commits");
        println!("committed {n}");
    }
}

#[test]
fn a_process_killed_while_writing_loses_nothing_committed() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("warden.db");
    let mut child = Command::new(std::env::current_exe().expect("this test binary"))
        .args([
            "--exact",
            "ledger_writer_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("WARDEN_CRASH_LEDGER", &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the writer starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut committed = 0u64;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("utf-8");
        if let Some(n) = line.strip_prefix("committed ") {
            committed = n.parse().expect("a number");
            if committed >= 300 {
                break;
            }
        }
    }
    // SIGKILL: no destructor, no flush, mid-transaction if it happens to be in one.
    child.kill().expect("killed");
    child.wait().expect("reaped");

    let ledger = Ledger::open(&path).expect("the database opens clean");
    let integrity: String = ledger
        .conn_for_tests()
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .expect("checks");
    assert_eq!(integrity, "ok");
    let history = ledger.history(None).expect("reads");
    for n in 0..=committed {
        let detail = format!("write {n}");
        assert!(
            history.iter().any(|h| h.detail == detail),
            "committed write {n} was lost (history has {})",
            history.len()
        );
    }
}

#[tokio::test]
async fn a_sign_in_made_while_the_app_was_not_running_is_still_news() {
    let w = World::start().await;
    let mock = &w.mock;
    let account = w.add_demo().await;
    // The first run of Session Warden; `second` is the next, after a restart.
    let first = w.reopen();
    let gone = mock
        .control()
        .sign_in_device(DEMO_LOGIN, FIREFOX, "198.51.100.4")
        .await
        .expect("signs in");
    {
        let (_watcher, mut rx) = watch(&first, &account);
        next_event(&mut rx, |e| matches!(e, Event::Listed { .. })).await;
    }
    drop(first);

    // While Session Warden is not running: a stranger signs in, the laptop's session ends.
    mock.control()
        .sign_in_device(DEMO_LOGIN, "curl/8.5.0", "203.0.113.66")
        .await
        .expect("signs in");
    mock.control().end_session(&gone).await.expect("ended");

    let second = w.reopen();
    let (_watcher, mut rx) = watch(&second, &account);
    let mut news = Vec::new();
    loop {
        match next_event(&mut rx, |_| true).await {
            Event::Listed { .. } => break,
            other => news.push(other),
        }
    }
    let appeared: Vec<_> = news
        .iter()
        .filter_map(|e| match e {
            Event::SessionAppeared { session, .. } => session.ip.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(appeared, ["203.0.113.66"], "{news:?}");
    assert!(
        news.iter()
            .any(|e| matches!(e, Event::SessionEnded { session, .. }
            if session.ip.as_deref() == Some("198.51.100.4"))),
        "{news:?}"
    );
}

/// Earlier versions wrote a server's year 262142 as "+262142-…" and a 2 MB error text as it
/// came. The history still reads, shows them cleaned and capped, and exports a claimed
/// formula as an inert cell.
#[tokio::test]
async fn what_older_versions_wrote_still_reads_cleaned() {
    let w = World::start().await;
    let ledger = Ledger::open(&w.home.path().join("warden.db")).expect("opens");
    let huge = format!("\u{1b}[31m{}", "boom\u{202e} ".repeat(400_000));
    {
        let conn = ledger.conn_for_tests();
        conn.execute(
            "INSERT INTO events (at, account, kind, session, device, ip, severity, detail)
             VALUES ('+262142-12-31T23:59:59+00:00', 'acc', 'stale', NULL, NULL,
                     '=HYPERLINK(\"http://evil.example\")', NULL, ?1)",
            [&huge],
        )
        .expect("an old row");
        conn.execute(
            "INSERT INTO sessions (account, id, device, created_at, first_seen, last_seen, last_active)
             VALUES ('acc', '0123456789abcdef', 'Firefox on Linux', 'yesterday',
                     '2026-12-01T10:00:00+00:00', '2026-12-01T10:00:00+00:00',
                     '+262142-12-31T23:59:59+00:00')",
            [],
        )
        .expect("an old session");
    }
    let history = ledger.history(None).expect("the history reads");
    let entry = history.last().expect("the old row");
    assert!(entry.detail.chars().count() <= warden_core::dialect::server_text::MAX_CHARS);
    assert!(
        !entry.detail.contains('\u{1b}') && !entry.detail.contains('\u{202e}'),
        "cleaned on the way out too"
    );
    let csv = to_csv(&history).expect("csv");
    assert!(
        csv.contains("'=HYPERLINK"),
        "a formula is written inert: {csv:.300}"
    );
    assert!(!csv.contains(",=HYPERLINK"), "{csv:.300}");
    let acc = warden_core::AccountId::from_stored("acc".into());
    let seen = ledger.seen_sessions(&acc).expect("the sessions read");
    assert_eq!(seen.len(), 1);
    let remembered = ledger
        .remembered(&acc)
        .expect("what a watcher compares with reads");
    assert_eq!(
        remembered[0].0.created_at, None,
        "an unreadable time is not known"
    );
}
