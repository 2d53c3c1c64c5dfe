//! The `warden` CLI as a user runs it: a real process, the real Secret Service on a private
//! D-Bus, and `warden-mock` over HTTP.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Output, Stdio};

use warden_tests::mock::{FIREFOX_LINUX, Mock};
use warden_tests::{Desktop, files_containing, workspace_binary};

struct Cli {
    desktop: Desktop,
    home: PathBuf,
    binary: PathBuf,
    mock: Mock,
}

impl Cli {
    async fn start() -> anyhow::Result<Cli> {
        let desktop = Desktop::start()?;
        let home = desktop.subdir("warden-home")?;
        Ok(Cli {
            binary: workspace_binary("WARDEN_CLI", "warden")?,
            mock: Mock::start().await?,
            desktop,
            home,
        })
    }

    fn run(&self, args: &[&str], stdin: &str) -> anyhow::Result<Output> {
        let mut child = self
            .desktop
            .command(&self.binary)
            .args(args)
            .env("WARDEN_HOME", &self.home)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        child
            .stdin
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stdin"))?
            .write_all(stdin.as_bytes())?;
        Ok(child.wait_with_output()?)
    }

    /// Runs and expects success; returns stdout.
    fn ok(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = self.run(args, "")?;
        anyhow::ensure!(
            out.status.success(),
            "warden {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8(out.stdout)?)
    }

    fn add(&self, password: &str) -> anyhow::Result<Output> {
        let url = self.mock.hectoday_url();
        self.run(
            &[
                "accounts",
                "add",
                "--url",
                &url,
                "--dialect",
                "hectoday",
                "--login",
                warden_mock::DEMO_LOGIN,
                "--label",
                "demo",
                "--password-stdin",
            ],
            &format!("{password}\n"),
        )
    }

    fn add_demo(&self) -> anyhow::Result<String> {
        let out = self.add(warden_mock::DEMO_PASSWORD)?;
        anyhow::ensure!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8(out.stdout)?.trim().to_owned())
    }

    fn keyring(&self, account: &str, kind: &str) -> Option<String> {
        self.desktop
            .run(
                "secret-tool",
                &[
                    "lookup",
                    "service",
                    "session-warden",
                    "username",
                    &format!("{account}/{kind}"),
                ],
            )
            .ok()
            .filter(|s| !s.is_empty())
    }

    fn sessions(&self) -> anyhow::Result<Vec<serde_json::Value>> {
        Ok(serde_json::from_str(&self.ok(&["sessions", "--json"])?)?)
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adding_an_account_keeps_the_password_in_the_keyring_and_in_no_file() -> anyhow::Result<()>
{
    let cli = Cli::start().await?;
    let id = cli.add_demo()?;
    assert!(
        id.len() == 12 && id.chars().all(|c| c.is_ascii_hexdigit()),
        "`accounts add` prints the account id, got {id:?}"
    );
    assert_eq!(
        cli.keyring(&id, "password").as_deref(),
        Some(warden_mock::DEMO_PASSWORD)
    );
    let leaks = files_containing(cli.desktop.root(), warden_mock::DEMO_PASSWORD.as_bytes());
    assert!(leaks.is_empty(), "the password is written in {leaks:?}");
    let listed: serde_json::Value =
        serde_json::from_str(&cli.ok(&["accounts", "list", "--json"])?)?;
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["label"], "demo");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_json_carries_the_documented_fields() -> anyhow::Result<()> {
    let cli = Cli::start().await?;
    let id = cli.add_demo()?;
    cli.mock
        .sign_in_device(FIREFOX_LINUX, "203.0.113.7")
        .await?;
    let sessions = cli.sessions()?;
    assert_eq!(sessions.len(), 2, "{sessions:#?}");
    let firefox = sessions
        .iter()
        .find(|s| s["isCurrent"] == false)
        .ok_or_else(|| anyhow::anyhow!("no other session in {sessions:#?}"))?;
    assert_eq!(firefox["account"], id.as_str());
    assert_eq!(firefox["device"]["label"], "Firefox on Linux");
    assert_eq!(firefox["device"]["browser"], "Firefox");
    assert_eq!(firefox["device"]["os"], "Linux");
    assert_eq!(firefox["device"]["kind"], "desktop");
    assert_eq!(firefox["ip"], "203.0.113.7");
    for field in ["createdAt", "lastActiveAt"] {
        let time = firefox[field].as_str().unwrap_or_default();
        assert!(
            chrono_like_rfc3339_utc(time),
            "{field} should be RFC 3339 UTC, got {time:?}"
        );
    }
    assert!(
        sessions.iter().any(|s| s["isCurrent"] == true),
        "our own session is marked current"
    );
    Ok(())
}

fn chrono_like_rfc3339_utc(time: &str) -> bool {
    // 2026-11-22T08:05:12Z
    time.len() == 20 && time.ends_with('Z') && time.as_bytes().get(10) == Some(&b'T')
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_ends_the_session_on_the_server_and_others_ends_all_but_ours() -> anyhow::Result<()>
{
    let cli = Cli::start().await?;
    cli.add_demo()?;
    let firefox = cli
        .mock
        .sign_in_device(FIREFOX_LINUX, "203.0.113.7")
        .await?;
    let curl = cli.mock.sign_in_device("curl/8.5.0", "192.0.2.99").await?;
    let sessions = cli.sessions()?;
    let target = sessions
        .iter()
        .find(|s| s["device"]["label"] == "Firefox on Linux")
        .and_then(|s| s["id"].as_str())
        .ok_or_else(|| anyhow::anyhow!("no Firefox session in {sessions:#?}"))?;
    let said = cli.ok(&["revoke", target])?;
    assert!(said.contains("revoked Firefox on Linux"), "{said}");
    let live = cli.mock.live_ids().await?;
    assert!(
        !live.contains(&firefox),
        "Firefox still signed in on the server"
    );
    assert!(live.contains(&curl), "only the named session ends");

    let said = cli.ok(&["revoke", "--others"])?;
    assert!(said.contains("signed out 1 other session"), "{said}");
    assert_eq!(
        cli.mock.live_ids().await?.len(),
        1,
        "only our own session remains"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_exits_3_says_so_and_stores_nothing() -> anyhow::Result<()> {
    let cli = Cli::start().await?;
    let out = cli.add("not-the-password")?;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("rejected the email or password"),
        "{}",
        stderr(&out)
    );
    let stored = cli.desktop.run(
        "secret-tool",
        &["search", "--all", "service", "session-warden"],
    )?;
    assert!(
        stored.is_empty(),
        "nothing is kept for a failed sign-in: {stored}"
    );
    assert!(cli.ok(&["accounts", "list", "--json"])?.trim() == "[]");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_our_own_session_exits_6_and_says_why() -> anyhow::Result<()> {
    let cli = Cli::start().await?;
    cli.add_demo()?;
    let sessions = cli.sessions()?;
    let ours = sessions
        .iter()
        .find(|s| s["isCurrent"] == true)
        .and_then(|s| s["id"].as_str())
        .ok_or_else(|| anyhow::anyhow!("no current session"))?;
    let out = cli.run(&["revoke", ours], "")?;
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Session Warden's own session"),
        "{}",
        stderr(&out)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_server_exits_4_and_loses_nothing() -> anyhow::Result<()> {
    let mut cli = Cli::start().await?;
    let id = cli.add_demo()?;
    cli.mock.server.stop().await;
    let out = cli.run(&["sessions"], "")?;
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot reach"), "{}", stderr(&out));
    assert!(
        cli.keyring(&id, "password").is_some(),
        "the password is kept"
    );
    assert!(
        cli.ok(&["accounts", "list"])?.contains("demo"),
        "the account is kept"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_an_account_deletes_its_keyring_entries_and_signs_out() -> anyhow::Result<()> {
    let cli = Cli::start().await?;
    let id = cli.add_demo()?;
    assert!(
        cli.keyring(&id, "session").is_some(),
        "our session token is kept too"
    );
    cli.ok(&["accounts", "remove", "demo"])?;
    assert_eq!(cli.keyring(&id, "password"), None);
    assert_eq!(cli.keyring(&id, "session"), None);
    assert!(
        cli.mock.live_ids().await?.is_empty(),
        "our session is signed out"
    );
    Ok(())
}
