//! A minimal Django site on the real django-allauth (PyPI, pinned by `tests/servers/python/
//! requirements.lock`): `tests/servers/allauth/site.py`, headless with usersessions and
//! mfa, on SQLite in a temp dir, served by Django's own server.

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use super::{Process, free_port, python, run, servers_dir};

pub struct Allauth {
    _process: Process,
    dir: tempfile::TempDir,
    /// The site's root, ending in `/`.
    pub url: String,
    http: reqwest::Client,
}

impl Allauth {
    pub async fn start() -> anyhow::Result<Allauth> {
        let dir = tempfile::tempdir()?;
        let port = free_port()?;
        let mut migrate = Allauth::site(&dir)("migrate")?;
        migrate.arg("-v0");
        run(migrate, "creating the allauth site's database")?;
        let mut server = Allauth::site(&dir)("runserver")?;
        server.args([&format!("127.0.0.1:{port}"), "--noreload"]);
        let mut process = Process::spawn(server, &dir.path().join("allauth.log"))?;
        let url = format!("http://127.0.0.1:{port}/");
        process
            .wait_for(
                &format!("{url}_allauth/app/v1/config"),
                Duration::from_secs(60),
            )
            .await?;
        Ok(Allauth {
            _process: process,
            dir,
            url,
            http: reqwest::Client::new(),
        })
    }

    /// `python site.py <command>` on this site's database.
    fn site(dir: &tempfile::TempDir) -> impl Fn(&str) -> anyhow::Result<Command> + '_ {
        move |command| {
            let mut site = Command::new(python()?);
            site.arg(servers_dir("allauth").join("site.py"))
                .arg(command)
                .env("ALLAUTH_DB", dir.path().join("site.sqlite3"))
                .current_dir(dir.path());
            Ok(site)
        }
    }

    /// A user who signs in by email; with `totp_secret`, an authenticator too.
    pub fn create_user(
        &self,
        email: &str,
        password: &str,
        totp_secret: Option<&str>,
    ) -> anyhow::Result<()> {
        let mut seed = Allauth::site(&self.dir)("seed")?;
        seed.args([email, password]).args(totp_secret);
        run(seed, "creating an allauth user")?;
        Ok(())
    }

    fn api(&self, path: &str) -> String {
        format!("{}_allauth/app/v1/{path}", self.url)
    }

    /// A device signs in through the app client with its own agent and address; its token.
    pub async fn sign_in_device(
        &self,
        email: &str,
        password: &str,
        agent: &str,
        ip: &str,
    ) -> anyhow::Result<String> {
        let answer: Value = self
            .http
            .post(self.api("auth/login"))
            .header("user-agent", agent)
            .header("x-forwarded-for", ip)
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        answer["meta"]["session_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow::anyhow!("no session token: {answer}"))
    }

    /// The status the site answers a device's token with (200 while it lives, 410 after).
    pub async fn status_of(&self, token: &str) -> anyhow::Result<u16> {
        Ok(self
            .http
            .get(self.api("auth/session"))
            .header("x-session-token", token)
            .send()
            .await?
            .status()
            .as_u16())
    }
}
