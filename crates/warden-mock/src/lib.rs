//! `warden-mock`: a local server that plays the session APIs of wire-formats.md, so Session
//! Warden runs, demos and tests offline. It shares no code with the client side on purpose:
//! a misreading of the spec on one side shows up as a failing test.
#![forbid(unsafe_code)]

pub mod clock;
mod control;
mod control_client;
mod device;
mod hectoday;
mod peer;
pub mod store;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use url::Url;

pub use clock::MockClock;
pub use control_client::ControlClient;
pub use store::Store;

pub const DEMO_LOGIN: &str = "demo@example.com";
pub const DEMO_PASSWORD: &str = "demo-password";

/// Where each API is mounted, under the server's root.
pub const HECTODAY_PREFIX: &str = "/hectoday";

/// What every handler shares: the one store of users and sessions, and the clock.
#[derive(Clone)]
pub struct MockState {
    pub store: Arc<Store>,
    pub clock: MockClock,
}

impl MockState {
    /// A store holding the demo user and nothing else.
    pub fn with_demo_user() -> Self {
        let state = Self {
            store: Arc::new(Store::default()),
            clock: MockClock::default(),
        };
        state.reset();
        state
    }

    /// Back to the demo user alone, no session, and the real time.
    pub fn reset(&self) {
        self.store.clear();
        self.store.add_user(DEMO_LOGIN, DEMO_PASSWORD, "Demo User");
        self.clock.reset();
    }
}

pub fn router(state: MockState) -> Router {
    Router::new()
        .nest(HECTODAY_PREFIX, hectoday::routes())
        .nest("/__mock", control::routes())
        .with_state(state)
}

/// Serves until `shutdown` resolves. Handlers see the peer address (the control API
/// refuses anyone but loopback).
pub async fn serve(
    listener: TcpListener,
    state: MockState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
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

    /// The base URL of the hectoday API, as a user would enter it.
    pub fn hectoday_url(&self) -> Url {
        self.api_url(HECTODAY_PREFIX)
    }

    fn api_url(&self, prefix: &str) -> Url {
        let mut url = self.url.clone();
        url.set_path(prefix);
        url
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

/// Starts a mock server with the demo user on `127.0.0.1:0`. Needs a tokio runtime.
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
