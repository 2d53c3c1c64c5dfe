//! The engine against `warden-mock` over real HTTP, one module per API (hectoday and Home
//! Assistant have files of their own), quirks included; what every API must do is here.
//! One-time codes are typed by a prompt that reads them where a person would: the SMS
//! outbox and the authenticator (the mock's TOTP of the moment).

#[path = "../common/mod.rs"]
mod common;

mod allauth;
mod better_auth;
mod matrix;
mod node_auth;
mod rtc;
mod secureauth;

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
