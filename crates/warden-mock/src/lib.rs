//! `warden-mock`: a local server that plays the session APIs of docs/apis.md over one
//! store of users and sessions, so Session Warden runs, demos and tests offline. It shares no
//! code with the client side on purpose: a misreading of the spec on one side shows up as a
//! failing test. docs/mock.md documents the control API and the scenario format.
#![forbid(unsafe_code)]

pub mod agents;
mod allauth;
mod better_auth;
pub mod cli;
pub mod clock;
mod control;
mod control_client;
mod device;
pub mod dialect;
pub mod faults;
mod hectoday;
pub mod home_assistant;
mod jwt;
mod matrix;
mod node_auth;
mod peer;
pub mod persist;
mod ratelimit;
pub mod requests;
mod respond;
mod rtc;
pub mod scenario;
mod secureauth;
pub mod store;
pub mod totp;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use url::Url;

pub use clock::MockClock;
pub use control_client::{ControlClient, SignedInDevice, TotpInfo};
pub use dialect::Dialect;
pub use faults::FaultSpec;
pub use scenario::Scenario;
pub use store::Store;

use faults::Faults;
use ratelimit::RateLimit;
use scenario::ScenarioRunner;
use store::NewUser;

/// The demo account, for password logins (node-auth, hectoday, RTC).
pub const DEMO_LOGIN: &str = "demo@example.com";

/// What the demo user signs in with on `dialect`: the email, or on the APIs that sign in
/// with a user name (Matrix, Home Assistant), "demo".
pub fn demo_login(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Matrix | Dialect::HomeAssistant => "demo",
        _ => DEMO_LOGIN,
    }
}
pub const DEMO_PASSWORD: &str = "demo-password";
/// The demo account's phone, for SecureAuth (the code lands in `GET /__mock/outbox`).
pub const DEMO_PHONE: &str = "+15550000000";
/// A second demo account with TOTP on (node-auth and RTC ask for a code).
pub const DEMO_TOTP_LOGIN: &str = "demo-2fa@example.com";
/// Fixed, so an authenticator app can be set up once for every demo.
pub const DEMO_TOTP_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
pub const DEMO_BACKUP_CODES: [&str; 10] = [
    "10000001", "10000002", "10000003", "10000004", "10000005", "10000006", "10000007", "10000008",
    "10000009", "10000010",
];
/// node-auth's admin API secret, unless `--admin-secret` says otherwise.
pub const DEMO_ADMIN_SECRET: &str = "demo-admin-secret";

/// Where the hectoday API is mounted (kept for the skeleton's callers).
pub const HECTODAY_PREFIX: &str = "/hectoday";

/// What every handler shares.
#[derive(Clone)]
pub struct MockState {
    pub store: Arc<Store>,
    pub clock: MockClock,
    pub faults: Arc<Faults>,
    pub scenario: Arc<ScenarioRunner>,
    /// Every API request, counted by route.
    pub requests: Arc<requests::Requests>,
    rate_limit: Arc<RateLimit>,
    admin_secret: Arc<str>,
    /// Better Auth's `freshAge`, in seconds (`set_fresh_age`).
    fresh_age_secs: Arc<std::sync::atomic::AtomicI64>,
    /// Home Assistant's login flows, auth codes, failed logins and bans.
    pub home_assistant: Arc<home_assistant::HomeAssistant>,
}

impl MockState {
    /// The demo accounts and nothing else.
    pub fn with_demo_user() -> Self {
        Self::with_admin_secret(DEMO_ADMIN_SECRET)
    }

    pub fn with_admin_secret(admin_secret: &str) -> Self {
        let state = Self {
            store: Arc::new(Store::default()),
            clock: MockClock::default(),
            faults: Arc::default(),
            scenario: Arc::default(),
            requests: Arc::default(),
            rate_limit: Arc::default(),
            admin_secret: admin_secret.into(),
            fresh_age_secs: Arc::new(better_auth::FRESH_AGE.num_seconds().into()),
            home_assistant: Arc::default(),
        };
        state.seed_demo_users();
        state
    }

    fn seed_demo_users(&self) {
        self.store.add_user(NewUser {
            email: DEMO_LOGIN.into(),
            username: Some("demo".into()),
            phone: Some(DEMO_PHONE.into()),
            password: DEMO_PASSWORD.into(),
            display_name: "Demo User".into(),
            totp: None,
        });
        self.store.add_user(NewUser {
            email: DEMO_TOTP_LOGIN.into(),
            username: Some("demo2fa".into()),
            phone: Some("+15550000001".into()),
            password: DEMO_PASSWORD.into(),
            display_name: "Demo User (2FA)".into(),
            totp: Some(store::Totp {
                secret: DEMO_TOTP_SECRET.into(),
                backup_codes: DEMO_BACKUP_CODES.iter().map(|c| (*c).to_owned()).collect(),
            }),
        });
    }

    /// Back to the start: the demo accounts, no session, no fault, the real time, and the
    /// scenario (if one is loaded) playing again from its beginning.
    pub fn reset(&self) {
        self.store.clear();
        self.seed_demo_users();
        self.clock.reset();
        self.faults.clear();
        self.requests.clear();
        self.rate_limit.clear();
        self.set_fresh_age(better_auth::FRESH_AGE);
        self.home_assistant.clear();
        self.scenario.restart(self);
    }

    /// How old a Better Auth session may be and still list sessions (`freshAge`; a day
    /// unless set).
    pub fn fresh_age(&self) -> chrono::Duration {
        chrono::Duration::seconds(
            self.fresh_age_secs
                .load(std::sync::atomic::Ordering::Relaxed),
        )
    }

    pub fn set_fresh_age(&self, age: chrono::Duration) {
        self.fresh_age_secs
            .store(age.num_seconds(), std::sync::atomic::Ordering::Relaxed);
    }

    /// Plays `scenario` from now on.
    pub fn start_scenario(&self, scenario: Scenario, skip_past: bool) {
        self.scenario.start(self, scenario, skip_past);
    }
}

pub fn router(state: MockState) -> Router {
    let mut apis = Router::new();
    for dialect in Dialect::ALL {
        let routes = match dialect {
            Dialect::SecureAuth => secureauth::routes(state.clone()),
            Dialect::NodeAuth => node_auth::routes(),
            Dialect::Hectoday => hectoday::routes(),
            Dialect::Rtc => rtc::routes(),
            Dialect::BetterAuth => better_auth::routes(),
            Dialect::Matrix => matrix::routes(),
            Dialect::Allauth => allauth::routes(),
            Dialect::HomeAssistant => home_assistant::routes(state.clone()),
        };
        apis = apis.nest(dialect.prefix(), routes);
    }
    let apis = apis
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            faults::apply,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            requests::count,
        ));
    Router::new()
        .merge(apis)
        .nest("/__mock", control::routes())
        .with_state(state)
}

/// Serves until `shutdown` resolves, playing the scenario (if any) as time passes.
/// Handlers see the peer address (the control API refuses anyone but loopback).
pub async fn serve(
    listener: TcpListener,
    state: MockState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let ticker = tokio::spawn(play_scenario(state.clone()));
    let faults = state.faults.clone();
    let served = axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        // Requests hung by a fault would hold the port open forever.
        faults.release_all();
    })
    .await;
    ticker.abort();
    served
}

/// Wakes when the next scenario step is due (or each second, to notice a new scenario).
async fn play_scenario(state: MockState) {
    loop {
        let wait = state
            .scenario
            .next_due()
            .and_then(|due| (due - state.clock.now()).to_std().ok())
            .unwrap_or(Duration::from_secs(1))
            .clamp(Duration::from_millis(10), Duration::from_secs(1));
        tokio::time::sleep(wait).await;
        state.scenario.run_due(&state);
    }
}

/// A mock server running on 127.0.0.1 on a free port; stops when dropped.
pub struct MockServer {
    url: Url,
    state: MockState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl MockServer {
    /// The server's root, ending in `/`.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The base URL of one API, as a user would enter it.
    pub fn api_url(&self, dialect: Dialect) -> Url {
        let mut url = self.url.clone();
        url.set_path(dialect.prefix());
        url
    }

    pub fn hectoday_url(&self) -> Url {
        self.api_url(Dialect::Hectoday)
    }

    /// A client for this server's control API.
    pub fn control(&self) -> ControlClient {
        ControlClient::new(self.url.clone())
    }

    pub fn state(&self) -> &MockState {
        &self.state
    }

    /// Stops serving and returns once the port is closed, as when a real server dies.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Starts a mock server with the demo accounts on `127.0.0.1:0`. Needs a tokio runtime.
pub async fn spawn() -> std::io::Result<MockServer> {
    spawn_with(MockState::with_demo_user()).await
}

pub async fn spawn_with(state: MockState) -> std::io::Result<MockServer> {
    let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let served = state.clone();
    let task = tokio::spawn(async move {
        if let Err(e) = serve(listener, served, async {
            let _ = rx.await;
        })
        .await
        {
            tracing::error!("mock server stopped: {e}");
        }
    });
    let url = Url::parse(&format!("http://{addr}/")).map_err(std::io::Error::other)?;
    Ok(MockServer {
        url,
        state,
        shutdown: Some(tx),
        task: Some(task),
    })
}
