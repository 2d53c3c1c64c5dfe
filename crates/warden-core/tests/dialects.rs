//! The engine against `warden-mock` over real HTTP on SecureAuth, node-auth and RTC, quirks
//! included. One-time codes are typed by a prompt that reads them where a person would:
//! the SMS outbox and the authenticator (the mock's TOTP of the moment).

mod common;

use std::sync::Arc;

use warden_core::{CodePrompt, CodeRequest, DialectKind, Error, NewAccount, Secret};
use warden_mock::{ControlClient, DEMO_LOGIN, DEMO_PHONE, DEMO_TOTP_LOGIN, Dialect};

const FIREFOX: &str = warden_mock::agents::FIREFOX_LINUX;
const IPHONE: &str = warden_mock::agents::SAFARI_IPHONE;

/// Reads codes as the person would; counts how often it was asked.
struct Person {
    control: ControlClient,
    runtime: tokio::runtime::Handle,
    login: String,
    wrong: bool,
    asked: std::sync::atomic::AtomicUsize,
}

impl CodePrompt for Person {
    fn code(&self, _account: &str, request: &CodeRequest) -> warden_core::Result<Secret> {
        self.asked
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if self.wrong {
            return Ok(Secret::new("000000"));
        }
        let code = self.runtime.block_on(async {
            match request {
                CodeRequest::Sms { to } => self
                    .control
                    .last_code_sent_to(to)
                    .await
                    .ok()
                    .flatten()
                    .unwrap_or_default(),
                CodeRequest::Totp | CodeRequest::TotpOrBackup => self
                    .control
                    .totp(&self.login)
                    .await
                    .map(|t| t.code)
                    .unwrap_or_default(),
            }
        });
        Ok(Secret::new(code))
    }
}

/// The engine on the mock, with a person who reads codes from the outbox and the
/// authenticator.
struct World {
    world: common::World,
    person: Arc<Person>,
}

impl std::ops::Deref for World {
    type Target = common::World;
    fn deref(&self) -> &common::World {
        &self.world
    }
}

async fn world(login: &str) -> World {
    world_with(login, false).await
}

async fn world_with(login: &str, wrong_codes: bool) -> World {
    let world = common::World::start().await;
    let person = Arc::new(Person {
        control: world.mock.control(),
        runtime: tokio::runtime::Handle::current(),
        login: login.to_owned(),
        wrong: wrong_codes,
        asked: Default::default(),
    });
    world.accounts.set_prompt(person.clone());
    World { world, person }
}

impl World {
    async fn device(&self, dialect: Dialect, agent: &str, ip: &str) -> String {
        let id = self
            .mock
            .control()
            .sign_in_via(dialect, DEMO_LOGIN, agent, ip, None)
            .await
            .expect("the device signs in")
            .id;
        if dialect == Dialect::Matrix {
            used(&self.mock.control(), &id).await;
        }
        id
    }

    fn asked(&self) -> usize {
        self.person.asked.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// A Matrix device lists its address and activity once it made a request after signing in
/// (Synapse records them from authenticated requests only).
async fn used(control: &ControlClient, id: &str) {
    control
        .record_activity(id, None)
        .await
        .expect("the device is used");
}

// --- Every API ---------------------------------------------------------------------------

/// `warden revoke` of our own session must never reach the server: SecureAuth and node-auth
/// would end it, and the account would be unusable until added again. The DELETE route
/// answers 500 here, so a request that got through would show as a server error.
#[tokio::test]
async fn revoking_our_own_session_is_refused_before_anything_is_sent_on_every_api() {
    let w = world(DEMO_LOGIN).await;
    for (dialect, login) in [
        (Dialect::SecureAuth, DEMO_PHONE),
        (Dialect::NodeAuth, DEMO_LOGIN),
        (Dialect::Hectoday, DEMO_LOGIN),
        (Dialect::Rtc, DEMO_LOGIN),
        (Dialect::BetterAuth, DEMO_LOGIN),
        (Dialect::Matrix, "demo"),
        (Dialect::Allauth, DEMO_LOGIN),
    ] {
        let prefix = dialect.prefix();
        let account = w.add(dialect, login).await.expect("added");
        let ours = w
            .accounts
            .snapshot(&account)
            .await
            .expect("lists")
            .sessions
            .into_iter()
            .find(|s| s.is_current)
            .expect("ours is listed");
        let fault: warden_mock::FaultSpec = serde_json::from_value(
            serde_json::json!({ "route": prefix, "method": "DELETE", "status": 500 }),
        )
        .expect("a fault");
        w.mock.control().add_fault(&fault).await.expect("fault");
        let err = w
            .accounts
            .revoke(&account, &ours.id)
            .await
            .expect_err("refused");
        assert!(matches!(err, Error::OwnSession), "{dialect}: {err:?}");
        assert_eq!(err.code(), warden_core::ErrorCode::Refused, "exit 6");
        let said = err.to_string();
        assert!(
            said.starts_with("Session Warden did not send this")
                && said.contains("warden accounts remove"),
            "{said}"
        );
        w.mock.control().clear_faults().await.expect("cleared");
        let still = w.accounts.snapshot(&account).await.expect("still lists");
        assert!(
            still.get(&ours.id).is_some_and(|s| s.is_current),
            "{dialect}: our session is alive"
        );
    }
}

// --- SecureAuth -------------------------------------------------------------------------

#[tokio::test]
async fn secureauth_signs_in_with_the_texted_code_and_lists_devices() {
    let w = world(DEMO_LOGIN).await;
    let account = w.add(Dialect::SecureAuth, DEMO_PHONE).await.expect("added");
    assert_eq!(w.asked(), 1, "one code, asked once");
    w.device(Dialect::SecureAuth, IPHONE, "198.51.100.20").await;
    let snapshot = w.accounts.snapshot(&account).await.expect("lists");
    assert_eq!(snapshot.sessions.len(), 2);
    let ours = snapshot
        .sessions
        .iter()
        .find(|s| s.is_current)
        .expect("ours");
    assert_eq!(ours.device.label, "Session Warden");
    let phone = snapshot
        .sessions
        .iter()
        .find(|s| !s.is_current)
        .expect("phone");
    assert_eq!(phone.device.label, "Safari on iOS");
    assert_eq!(phone.ip.as_deref(), Some("198.51.100.20"));
    assert!(phone.created_at.is_some() && phone.last_active_at.is_some());
}

#[tokio::test]
async fn secureauth_a_wrong_code_is_bad_code_and_nothing_is_kept() {
    let w = world_with(DEMO_LOGIN, true).await;
    let err = w
        .add(Dialect::SecureAuth, DEMO_PHONE)
        .await
        .expect_err("wrong code");
    assert!(matches!(err, Error::BadCode(_)), "{err:?}");
    assert!(err.to_string().contains("the code is wrong"), "{err}");
    assert!(w.accounts.list().expect("lists").is_empty());
}

#[tokio::test]
async fn secureauth_403_on_an_unknown_id_is_reported_as_such() {
    let w = world(DEMO_LOGIN).await;
    let account = w.add(Dialect::SecureAuth, DEMO_PHONE).await.expect("added");
    let id = w.device(Dialect::SecureAuth, IPHONE, "198.51.100.20").await;
    let snapshot = w.accounts.snapshot(&account).await.expect("lists");
    let phone = snapshot
        .sessions
        .iter()
        .find(|s| !s.is_current)
        .cloned()
        .expect("phone");
    // The service ends it before our click lands: the click acts on the listing it saw.
    w.mock.control().end_session(&id).await.expect("ended");
    let err = w
        .accounts
        .revoke_listed(&account, phone, &snapshot)
        .await
        .expect_err("gone already");
    assert!(matches!(err, Error::Refused(_)), "{err:?}");
    assert!(err.to_string().contains("403 Forbidden"), "{err}");
}

#[tokio::test]
async fn secureauth_revoke_and_sign_out_others_are_verified() {
    let w = world(DEMO_LOGIN).await;
    let account = w.add(Dialect::SecureAuth, DEMO_PHONE).await.expect("added");
    for ip in ["198.51.100.1", "198.51.100.2", "198.51.100.3"] {
        w.device(Dialect::SecureAuth, FIREFOX, ip).await;
    }
    let snapshot = w.accounts.snapshot(&account).await.expect("lists");
    let one = snapshot
        .sessions
        .iter()
        .find(|s| !s.is_current)
        .expect("one");
    w.accounts.revoke(&account, &one.id).await.expect("revoked");
    let ended = w
        .accounts
        .revoke_others(&account)
        .await
        .expect("others out");
    assert_eq!(ended.len(), 2);
    assert_eq!(w.server_side_ids().await.len(), 1, "only ours is left");
}

#[tokio::test]
async fn secureauth_when_our_token_dies_a_background_sign_in_asks_for_a_code_it_cannot_get() {
    let w = world(DEMO_LOGIN).await;
    let account = w.add(Dialect::SecureAuth, DEMO_PHONE).await.expect("added");
    w.accounts.set_prompt(Arc::new(warden_core::NoPrompt));
    w.mock
        .control()
        .advance_clock("P7DT1M")
        .await
        .expect("a week later");
    let texted = || async {
        let mut url = w.mock.url().join("__mock/outbox").expect("url");
        url.query_pairs_mut().append_pair("to", DEMO_PHONE);
        let sent: Vec<serde_json::Value> = reqwest::get(url)
            .await
            .expect("answers")
            .json()
            .await
            .expect("json");
        sent.len()
    };
    let before = texted().await;
    for _ in 0..3 {
        let err = w
            .accounts
            .snapshot(&account)
            .await
            .expect_err("needs a code");
        assert!(matches!(err, Error::NeedsSignIn { .. }), "{err:?}");
        assert!(err.to_string().contains("one-time code"), "{err}");
    }
    // Nobody could have typed a code: none was texted, however often the poll retried.
    assert_eq!(
        texted().await,
        before,
        "a background retry texted the person"
    );
}

// --- node-auth ----------------------------------------------------------------------------

#[tokio::test]
async fn node_auth_marks_our_session_by_the_tokens_sid() {
    let w = world(DEMO_LOGIN).await;
    let account = w.add(Dialect::NodeAuth, DEMO_LOGIN).await.expect("added");
    w.device(Dialect::Hectoday, IPHONE, "198.51.100.20").await;
    let snapshot = w.accounts.snapshot(&account).await.expect("lists");
    assert_eq!(snapshot.sessions.len(), 2);
    assert_eq!(snapshot.sessions.iter().filter(|s| s.is_current).count(), 1);
    let phone = snapshot
        .sessions
        .iter()
        .find(|s| !s.is_current)
        .expect("phone");
    assert_eq!(phone.device.label, "Safari on iOS");
    assert_eq!(phone.user_agent.as_deref(), Some(IPHONE));
    assert!(phone.expires_at.is_some());
}

#[tokio::test]
async fn node_auth_refreshes_an_expired_access_token_without_a_new_login() {
    let w = world(DEMO_LOGIN).await;
    let account = w.add(Dialect::NodeAuth, DEMO_LOGIN).await.expect("added");
    let before = w.server_side_ids().await;
    w.mock
        .control()
        .advance_clock("PT16M")
        .await
        .expect("later");
    let snapshot = w
        .accounts
        .snapshot(&account)
        .await
        .expect("lists after refresh");
    let after = w.server_side_ids().await;
    assert_eq!(after.len(), 1, "refreshed, not signed in a second time");
    assert_ne!(before, after, "the refresh rotated our handle");
    assert!(
        snapshot.sessions[0].is_current,
        "and we still know which is ours"
    );
}

#[tokio::test]
async fn node_auth_a_login_elsewhere_that_replaced_our_refresh_token_means_signing_in_again() {
    let w = world(DEMO_LOGIN).await;
    let account = w.add(Dialect::NodeAuth, DEMO_LOGIN).await.expect("added");
    // Quirk 1: another device's login replaces the user's one refresh token.
    w.device(Dialect::NodeAuth, IPHONE, "198.51.100.20").await;
    w.mock
        .control()
        .advance_clock("PT16M")
        .await
        .expect("later");
    let snapshot = w.accounts.snapshot(&account).await.expect("lists");
    assert_eq!(snapshot.sessions.iter().filter(|s| s.is_current).count(), 1);
    assert!(
        snapshot
            .sessions
            .iter()
            .any(|s| s.device.label == "Safari on iOS"),
        "the other device is still listed"
    );
}

#[tokio::test]
async fn node_auth_a_revoked_session_whose_token_still_lists_is_noticed() {
    let w = world(DEMO_LOGIN).await;
    let account = w.add(Dialect::NodeAuth, DEMO_LOGIN).await.expect("added");
    let ours = w.server_side_ids().await;
    // Revoked elsewhere; our access token still lists for up to 15 minutes (quirk 3), and
    // the refresh says SESSION_REVOKED: the engine signs in again instead of trusting it.
    w.mock.control().end_session(&ours[0]).await.expect("ended");
    let snapshot = w.accounts.snapshot(&account).await.expect("lists");
    let now = w.server_side_ids().await;
    assert_eq!(now.len(), 1);
    assert_ne!(now, ours, "a new session of ours");
    assert!(snapshot.sessions[0].is_current);
}

#[tokio::test]
async fn node_auth_signs_out_others_one_by_one_sparing_ours() {
    let w = world(DEMO_LOGIN).await;
    let account = w.add(Dialect::NodeAuth, DEMO_LOGIN).await.expect("added");
    for ip in ["198.51.100.1", "198.51.100.2"] {
        w.device(Dialect::Hectoday, FIREFOX, ip).await;
    }
    let ended = w
        .accounts
        .revoke_others(&account)
        .await
        .expect("others out");
    assert_eq!(ended.len(), 2);
    assert_eq!(w.server_side_ids().await.len(), 1);
    assert!(w.accounts.snapshot(&account).await.expect("lists").sessions[0].is_current);
}

#[tokio::test]
async fn node_auth_a_totp_user_is_asked_for_the_authenticator_code() {
    let w = world(DEMO_TOTP_LOGIN).await;
    let account = w
        .add(Dialect::NodeAuth, DEMO_TOTP_LOGIN)
        .await
        .expect("added");
    assert_eq!(w.asked(), 1);
    assert_eq!(
        w.accounts
            .snapshot(&account)
            .await
            .expect("lists")
            .sessions
            .len(),
        1
    );
}

#[tokio::test]
async fn node_auth_a_wrong_password_is_bad_credentials() {
    let w = world(DEMO_LOGIN).await;
    let err = w
        .accounts
        .add(
            NewAccount {
                url: w.mock.api_url(Dialect::NodeAuth).to_string(),
                dialect: DialectKind::NodeAuth,
                login: DEMO_LOGIN.into(),
                label: None,
            },
            Secret::new("nope"),
        )
        .await
        .expect_err("refused");
    assert!(matches!(err, Error::BadCredentials { .. }), "{err:?}");
}

// --- RTC ------------------------------------------------------------------------------------

#[tokio::test]
async fn rtc_lists_location_and_revokes_others_without_ending_ours() {
    let w = world(DEMO_LOGIN).await;
    let account = w.add(Dialect::Rtc, DEMO_LOGIN).await.expect("added");
    let berlin = warden_mock::store::Location {
        city: "Berlin".into(),
        country: "DE".into(),
        lat: 52.52,
        lon: 13.4,
    };
    w.mock
        .control()
        .sign_in_via(
            Dialect::Rtc,
            DEMO_LOGIN,
            IPHONE,
            "198.51.100.20",
            Some(berlin),
        )
        .await
        .expect("signs in");
    w.device(Dialect::Rtc, FIREFOX, "198.51.100.21").await;
    let snapshot = w.accounts.snapshot(&account).await.expect("lists");
    let phone = snapshot
        .sessions
        .iter()
        .find(|s| s.location.is_some())
        .expect("the phone has a place");
    assert_eq!(phone.location.as_deref(), Some("Berlin, DE"));
    assert_eq!(phone.device.label, "Safari on a phone");
    let ours = snapshot
        .sessions
        .iter()
        .find(|s| s.is_current)
        .expect("ours");
    let expires = ours.expires_at.expect("RTC says when");
    assert!(
        expires - chrono::Utc::now() > chrono::Duration::days(29),
        "remember me"
    );
    let err = w
        .accounts
        .revoke(&account, &ours.id)
        .await
        .expect_err("not ours");
    assert!(matches!(err, Error::OwnSession), "{err:?}");
    let ended = w
        .accounts
        .revoke_others(&account)
        .await
        .expect("others out");
    assert_eq!(ended.len(), 2);
    assert_eq!(
        w.server_side_ids().await.len(),
        1,
        "ours survived (no logout-all)"
    );
}

#[tokio::test]
async fn rtc_a_totp_user_is_asked_for_a_code_once() {
    let w = world(DEMO_TOTP_LOGIN).await;
    let account = w.add(Dialect::Rtc, DEMO_TOTP_LOGIN).await.expect("added");
    assert_eq!(w.asked(), 1);
    w.accounts.snapshot(&account).await.expect("lists");
    assert_eq!(w.asked(), 1, "the session is reused, no new code");
}

// --- node-auth refresh storm ------------------------------------------------------------------

#[tokio::test]
async fn node_auth_a_hundred_refreshes_raise_no_alert() {
    use std::time::Duration;
    use warden_core::Event;
    use warden_core::watch::{WatchSettings, Watcher};

    let w = world(DEMO_LOGIN).await;
    let account = w.add(Dialect::NodeAuth, DEMO_LOGIN).await.expect("added");
    let mut devices = Vec::new();
    for (agent, ip) in [(IPHONE, "198.51.100.21"), (FIREFOX, "198.51.100.22")] {
        devices.push(w.device(Dialect::NodeAuth, agent, ip).await);
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let watcher = Watcher::new(
        Arc::clone(&w.accounts),
        Arc::new(tx),
        WatchSettings {
            interval: Duration::from_millis(20),
            ..WatchSettings::default()
        },
        tokio::runtime::Handle::current(),
    );
    watcher.watch(account.clone());
    let mut news = Vec::new();
    for round in 0..100 {
        let which = round % devices.len();
        devices[which] = w
            .mock
            .control()
            .refresh_device(&devices[which])
            .await
            .expect("the device refreshes");
        // Wait until the watcher has seen this refresh: a listing of three sessions in
        // which the refreshed device's handle is new.
        let seen = w.server_side_ids().await;
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match rx.recv().await.expect("watching") {
                    Event::Listed { snapshot }
                        if snapshot.sessions.len() == 3
                            && snapshot
                                .sessions
                                .iter()
                                .all(|s| seen.contains(&s.server_id.expose().to_owned())) =>
                    {
                        return;
                    }
                    Event::Listed { .. } => {}
                    other => news.push(other),
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("round {round}: the watcher never saw the refresh"));
    }
    assert!(
        news.is_empty(),
        "refreshes raised {} events, the first: {:?}",
        news.len(),
        news.first()
    );
}

// --- auto-detection -------------------------------------------------------------------------

#[tokio::test]
async fn auto_detection_names_each_api_and_says_when_none_answers() {
    let w = world(DEMO_LOGIN).await;
    for (dialect, kind) in [
        (Dialect::SecureAuth, DialectKind::SecureAuth),
        (Dialect::NodeAuth, DialectKind::NodeAuth),
        (Dialect::Hectoday, DialectKind::Hectoday),
        (Dialect::Rtc, DialectKind::Rtc),
        (Dialect::BetterAuth, DialectKind::BetterAuth),
        (Dialect::Matrix, DialectKind::Matrix),
        (Dialect::Allauth, DialectKind::Allauth),
    ] {
        let url = w.mock.api_url(dialect).to_string();
        assert_eq!(
            w.accounts.detect_dialect(&url).await.expect("detected"),
            kind,
            "{url}"
        );
    }
    let nothing = w
        .accounts
        .detect_dialect(w.mock.url().as_str())
        .await
        .expect_err("the root speaks no API");
    assert!(matches!(nothing, Error::InvalidInput(_)), "{nothing:?}");
    assert!(nothing.to_string().contains("--dialect"), "{nothing}");
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
        listener.local_addr().expect("addr")
    };
    let err = w
        .accounts
        .detect_dialect(&format!("http://{dead}/"))
        .await
        .expect_err("nothing listens");
    assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
}

// --- node-auth admin mode ---------------------------------------------------------------------

#[tokio::test]
async fn node_auth_admin_mode_watches_one_user_without_a_session_of_its_own() {
    let w = world(DEMO_LOGIN).await;
    let control = w.mock.control();
    control
        .create_user("eve@example.com", "eve-pw")
        .await
        .expect("eve");
    for ip in ["198.51.100.1", "198.51.100.2"] {
        w.device(Dialect::NodeAuth, FIREFOX, ip).await;
    }
    control
        .sign_in_via(
            Dialect::NodeAuth,
            "eve@example.com",
            IPHONE,
            "192.0.2.9",
            None,
        )
        .await
        .expect("eve signs in");
    let new = |secret: &str| {
        (
            NewAccount {
                url: w.mock.api_url(Dialect::NodeAuth).to_string(),
                dialect: DialectKind::NodeAuthAdmin,
                // The demo user's id on the mock.
                login: "1".into(),
                label: Some("demo (admin)".into()),
            },
            Secret::new(secret),
        )
    };
    let (account, secret) = new("guess");
    let err = w.accounts.add(account, secret).await.expect_err("refused");
    assert!(matches!(err, Error::BadAdminSecret), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the admin secret was rejected by the server"
    );

    let (account, secret) = new(warden_mock::DEMO_ADMIN_SECRET);
    let account = w.accounts.add(account, secret).await.expect("added");
    let snapshot = w.accounts.snapshot(&account).await.expect("lists");
    assert_eq!(snapshot.sessions.len(), 2, "the demo user's two, not eve's");
    assert!(snapshot.sessions.iter().all(|s| !s.is_current));
    assert_eq!(
        w.server_side_ids().await.len(),
        2,
        "no session of ours was opened"
    );

    let ended = w.accounts.revoke_others(&account).await.expect("all out");
    assert_eq!(ended.len(), 2);
    assert!(w.server_side_ids().await.is_empty());
    assert_eq!(
        control
            .live_ids("eve@example.com")
            .await
            .expect("ids")
            .len(),
        1,
        "eve's untouched"
    );
}

// --- Better Auth ---------------------------------------------------------------------------

/// The session the listing shows for a device, by its address.
async fn listed_at(w: &World, account: &warden_core::Account, ip: &str) -> warden_core::Session {
    w.accounts
        .snapshot(account)
        .await
        .expect("lists")
        .sessions
        .into_iter()
        .find(|s| s.ip.as_deref() == Some(ip))
        .unwrap_or_else(|| panic!("no session from {ip}"))
}

#[tokio::test]
async fn better_auth_lists_devices_without_keeping_their_tokens_and_revokes_by_a_fresh_lookup() {
    let w = world(DEMO_LOGIN).await;
    let account = w.add(Dialect::BetterAuth, DEMO_LOGIN).await.expect("added");
    let phone = w
        .mock
        .control()
        .sign_in_via(
            Dialect::BetterAuth,
            DEMO_LOGIN,
            IPHONE,
            "198.51.100.20",
            None,
        )
        .await
        .expect("signs in");
    w.device(Dialect::BetterAuth, FIREFOX, "198.51.100.21")
        .await;
    let snapshot = w.accounts.snapshot(&account).await.expect("lists");
    assert_eq!(snapshot.sessions.len(), 3);
    assert_eq!(snapshot.sessions.iter().filter(|s| s.is_current).count(), 1);
    let iphone = listed_at(&w, &account, "198.51.100.20").await;
    assert_eq!(iphone.device.os.as_deref(), Some("iOS"));
    assert_eq!(
        iphone.server_id.expose(),
        phone.id,
        "the id, never the token"
    );
    let their_token = phone.credentials.access_token.expect("a token");
    let raw = their_token.split('.').next().expect("raw");
    assert!(!format!("{snapshot:?}").contains(raw));

    let ended = w
        .accounts
        .revoke(&account, &iphone.id)
        .await
        .expect("revoked");
    assert_eq!(ended.id, iphone.id);
    assert!(!w.server_side_ids().await.contains(&phone.id));
    let others = w
        .accounts
        .revoke_others(&account)
        .await
        .expect("others out");
    assert_eq!(others.len(), 1);
    assert_eq!(w.server_side_ids().await.len(), 1, "ours alone");
    let err = w
        .accounts
        .revoke(&account, &iphone.id)
        .await
        .expect_err("gone already");
    assert!(matches!(err, Error::SessionNotFound(_)), "{err:?}");
}

#[tokio::test]
async fn better_auth_a_wrong_password_is_bad_credentials_and_a_totp_user_is_asked_once() {
    let w = world(DEMO_TOTP_LOGIN).await;
    let err = w
        .accounts
        .add(
            NewAccount {
                url: w.mock.api_url(Dialect::BetterAuth).to_string(),
                dialect: DialectKind::BetterAuth,
                login: DEMO_LOGIN.into(),
                label: None,
            },
            Secret::new("wrong"),
        )
        .await
        .expect_err("refused");
    assert!(matches!(err, Error::BadCredentials { .. }), "{err:?}");
    assert_eq!(err.code(), warden_core::ErrorCode::BadCredentials);
    let account = w
        .add(Dialect::BetterAuth, DEMO_TOTP_LOGIN)
        .await
        .expect("added with a code");
    assert_eq!(w.asked(), 1);
    assert!(
        w.accounts
            .snapshot(&account)
            .await
            .expect("lists")
            .sessions
            .iter()
            .any(|s| s.is_current)
    );
}

/// Better Auth refuses to list sessions once ours is older than `freshAge`: the engine signs
/// in again and ends the session it held, so an hour of watching with a ten-minute
/// freshness leaves exactly one session of ours on the server.
#[tokio::test]
async fn better_auth_an_hour_past_freshness_leaves_exactly_one_session_of_ours() {
    let world = common::World::build().mock_clock().start().await;
    let control = world.mock.control();
    control
        .set_better_auth_fresh_age("PT10M")
        .await
        .expect("set");
    let account = world
        .add(Dialect::BetterAuth, DEMO_LOGIN)
        .await
        .expect("added");
    control
        .sign_in_via(
            Dialect::BetterAuth,
            DEMO_LOGIN,
            FIREFOX,
            "198.51.100.9",
            None,
        )
        .await
        .expect("a device");
    for _ in 0..12 {
        control.advance_clock("PT5M").await.expect("time passes");
        let snapshot = world.accounts.snapshot(&account).await.expect("lists");
        assert_eq!(snapshot.sessions.iter().filter(|s| s.is_current).count(), 1);
    }
    assert_eq!(
        world.server_side_ids().await.len(),
        2,
        "the device and one session of ours"
    );
    let requests = control.requests().await.expect("counts");
    assert!(
        requests
            .get("POST /better-auth/sign-in/email")
            .is_some_and(|n| *n >= 5),
        "signed in again as freshness ran out: {requests:?}"
    );
}

// --- Matrix ---------------------------------------------------------------------------------

#[tokio::test]
async fn matrix_lists_devices_and_signs_one_out_with_the_password_asked_again() {
    let w = world(DEMO_LOGIN).await;
    let account = w.add(Dialect::Matrix, "demo").await.expect("added");
    let control = w.mock.control();
    let phone = control
        .sign_in_via(Dialect::Matrix, DEMO_LOGIN, IPHONE, "198.51.100.30", None)
        .await
        .expect("a device");
    used(&control, &phone.id).await;
    w.device(Dialect::Matrix, FIREFOX, "198.51.100.31").await;
    let snapshot = w.accounts.snapshot(&account).await.expect("lists");
    assert_eq!(snapshot.sessions.len(), 3);
    let ours = snapshot
        .sessions
        .iter()
        .find(|s| s.is_current)
        .expect("ours");
    assert_eq!(ours.device.label, "Session Warden");
    let target = listed_at(&w, &account, "198.51.100.30").await;
    w.accounts
        .revoke(&account, &target.id)
        .await
        .expect("signed out");
    let requests = control.requests().await.expect("counts");
    let deletes = requests
        .iter()
        .filter(|(route, _)| route.starts_with("DELETE /matrix/_matrix/client/v3/devices/"))
        .map(|(_, n)| n)
        .sum::<u64>();
    assert_eq!(
        deletes, 2,
        "asked for the password, then answered: {requests:?}"
    );
    // The server no longer knows the device's token.
    let token = phone.credentials.access_token.expect("a token");
    let answer = reqwest::Client::new()
        .get(format!(
            "{}/_matrix/client/v3/devices",
            w.mock.api_url(Dialect::Matrix)
        ))
        .bearer_auth(token)
        .send()
        .await
        .expect("answers");
    assert_eq!(answer.status(), 401);
    let body: serde_json::Value = answer.json().await.expect("json");
    assert_eq!(body["errcode"], "M_UNKNOWN_TOKEN");

    let ended = w
        .accounts
        .revoke_others(&account)
        .await
        .expect("others out");
    assert_eq!(ended.len(), 1);
    assert_eq!(w.server_side_ids().await.len(), 1);
}

#[tokio::test]
async fn matrix_a_password_changed_since_is_a_clear_error_at_sign_out() {
    let store = Arc::new(warden_core::MemoryStore::default());
    let world = common::World::build().store(store.clone()).start().await;
    let account = world.add(Dialect::Matrix, "demo").await.expect("added");
    world
        .mock
        .control()
        .sign_in_via(Dialect::Matrix, DEMO_LOGIN, IPHONE, "198.51.100.32", None)
        .await
        .expect("a device");
    use warden_core::CredentialStore;
    store
        .set(
            &account.id,
            warden_core::SecretKind::Password,
            &Secret::new("old-password"),
        )
        .expect("set");
    let target = world
        .accounts
        .snapshot(&account)
        .await
        .expect("lists")
        .sessions
        .into_iter()
        .find(|s| !s.is_current)
        .expect("the phone");
    let err = world
        .accounts
        .revoke(&account, &target.id)
        .await
        .expect_err("refused");
    assert!(matches!(err, Error::NeedsSignIn { .. }), "{err:?}");
    assert!(err.to_string().contains("password again"), "{err}");
    assert_eq!(world.server_side_ids().await.len(), 2, "nothing ended");
}

#[tokio::test]
async fn matrix_rename_is_the_servers_name_and_a_delegated_server_says_where_to_sign_out() {
    let w = world(DEMO_LOGIN).await;
    let account = w.add(Dialect::Matrix, "demo").await.expect("added");
    w.device(Dialect::Matrix, IPHONE, "198.51.100.33").await;
    let phone = listed_at(&w, &account, "198.51.100.33").await;
    w.accounts
        .rename(&account, &phone.id, "Kitchen iPad")
        .await
        .expect("renamed");
    let renamed = listed_at(&w, &account, "198.51.100.33").await;
    assert_eq!(renamed.device.label, "Kitchen iPad");
    assert_eq!(renamed.label, None, "the server's name, not one of ours");

    // Sign-in delegated to an account service: the device routes are not there.
    let fault: warden_mock::FaultSpec = serde_json::from_value(serde_json::json!({
        "route": "/matrix/_matrix/client/v3/devices/", "method": "DELETE", "status": 404,
    }))
    .expect("a fault");
    w.mock.control().add_fault(&fault).await.expect("fault");
    let err = w
        .accounts
        .revoke(&account, &phone.id)
        .await
        .expect_err("refused");
    assert!(matches!(err, Error::Refused(_)), "{err:?}");
    assert!(err.to_string().contains("account's web page"), "{err}");
}

// --- django-allauth ---------------------------------------------------------------------------

#[tokio::test]
async fn allauth_lists_by_integer_id_and_signs_all_others_out_in_one_request() {
    let w = world(DEMO_LOGIN).await;
    let account = w.add(Dialect::Allauth, DEMO_LOGIN).await.expect("added");
    for ip in ["198.51.100.40", "198.51.100.41", "198.51.100.42"] {
        w.device(Dialect::Allauth, FIREFOX, ip).await;
    }
    let snapshot = w.accounts.snapshot(&account).await.expect("lists");
    assert_eq!(snapshot.sessions.len(), 4);
    assert!(
        snapshot
            .sessions
            .iter()
            .all(|s| s.server_id.expose().parse::<u64>().is_ok())
    );
    let one = listed_at(&w, &account, "198.51.100.40").await;
    w.accounts.revoke(&account, &one.id).await.expect("revoked");
    let ended = w
        .accounts
        .revoke_others(&account)
        .await
        .expect("others out");
    assert_eq!(ended.len(), 2);
    assert_eq!(w.server_side_ids().await.len(), 1);
    let requests = w.mock.control().requests().await.expect("counts");
    assert_eq!(
        requests.get("DELETE /allauth/_allauth/app/v1/auth/sessions"),
        Some(&2),
        "one for the one, one for all the others: {requests:?}"
    );
}

#[tokio::test]
async fn allauth_410_means_our_session_is_gone_and_it_signs_in_again() {
    let w = world(DEMO_TOTP_LOGIN).await;
    let account = w
        .add(Dialect::Allauth, DEMO_TOTP_LOGIN)
        .await
        .expect("added");
    assert_eq!(w.asked(), 1, "the authenticator step");
    let control = w.mock.control();
    let ours = control.live_ids(DEMO_TOTP_LOGIN).await.expect("ids");
    assert_eq!(ours.len(), 1);
    control
        .end_session(&ours[0])
        .await
        .expect("ended by the site");
    let snapshot = w
        .accounts
        .snapshot(&account)
        .await
        .expect("signed in again");
    assert_eq!(snapshot.sessions.len(), 1);
    assert!(snapshot.sessions[0].is_current);
    assert_eq!(w.asked(), 2, "a code again, asked of the person");
}
