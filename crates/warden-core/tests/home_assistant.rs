//! Home Assistant through the engine, against warden-mock's HA (docs/apis.md §10): its
//! tokens listed as devices a person recognises, long-lived tokens as what they are, a
//! revoke and "sign out all others" checked, the 30-minute access tokens renewed before
//! they run out, and never a failed login of ours: a refused refresh token is final.

mod common;

use std::sync::Arc;

use chrono::Duration;
use common::{Outbox, World, kind_of};
use warden_core::dialect::DialectKind;
use warden_core::prompt::{CodePrompt, NoPrompt};
use warden_core::{Account, Error, NewAccount, Secret};
use warden_mock::home_assistant::{ANDROID_APP, IOS_APP};
use warden_mock::store::Device;
use warden_mock::{DEMO_PASSWORD, Dialect};

/// The demo user's HA username.
const USER: &str = "demo";

/// A world whose background calls have nobody to ask, as the app's and `warden watch`'s.
async fn world() -> World {
    World::build()
        .mock_clock()
        .prompt(Arc::new(NoPrompt))
        .start()
        .await
}

/// Added by the person (who is there to answer).
async fn add(w: &World) -> Result<Account, Error> {
    let person: Arc<dyn CodePrompt> = Arc::new(Outbox(w.state.clone()));
    w.accounts
        .add_with(
            NewAccount {
                url: w.mock.api_url(Dialect::HomeAssistant).to_string(),
                dialect: kind_of(Dialect::HomeAssistant),
                login: USER.into(),
                label: Some("home".into()),
            },
            Secret::new(DEMO_PASSWORD),
            &person,
        )
        .await
}

async fn device(w: &World, client_id: &str, ip: &str) -> String {
    w.mock
        .control()
        .sign_in_via(
            Dialect::HomeAssistant,
            warden_mock::DEMO_LOGIN,
            client_id,
            ip,
            None,
        )
        .await
        .expect("the device signs in")
        .id
}

/// Every failed login the mock's HA counted, from any address.
fn failed_logins(w: &World) -> u32 {
    w.state.home_assistant.failed_logins().values().sum()
}

/// A long-lived token the person made for an integration.
fn long_lived(w: &World, name: &str) -> String {
    let user = w
        .state
        .store
        .user_by_login(warden_mock::DEMO_LOGIN)
        .expect("the demo user");
    let device = Device {
        user_agent: String::new(),
        ip: None,
        location: None,
        name: Some(name.into()),
    };
    w.state
        .store
        .create_session(
            &user.id,
            Dialect::HomeAssistant,
            device,
            w.state.clock.now(),
        )
        .id
}

#[tokio::test]
async fn tokens_are_listed_as_devices_and_long_lived_tokens_as_what_they_are() {
    let w = world().await;
    let account = add(&w).await.expect("added");
    assert_eq!(account.dialect, DialectKind::HomeAssistant);
    device(&w, IOS_APP, "198.51.100.20").await;
    device(&w, ANDROID_APP, "198.51.100.21").await;
    let browser = device(&w, "http://192.168.1.5:8123/", "192.168.1.30").await;
    long_lived(&w, "Node-RED");
    let snapshot = w.accounts.snapshot(&account).await.expect("lists");
    let labels: Vec<&str> = snapshot
        .sessions
        .iter()
        .map(|s| s.device.label.as_str())
        .collect();
    for expected in [
        "Home Assistant app on iOS",
        "Home Assistant app on Android",
        "Web browser at 192.168.1.5:8123",
        "Long-lived token · Node-RED",
    ] {
        assert!(labels.contains(&expected), "{expected} in {labels:?}");
    }
    let ours: Vec<_> = snapshot.sessions.iter().filter(|s| s.is_current).collect();
    assert_eq!(ours.len(), 1, "{labels:?}");
    let phone = snapshot
        .sessions
        .iter()
        .find(|s| s.device.label == "Home Assistant app on iOS")
        .expect("the phone");
    assert_eq!(phone.ip.as_deref(), Some("198.51.100.20"));
    assert!(phone.user_agent.is_none(), "HA keeps none");
    assert!(phone.expires_at.is_some(), "90 days from its last use");
    let _ = browser;
}

#[tokio::test]
async fn revoke_one_and_sign_out_the_others_but_never_a_long_lived_token() {
    let w = world().await;
    let account = add(&w).await.expect("added");
    let phone = device(&w, IOS_APP, "198.51.100.20").await;
    device(&w, ANDROID_APP, "198.51.100.21").await;
    let integration = long_lived(&w, "Node-RED");
    let snapshot = w.accounts.snapshot(&account).await.expect("lists");
    let listed = snapshot
        .sessions
        .iter()
        .find(|s| s.device.label == "Home Assistant app on iOS")
        .cloned()
        .expect("the phone");
    w.accounts
        .revoke_listed(&account, listed, &snapshot)
        .await
        .expect("revoked, and checked gone");
    let live = w.server_side_ids().await;
    assert!(!live.contains(&phone), "the phone's token is deleted");

    let ended = w
        .accounts
        .sign_out_others(&account)
        .await
        .expect("signed out");
    assert_eq!(ended.len(), 1, "the Android app: {ended:?}");
    let after = w.accounts.snapshot(&account).await.expect("lists");
    let labels: Vec<&str> = after
        .sessions
        .iter()
        .map(|s| s.device.label.as_str())
        .collect();
    assert_eq!(
        after.sessions.len(),
        2,
        "ours and the integration: {labels:?}"
    );
    assert!(w.server_side_ids().await.contains(&integration));
    assert!(
        w.state.home_assistant.failed_logins().is_empty(),
        "never a failed login: {:?}",
        w.state.home_assistant.failed_logins()
    );
}

#[tokio::test]
async fn an_hour_of_watching_renews_before_expiry_and_never_fails_a_login() {
    let w = world().await;
    w.state.home_assistant.set_ban_threshold(1);
    let account = add(&w).await.expect("added");
    device(&w, IOS_APP, "198.51.100.20").await;
    // Every two minutes for an hour: two access tokens run out on the way.
    for _ in 0..30 {
        w.state.clock.advance(Duration::minutes(2));
        w.accounts.snapshot(&account).await.expect("lists");
    }
    assert!(w.state.home_assistant.failed_logins().is_empty());
    assert!(w.state.home_assistant.banned().is_empty());
}

#[tokio::test]
async fn a_refused_refresh_token_is_final_and_nothing_more_is_sent() {
    let w = world().await;
    let account = add(&w).await.expect("added");
    w.accounts.snapshot(&account).await.expect("lists");
    // The person signs Session Warden out from their HA profile page.
    for id in w.server_side_ids().await {
        w.state.store.end_session(&id, w.state.clock.now());
    }
    w.state.clock.advance(Duration::minutes(31));
    let err = w
        .accounts
        .snapshot(&account)
        .await
        .expect_err("needs the person");
    assert!(matches!(err, Error::NeedsSignIn { .. }), "{err:?}");
    let failed = failed_logins(&w);
    assert_eq!(failed, 1, "the one refresh that told us");
    // Poll after poll: nothing more reaches the server.
    for _ in 0..5 {
        w.state.clock.advance(Duration::minutes(5));
        let err = w.accounts.snapshot(&account).await.expect_err("still");
        assert!(matches!(err, Error::NeedsSignIn { .. }), "{err:?}");
    }
    let failed = failed_logins(&w);
    assert_eq!(failed, 1, "never tried again");
}

/// Signed out while its access token is still good: the WebSocket's refusal is enough, and
/// the refresh token is not tried.
#[tokio::test]
async fn a_refused_access_token_is_not_followed_by_a_refresh() {
    let w = world().await;
    let account = add(&w).await.expect("added");
    for id in w.server_side_ids().await {
        w.state.store.end_session(&id, w.state.clock.now());
    }
    let err = w
        .accounts
        .snapshot(&account)
        .await
        .expect_err("needs the person");
    assert!(matches!(err, Error::NeedsSignIn { .. }), "{err:?}");
    let failed = failed_logins(&w);
    assert_eq!(
        failed, 1,
        "the WebSocket's refusal, and no refresh after it"
    );
}

#[tokio::test]
async fn a_wrong_password_and_the_totp_step() {
    let w = world().await;
    let person: Arc<dyn CodePrompt> = Arc::new(Outbox(w.state.clone()));
    let wrong = w
        .accounts
        .add_with(
            NewAccount {
                url: w.mock.api_url(Dialect::HomeAssistant).to_string(),
                dialect: DialectKind::HomeAssistant,
                login: USER.into(),
                label: None,
            },
            Secret::new("not-it"),
            &person,
        )
        .await
        .expect_err("refused");
    assert!(matches!(wrong, Error::BadCredentials { .. }), "{wrong:?}");

    struct Authenticator(warden_mock::MockState);
    impl CodePrompt for Authenticator {
        fn code(
            &self,
            _: &str,
            _: &warden_core::prompt::CodeRequest,
        ) -> warden_core::Result<Secret> {
            let code =
                warden_mock::totp::code_at(warden_mock::DEMO_TOTP_SECRET, self.0.clock.now());
            Ok(Secret::new(code.unwrap_or_default()))
        }
    }
    let person: Arc<dyn CodePrompt> = Arc::new(Authenticator(w.state.clone()));
    let added = w
        .accounts
        .add_with(
            NewAccount {
                url: w.mock.api_url(Dialect::HomeAssistant).to_string(),
                dialect: DialectKind::HomeAssistant,
                login: "demo2fa".into(),
                label: None,
            },
            Secret::new(DEMO_PASSWORD),
            &person,
        )
        .await
        .expect("signed in with the code");
    assert_eq!(added.login, "demo2fa");
}

#[tokio::test]
async fn auto_detection_asks_home_assistant_first_and_leaves_no_failed_login() {
    let w = world().await;
    let found = w
        .accounts
        .detect_dialect(w.mock.api_url(Dialect::HomeAssistant).as_str())
        .await
        .expect("detected");
    assert_eq!(found, DialectKind::HomeAssistant);
    assert!(w.state.home_assistant.failed_logins().is_empty());
}

/// A long-lived token made on the account is told as what it is, never as a new device;
/// the iOS app signing in is a device.
#[tokio::test]
async fn a_new_long_lived_token_is_told_as_a_token_and_a_new_app_as_a_device() {
    use warden_core::Event;
    use warden_core::rules::RuleId;
    let w = world().await;
    let account = add(&w).await.expect("added");
    let (watcher, mut rx) = w.watcher(std::time::Duration::from_millis(50));
    watcher.watch(account.clone());
    common::next_event(&mut rx, |e| matches!(e, Event::Listed { .. })).await;
    long_lived(&w, "Backdoor");
    let token = common::next_event(&mut rx, |e| matches!(e, Event::SessionAppeared { .. })).await;
    let Event::SessionAppeared { session, findings } = token else {
        unreachable!("matched above");
    };
    assert_eq!(session.device.label, "Long-lived token · Backdoor");
    let rules: Vec<RuleId> = findings.iter().map(|f| f.rule).collect();
    assert_eq!(rules, vec![RuleId::NewToken], "{findings:?}");
    assert!(
        findings[0]
            .reason
            .starts_with("A new long-lived token · Backdoor: full access"),
        "{}",
        findings[0].reason
    );
    device(&w, IOS_APP, "198.51.100.20").await;
    let app = common::next_event(&mut rx, |e| matches!(e, Event::SessionAppeared { .. })).await;
    let Event::SessionAppeared { session, findings } = app else {
        unreachable!("matched above");
    };
    assert_eq!(session.device.label, "Home Assistant app on iOS");
    assert!(
        findings.iter().any(|f| f.rule == RuleId::NewDevice),
        "{findings:?}"
    );
}
