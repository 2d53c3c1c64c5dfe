//! Playing the other devices through `warden-mock`'s control API, over HTTP like any client.

pub const FIREFOX_LINUX: &str = warden_mock::agents::FIREFOX_LINUX;
pub const SAFARI_IPHONE: &str = warden_mock::agents::SAFARI_IPHONE;
pub const CHROME_WINDOWS: &str = warden_mock::agents::CHROME_WINDOWS;

pub struct Mock {
    pub server: warden_mock::MockServer,
    control: warden_mock::ControlClient,
}

impl Mock {
    pub async fn start() -> anyhow::Result<Mock> {
        let server = warden_mock::spawn().await?;
        let control = server.control();
        Ok(Mock { server, control })
    }

    pub fn hectoday_url(&self) -> String {
        self.server.hectoday_url().to_string()
    }

    /// The base URL of one of the mock's APIs, as a person would type it.
    pub fn url(&self, dialect: warden_mock::Dialect) -> String {
        self.server.api_url(dialect).to_string()
    }

    /// A device signs in to `login`'s account; returns the server's session id.
    pub async fn sign_in_device_as(
        &self,
        login: &str,
        user_agent: &str,
        ip: &str,
    ) -> anyhow::Result<String> {
        Ok(self.control.sign_in_device(login, user_agent, ip).await?)
    }

    /// A device signs in to `login`'s account through `dialect`: its id and credentials.
    pub async fn sign_in_via(
        &self,
        dialect: warden_mock::Dialect,
        login: &str,
        user_agent: &str,
        ip: &str,
    ) -> anyhow::Result<warden_mock::SignedInDevice> {
        Ok(self
            .control
            .sign_in_via(dialect, login, user_agent, ip, None)
            .await?)
    }

    /// Another user of the service.
    pub async fn create_user(&self, login: &str, password: &str) -> anyhow::Result<()> {
        Ok(self.control.create_user(login, password).await?)
    }

    pub async fn live_ids_of(&self, login: &str) -> anyhow::Result<Vec<String>> {
        Ok(self.control.live_ids(login).await?)
    }

    /// The service ends a session by itself (an admin, an expiry).
    pub async fn end_session(&self, id: &str) -> anyhow::Result<()> {
        Ok(self.control.end_session(id).await?)
    }

    /// The code `login`'s authenticator app shows now.
    pub async fn totp_code(&self, login: &str) -> anyhow::Result<String> {
        Ok(self.control.totp(login).await?.code)
    }

    /// The last one-time code the mock "texted" to `phone`.
    pub async fn code_sent_to(&self, phone: &str) -> anyhow::Result<Option<String>> {
        Ok(self.control.last_code_sent_to(phone).await?)
    }

    /// A device signs in to the demo account; returns the server's session id.
    pub async fn sign_in_device(&self, user_agent: &str, ip: &str) -> anyhow::Result<String> {
        Ok(self
            .control
            .sign_in_device(warden_mock::DEMO_LOGIN, user_agent, ip)
            .await?)
    }

    /// The server's ids of every live session of the demo user.
    pub async fn live_ids(&self) -> anyhow::Result<Vec<String>> {
        Ok(self.control.live_ids(warden_mock::DEMO_LOGIN).await?)
    }
}
