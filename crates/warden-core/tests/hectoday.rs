//! The engine against `warden-mock` over real HTTP, on the hectoday API.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{World, next_event};
use warden_core::{DialectKind, EndReason, Error, Event, NewAccount, Secret};

const FIREFOX_LINUX: &str = warden_mock::agents::FIREFOX_LINUX;

/// What the demo account is, as the add form would send it.
fn demo_account(w: &World) -> NewAccount {
    NewAccount {
        url: w.mock.hectoday_url().to_string(),
        dialect: DialectKind::Hectoday,
        login: warden_mock::DEMO_LOGIN.into(),
        label: Some("demo".into()),
    }
}

#[tokio::test]
async fn adding_an_account_signs_in_once_and_lists_our_session_as_current() {
    let w = World::start().await;
    let account = w.add_demo().await;
    let snapshot = w.accounts.snapshot(&account).await.expect("lists");
    assert_eq!(snapshot.sessions.len(), 1, "only our own session exists");
    assert!(snapshot.sessions[0].is_current);
    // A second listing reuses the session instead of signing in again.
    w.accounts.snapshot(&account).await.expect("lists again");
    assert_eq!(w.server_side_ids().await.len(), 1);
}

#[tokio::test]
async fn a_wrong_password_is_reported_as_such_and_nothing_is_stored() {
    let w = World::start().await;
    let err = w
        .accounts
        .add(demo_account(&w), Secret::new("not-the-password"))
        .await
        .expect_err("wrong password");
    assert!(matches!(err, Error::BadCredentials { .. }), "{err:?}");
    assert!(w.accounts.list().expect("lists").is_empty());
}

#[tokio::test]
async fn a_dead_server_is_reported_as_unreachable() {
    let w = World::start().await;
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
        listener.local_addr().expect("addr")
    };
    let mut new = demo_account(&w);
    new.url = format!("http://{dead}/hectoday");
    let err = w
        .accounts
        .add(new, Secret::new(warden_mock::DEMO_PASSWORD))
        .await
        .expect_err("nothing listens there");
    assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
}

#[tokio::test]
async fn a_device_is_listed_with_its_name_and_address() {
    let w = World::start().await;
    let account = w.add_demo().await;
    w.sign_in_device(FIREFOX_LINUX, "203.0.113.7").await;
    let snapshot = w.accounts.snapshot(&account).await.expect("lists");
    let firefox = snapshot
        .sessions
        .iter()
        .find(|s| !s.is_current)
        .expect("the Firefox session is listed");
    assert_eq!(firefox.device.label, "Firefox on Linux");
    assert_eq!(firefox.ip.as_deref(), Some("203.0.113.7"));
}

#[tokio::test]
async fn revoking_a_session_ends_it_on_the_server() {
    let w = World::start().await;
    let account = w.add_demo().await;
    let server_id = w.sign_in_device(FIREFOX_LINUX, "203.0.113.7").await;
    let snapshot = w.accounts.snapshot(&account).await.expect("lists");
    let target = snapshot
        .sessions
        .iter()
        .find(|s| !s.is_current)
        .expect("listed");
    let revoked = w
        .accounts
        .revoke(&account, &target.id)
        .await
        .expect("revokes");
    assert_eq!(revoked.device.label, "Firefox on Linux");
    assert!(!w.server_side_ids().await.contains(&server_id));
}

#[tokio::test]
async fn revoking_our_own_session_is_refused_with_the_reason() {
    let w = World::start().await;
    let account = w.add_demo().await;
    let snapshot = w.accounts.snapshot(&account).await.expect("lists");
    let ours = snapshot
        .sessions
        .iter()
        .find(|s| s.is_current)
        .expect("ours");
    let err = w
        .accounts
        .revoke(&account, &ours.id)
        .await
        .expect_err("never sent");
    assert!(matches!(err, Error::OwnSession), "{err:?}");
    assert!(err.to_string().contains("own session"), "{err}");
}

#[tokio::test]
async fn signing_out_others_keeps_only_our_session() {
    let w = World::start().await;
    let account = w.add_demo().await;
    w.sign_in_device(FIREFOX_LINUX, "203.0.113.7").await;
    w.sign_in_device("curl/8.0", "192.0.2.1").await;
    let ended = w.accounts.sign_out_others(&account).await.expect("revokes");
    assert_eq!(ended.len(), 2);
    let snapshot = w.accounts.snapshot(&account).await.expect("lists");
    assert_eq!(snapshot.sessions.len(), 1);
    assert!(snapshot.sessions[0].is_current);
}

#[tokio::test]
async fn when_our_session_is_ended_elsewhere_the_engine_signs_in_again() {
    let w = World::start().await;
    let account = w.add_demo().await;
    let ours = w.server_side_ids().await;
    // Another device signs everyone else out, us included.
    let intruder = w.sign_in_device(FIREFOX_LINUX, "203.0.113.7").await;
    reqwest::Client::new()
        .post(w.mock.hectoday_url().to_string() + "/me/sessions/revoke-all")
        .header("cookie", format!("session={intruder}"))
        .send()
        .await
        .expect("revoke-all answers");
    assert!(!w.server_side_ids().await.contains(&ours[0]));
    let snapshot = w
        .accounts
        .snapshot(&account)
        .await
        .expect("lists after signing in again");
    assert!(snapshot.sessions.iter().any(|s| s.is_current));
}

#[tokio::test]
async fn when_our_session_idles_out_on_the_server_the_engine_signs_in_again() {
    let w = World::start().await;
    let account = w.add_demo().await;
    let first = w.server_side_ids().await;
    // hectoday ends a session idle for 30 minutes.
    w.mock
        .control()
        .advance_clock("PT31M")
        .await
        .expect("the clock moves");
    let snapshot = w
        .accounts
        .snapshot(&account)
        .await
        .expect("lists after signing in again");
    let ours: Vec<_> = snapshot.sessions.iter().filter(|s| s.is_current).collect();
    assert_eq!(ours.len(), 1, "{snapshot:?}");
    let now = w.server_side_ids().await;
    assert!(
        !now.contains(&first[0]),
        "the idle session is gone on the server"
    );
    assert_eq!(now.len(), 1, "exactly one new session, not one per retry");
}

#[tokio::test]
async fn the_watcher_reports_a_new_device_but_not_the_baseline() {
    let w = World::start().await;
    // A device already signed in before watching starts is part of the baseline.
    w.sign_in_device(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)",
        "198.51.100.20",
    )
    .await;
    let account = w.add_demo().await;
    let (watcher, mut rx) = w.watcher(Duration::from_millis(100));
    watcher.watch(account.clone());
    let first = next_event(&mut rx, |_| true).await;
    assert!(
        matches!(first, Event::Listed { ref snapshot } if snapshot.sessions.len() == 2),
        "{first:?}"
    );

    w.sign_in_device(FIREFOX_LINUX, "203.0.113.7").await;
    let appeared = next_event(&mut rx, |e| !matches!(e, Event::Listed { .. })).await;
    let Event::SessionAppeared { session, .. } = appeared else {
        panic!("the first news after the baseline is the new device, got {appeared:?}");
    };
    assert_eq!(session.device.label, "Firefox on Linux");

    w.accounts
        .revoke(&account, &session.id)
        .await
        .expect("revokes");
    watcher.poll_now(&account.id);
    let ended = next_event(&mut rx, |e| matches!(e, Event::SessionEnded { .. })).await;
    assert!(
        matches!(ended, Event::SessionEnded { how: EndReason::RevokedHere, ref session } if session.device.label == "Firefox on Linux"),
        "{ended:?}"
    );
}

#[tokio::test]
async fn a_session_ended_elsewhere_before_its_expiry_is_reported_as_revoked_elsewhere() {
    let w = World::start().await;
    let account = w.add_demo().await;
    let server_id = w.sign_in_device(FIREFOX_LINUX, "203.0.113.7").await;
    let (watcher, mut rx) = w.watcher(Duration::from_millis(100));
    watcher.watch(account);
    next_event(&mut rx, |e| matches!(e, Event::Listed { .. })).await;
    w.mock
        .control()
        .end_session(&server_id)
        .await
        .expect("the service ends it");
    let ended = next_event(&mut rx, |e| matches!(e, Event::SessionEnded { .. })).await;
    assert!(
        matches!(
            ended,
            Event::SessionEnded {
                how: EndReason::RevokedElsewhere,
                ..
            }
        ),
        "not revoked here: {ended:?}"
    );
}

#[tokio::test]
async fn the_watcher_goes_stale_when_the_server_dies_and_says_so() {
    let w = World::start().await;
    let account = w.add_demo().await;
    let (watcher, mut rx) = w.watcher(Duration::from_millis(50));
    watcher.watch(account);
    next_event(&mut rx, |e| matches!(e, Event::Listed { .. })).await;
    let mut mock = w.mock;
    mock.stop().await;
    let stale = next_event(&mut rx, |e| matches!(e, Event::Stale { .. })).await;
    let Event::Stale { error, .. } = stale else {
        unreachable!()
    };
    assert!(error.contains("cannot reach"), "{error}");
}

/// A keyring that answers reads but cannot keep anything (locked mid-way, say).
struct CannotKeep;

impl warden_core::CredentialStore for CannotKeep {
    fn get(
        &self,
        _: &warden_core::AccountId,
        _: warden_core::credential::SecretKind,
    ) -> warden_core::Result<Option<Secret>> {
        Ok(None)
    }

    fn set(
        &self,
        _: &warden_core::AccountId,
        _: warden_core::credential::SecretKind,
        _: &Secret,
    ) -> warden_core::Result<()> {
        Err(Error::Keyring("the collection is locked".into()))
    }

    fn delete(
        &self,
        _: &warden_core::AccountId,
        _: warden_core::credential::SecretKind,
    ) -> warden_core::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn an_add_that_cannot_keep_its_session_signs_it_out_again() {
    let w = World::build().store(Arc::new(CannotKeep)).start().await;
    let err = w
        .accounts
        .add(demo_account(&w), Secret::new(warden_mock::DEMO_PASSWORD))
        .await
        .expect_err("nothing can be kept");
    assert!(matches!(err, Error::Keyring(_)), "{err:?}");
    assert!(
        w.server_side_ids().await.is_empty(),
        "the session it opened is signed out, not left behind"
    );
    assert!(
        w.accounts.list().expect("lists").is_empty(),
        "and no account"
    );
}
