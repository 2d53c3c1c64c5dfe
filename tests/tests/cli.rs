//! The `warden` CLI as a user runs it: a real process, the real Secret Service on a private
//! D-Bus, and `warden-mock` over HTTP.

use std::io::Write;
use std::process::{Output, Stdio};

use warden_tests::cli::{Warden, Watching};
use warden_tests::files_containing;
use warden_tests::mock::{FIREFOX_LINUX, Mock};

/// `warden` on a private desktop, with the mock.
struct Cli {
    warden: Warden,
    mock: Mock,
}

impl std::ops::Deref for Cli {
    type Target = Warden;
    fn deref(&self) -> &Warden {
        &self.warden
    }
}

impl Cli {
    async fn start() -> anyhow::Result<Cli> {
        Ok(Cli {
            warden: Warden::start()?,
            mock: Mock::start().await?,
        })
    }

    fn add(&self, password: &str) -> anyhow::Result<Output> {
        self.add_via(warden_mock::Dialect::Hectoday, "demo", password)
    }

    /// Adds the demo user's node-auth account under `label`, its password piped in.
    fn add_node_auth(&self, label: &str) -> anyhow::Result<Output> {
        self.add_via(
            warden_mock::Dialect::NodeAuth,
            label,
            warden_mock::DEMO_PASSWORD,
        )
    }

    /// Adds the demo user's account on the mock's `dialect` under `label`, `password` piped
    /// in.
    fn add_via(
        &self,
        dialect: warden_mock::Dialect,
        label: &str,
        password: &str,
    ) -> anyhow::Result<Output> {
        let url = self.mock.url(dialect);
        self.run(
            &[
                "accounts",
                "add",
                "--url",
                &url,
                "--dialect",
                dialect.name(),
                "--login",
                warden_mock::DEMO_LOGIN,
                "--label",
                label,
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

    /// Adds an account on our hostile server (which answers honestly until told otherwise).
    fn add_hostile(
        &self,
        server: &warden_tests::hostile::Hostile,
        label: &str,
    ) -> anyhow::Result<()> {
        let added = self.add_to(
            server,
            server.url.as_str(),
            server.api.dialect(),
            warden_tests::hostile::PASSWORD,
            label,
        )?;
        anyhow::ensure!(added.status.success(), "{}", stderr(&added));
        Ok(())
    }

    /// `accounts add` on our hostile server, as `dialect` at `url`, with `password`.
    fn add_to(
        &self,
        server: &warden_tests::hostile::Hostile,
        url: &str,
        dialect: &str,
        password: &str,
        label: &str,
    ) -> anyhow::Result<Output> {
        self.run(
            &[
                "accounts",
                "add",
                "--url",
                url,
                "--dialect",
                dialect,
                "--login",
                server.api.login(),
                "--label",
                label,
                "--password-stdin",
            ],
            &format!("{password}\n"),
        )
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
async fn the_same_account_is_not_added_twice_under_another_label_or_spelling() -> anyhow::Result<()>
{
    let cli = Cli::start().await?;
    cli.add_demo()?;
    let url = cli.mock.hectoday_url();
    let again = cli.run(
        &[
            "accounts",
            "add",
            "--url",
            // The same server, spelled otherwise: no trailing slash, the login in capitals.
            url.trim_end_matches('/'),
            "--dialect",
            "hectoday",
            "--login",
            &warden_mock::DEMO_LOGIN.to_uppercase(),
            "--label",
            "second copy",
            "--password-stdin",
        ],
        &format!("{}\n", warden_mock::DEMO_PASSWORD),
    )?;
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    assert_eq!(
        stderr(&again).trim(),
        "warden: this account is already watched as \"demo\" (the same server and login); \
         nothing was added"
    );
    let listed: Vec<serde_json::Value> =
        serde_json::from_str(&cli.ok(&["accounts", "list", "--json"])?)?;
    assert_eq!(listed.len(), 1, "{listed:?}");
    // No second session was opened on the server either.
    let ours = cli
        .sessions()?
        .into_iter()
        .filter(|s| s["isCurrent"] == true)
        .count();
    assert_eq!(ours, 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_watch_takes_up_an_account_added_later_and_lets_go_of_one_removed()
-> anyhow::Result<()> {
    let cli = Cli::start().await?;
    cli.add_demo()?;
    let watch = Watching::start(&cli, &[])?;
    Watching::next(&watch.out, &["\"type\":\"listed\""])?;
    let added = cli.add_node_auth("later")?;
    assert!(added.status.success(), "{}", stderr(&added));
    let id = String::from_utf8(added.stdout)?.trim().to_owned();
    Watching::next(&watch.err, &["now watching later too"])?;
    // Watched, not only named: its sessions are listed, and a new sign-in on it is told.
    Watching::next(&watch.out, &["\"type\":\"listed\"", &id])?;
    cli.mock
        .sign_in_via(
            warden_mock::Dialect::NodeAuth,
            warden_mock::DEMO_LOGIN,
            FIREFOX_LINUX,
            "198.51.100.41",
        )
        .await?;
    Watching::next(&watch.out, &["sessionAppeared", "198.51.100.41", &id])?;
    cli.ok(&["accounts", "remove", "later"])?;
    Watching::next(&watch.err, &["no longer watching later"])?;
    Ok(())
}

/// Better Auth says when our session ends; a server that lost its data (restarted empty)
/// turns "the server failed" into "sign in again", and the history says both, once each,
/// as `watch --json` does, however many polls fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn better_auth_says_until_when_and_an_emptied_server_is_told_as_needing_a_sign_in()
-> anyhow::Result<()> {
    let cli = Cli::start().await?;
    cli.mock
        .create_user("kept@example.com", "kept-password")
        .await?;
    let url = cli.mock.url(warden_mock::Dialect::BetterAuth);
    let added = cli.run(
        &[
            "accounts",
            "add",
            "--url",
            &url,
            "--dialect",
            "better-auth",
            "--login",
            "kept@example.com",
            "--label",
            "ba",
            "--password-stdin",
        ],
        "kept-password\n",
    )?;
    assert!(added.status.success(), "{}", stderr(&added));
    let ours = cli
        .sessions()?
        .into_iter()
        .find(|s| s["isCurrent"] == true)
        .ok_or_else(|| anyhow::anyhow!("our own session is listed"))?;
    let listed: Vec<serde_json::Value> =
        serde_json::from_str(&cli.ok(&["accounts", "list", "--json"])?)?;
    assert!(ours["expiresAt"].is_string(), "{ours}");
    assert_eq!(
        listed[0]["signedInUntil"], ours["expiresAt"],
        "signed in until what the server says of our session"
    );

    let watch = Watching::start(&cli, &[])?;
    Watching::next(&watch.out, &["\"type\":\"listed\""])?;
    let fault: warden_mock::FaultSpec = serde_json::from_value(serde_json::json!({
        "route": "/", "status": 503,
    }))?;
    cli.mock.server.control().add_fault(&fault).await?;
    // Three failed polls (each logged), one line on stdout.
    for _ in 0..3 {
        Watching::next(&watch.err, &["poll failed"])?;
    }
    let said: Vec<String> = watch.out.try_iter().collect();
    let stale: Vec<&String> = said.iter().filter(|l| l.contains("\"stale\"")).collect();
    assert_eq!(stale.len(), 1, "one line for one outage: {said:#?}");
    // The server comes back with none of its data: our session and the person are gone.
    cli.mock.server.control().clear_faults().await?;
    cli.mock.server.control().reset().await?;
    let line = Watching::next(&watch.out, &["\"stale\"", "\"needsSignIn\":true"])?;
    assert!(line.contains("sign in again"), "{line}");
    let history: Vec<serde_json::Value> =
        serde_json::from_str(&cli.ok(&["history", "--export", "json"])?)?;
    let outage: Vec<&str> = history
        .iter()
        .filter(|e| e["kind"] == "stale")
        .filter_map(|e| e["detail"].as_str())
        .collect();
    assert_eq!(outage.len(), 2, "{outage:#?}");
    assert!(outage[0].contains("503"), "{outage:?}");
    assert!(outage[1].contains("sign in again"), "{outage:?}");
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

/// What a server says is a stranger's text: escape sequences in it never reach the terminal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_servers_escape_sequences_never_reach_the_terminal() -> anyhow::Result<()> {
    let cli = Cli::start().await?;
    cli.add_demo()?;
    // Clears the screen and retitles the terminal, if printed as it is.
    cli.mock
        .sign_in_device(FIREFOX_LINUX, "203.0.113.7\u{1b}[2J\u{1b}]0;pwned\u{7}")
        .await?;
    let table = cli.ok(&["sessions"])?;
    assert!(table.contains("203.0.113.7[2J]0;pwned"), "{table}");
    assert!(
        !table.chars().any(|c| c.is_control() && c != '\n'),
        "{table:?}"
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
        stderr(&out).contains("rejected the sign-in of"),
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_detects_the_api_and_reads_a_totp_code_after_the_password() -> anyhow::Result<()> {
    let cli = Cli::start().await?;
    let url = cli
        .mock
        .server
        .api_url(warden_mock::Dialect::NodeAuth)
        .to_string();
    let code = cli
        .mock
        .server
        .control()
        .totp(warden_mock::DEMO_TOTP_LOGIN)
        .await?
        .code;
    let out = cli.run(
        &[
            "accounts",
            "add",
            "--url",
            &url,
            "--login",
            warden_mock::DEMO_TOTP_LOGIN,
            "--password-stdin",
        ],
        &format!("{}\n{code}\n", warden_mock::DEMO_PASSWORD),
    )?;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("speaks node-auth"),
        "{}",
        stderr(&out)
    );
    // node-auth's one refresh token per user: the person is told what watching costs.
    assert!(
        stderr(&out).contains("one refresh token per user") && stderr(&out).contains("admin API"),
        "{}",
        stderr(&out)
    );
    let listed: serde_json::Value =
        serde_json::from_str(&cli.ok(&["accounts", "list", "--json"])?)?;
    assert_eq!(listed[0]["dialect"], "node-auth");

    // The same account again (removed first: it would be refused as watched already), with a
    // wrong code.
    let first = listed[0]["id"].as_str().unwrap_or_default().to_owned();
    cli.ok(&["accounts", "remove", &first])?;
    let wrong = cli.run(
        &[
            "accounts",
            "add",
            "--url",
            &url,
            "--login",
            warden_mock::DEMO_TOTP_LOGIN,
            "--label",
            "again",
            "--password-stdin",
        ],
        &format!("{}\n000000\n", warden_mock::DEMO_PASSWORD),
    )?;
    // 000000 is the right code once in a million; then this would pass by luck.
    if code != "000000" {
        assert_eq!(wrong.status.code(), Some(3), "{}", stderr(&wrong));
        assert!(
            stderr(&wrong).contains("code was not accepted"),
            "{}",
            stderr(&wrong)
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_prints_each_sign_in_and_history_exports_it() -> anyhow::Result<()> {
    use std::io::{BufRead, BufReader};

    let cli = Cli::start().await?;
    cli.add_demo()?;
    let mut watch = cli
        .desktop
        .command(&cli.binary)
        .args(["watch", "--json", "--interval", "1"])
        .env("WARDEN_HOME", &cli.home)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = watch
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let next_of = |kind: &str| -> anyhow::Result<serde_json::Value> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = lines_rx.recv_timeout(left)?;
            let event: serde_json::Value = serde_json::from_str(&line)?;
            if event["type"] == kind {
                return Ok(event);
            }
        }
    };
    next_of("listed")?;
    cli.mock
        .sign_in_device("curl/8.5.0", "203.0.113.77")
        .await?;
    let appeared = next_of("sessionAppeared")?;
    let _ = watch.kill();
    let _ = watch.wait();
    assert_eq!(appeared["session"]["ip"], "203.0.113.77");
    let reasons: Vec<&str> = appeared["findings"]
        .as_array()
        .map(|f| f.iter().filter_map(|f| f["reason"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        reasons.iter().any(|r| r.contains("never seen")),
        "{reasons:?}"
    );
    let csv = cli.ok(&["history", "--export", "csv"])?;
    assert!(csv.starts_with("seq,at,account,kind"), "{csv}");
    assert!(
        csv.contains(",appeared,") && csv.contains("203.0.113.77"),
        "{csv}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panic_signs_out_every_other_session_on_every_account() -> anyhow::Result<()> {
    let cli = Cli::start().await?;
    cli.add_demo()?;
    // A second person's account on RTC (the mock's users are shared by all four APIs).
    let control = cli.mock.server.control();
    control
        .create_user("eve@example.com", "eve-password")
        .await?;
    let rtc = cli
        .mock
        .server
        .api_url(warden_mock::Dialect::Rtc)
        .to_string();
    let out = cli.run(
        &[
            "accounts",
            "add",
            "--url",
            &rtc,
            "--dialect",
            "rtc",
            "--login",
            "eve@example.com",
            "--label",
            "eve on rtc",
            "--password-stdin",
        ],
        "eve-password\n",
    )?;
    assert!(out.status.success(), "{}", stderr(&out));
    for ip in ["198.51.100.1", "198.51.100.2"] {
        cli.mock.sign_in_device(FIREFOX_LINUX, ip).await?;
        control
            .sign_in_via(
                warden_mock::Dialect::Rtc,
                "eve@example.com",
                FIREFOX_LINUX,
                ip,
                None,
            )
            .await?;
    }
    let said = cli.ok(&["revoke", "--panic"])?;
    assert_eq!(said.matches("checked gone").count(), 2, "{said}");
    assert!(
        said.contains("signed out 2 other session(s) of demo"),
        "{said}"
    );
    assert!(
        said.contains("signed out 2 other session(s) of eve on rtc"),
        "{said}"
    );
    // Only Session Warden's own session remains on each account.
    assert_eq!(cli.mock.live_ids().await?.len(), 1);
    assert_eq!(control.live_ids("eve@example.com").await?.len(), 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_ip_databases_place_every_address_and_name_its_operator() -> anyhow::Result<()>
{
    // The databases the set-up installed beside the build, found by the binary on its own.
    // Google's public resolver and Cloudflare's are among the most stable facts they hold.
    let cli = Cli::start().await?;
    cli.add_demo()?;
    cli.mock.sign_in_device(FIREFOX_LINUX, "8.8.8.8").await?;
    cli.mock.sign_in_device(FIREFOX_LINUX, "1.1.1.1").await?;
    let sessions = cli.sessions()?;
    let by_ip = |ip: &str| {
        sessions
            .iter()
            .find(|s| s["ip"] == ip)
            .cloned()
            .unwrap_or_else(|| panic!("{ip} listed: {sessions:?}"))
    };
    let google = by_ip("8.8.8.8");
    assert!(
        google["location"]
            .as_str()
            .is_some_and(|l| l.ends_with(", US")),
        "{google}"
    );
    assert_eq!(google["operator"]["asn"], 15169, "{google}");
    let cloudflare = by_ip("1.1.1.1");
    assert_eq!(cloudflare["operator"]["asn"], 13335, "{cloudflare}");
    assert_eq!(cloudflare["operator"]["hosting"], true, "{cloudflare}");
    let table = cli.ok(&["sessions"])?;
    assert!(
        table.contains("WHERE") && table.contains("Google"),
        "{table}"
    );
    Ok(())
}

// --- A hostile server --------------------------------------------------------------------

/// What must never reach a terminal from a server: control characters (escape sequences),
/// bidi controls and invisible format characters.
fn first_unwanted(text: &str) -> Option<char> {
    text.chars().find(|&c| {
        (c.is_control() && c != '\n')
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
                | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{61c}')
    })
}

fn assert_clean(what: &str, out: &Output) {
    for (stream, text) in [
        ("stdout", String::from_utf8_lossy(&out.stdout)),
        ("stderr", String::from_utf8_lossy(&out.stderr)),
    ] {
        if let Some(c) = first_unwanted(&text) {
            panic!(
                "{what}: U+{:04X} reached {stream}: {text:.2000}",
                u32::from(c)
            );
        }
        for secret in [
            warden_tests::hostile::OUR_COOKIE,
            warden_tests::hostile::PHONE_COOKIE,
        ] {
            assert!(
                !text.contains(secret),
                "{what}: a session id in {stream}: {text:.2000}"
            );
        }
        assert!(!text.contains("panicked"), "{what}: {text:.2000}");
    }
    assert_ne!(out.status.code(), Some(101), "{what} panicked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_server_can_neither_fool_the_terminal_nor_panic_the_cli_nor_leak_an_id()
-> anyhow::Result<()> {
    use warden_tests::hostile::{Answer, Hostile};
    let cli = Cli::start().await?;
    let server = Hostile::start().await?;
    cli.add_hostile(&server, "hostile")?;

    server.answer(Answer::Sneaky);
    let plain = cli.run(&["sessions"], "")?;
    assert_clean("sessions", &plain);
    assert!(plain.status.success(), "{}", stderr(&plain));
    let table = String::from_utf8_lossy(&plain.stdout).into_owned();
    assert!(
        table.contains("=HYPERLINK"),
        "a claimed address is shown as text: {table}"
    );
    let json = cli.run(&["sessions", "--json"], "")?;
    assert_clean("sessions --json", &json);
    let listed: Vec<serde_json::Value> = serde_json::from_slice(&json.stdout)?;
    assert_eq!(
        listed.len(),
        5,
        "every row is listed, the repeated id too: {listed:#?}"
    );
    let current: Vec<&serde_json::Value> =
        listed.iter().filter(|s| s["isCurrent"] == true).collect();
    assert_eq!(
        current.len(),
        1,
        "three claim to be current; one is ours: {listed:#?}"
    );
    assert_eq!(current[0]["ip"], "127.0.0.1", "ours is the row with our id");
    let ids: std::collections::HashSet<&str> =
        listed.iter().filter_map(|s| s["id"].as_str()).collect();
    assert_eq!(
        ids.len(),
        5,
        "a repeated server id is two sessions, never one"
    );

    let id_of = |needle: &str| -> String {
        listed
            .iter()
            .find(|s| s["ip"].as_str().is_some_and(|ip| ip.contains(needle)))
            .and_then(|s| s["id"].as_str())
            .map(str::to_owned)
            .unwrap_or_default()
    };
    let dots = cli.run(&["revoke", &id_of("HYPERLINK")], "")?;
    assert_clean("revoke ..", &dots);
    assert_eq!(dots.status.code(), Some(6), "{}", stderr(&dots));
    assert!(
        stderr(&dots).contains("cannot name it in a URL"),
        "{}",
        stderr(&dots)
    );

    // The server drops the connection: reqwest's error holds the URL, and the URL the id,
    // which on hectoday is the phone's cookie.
    let dropped = cli.run(&["revoke", &id_of("198.51.100.20")], "")?;
    assert_clean("revoke, connection dropped", &dropped);
    assert!(!dropped.status.success());

    // Times no server means: every readable session is kept, the unreadable ones marked.
    server.answer(Answer::FarFuture);
    let far = cli.run(&["sessions"], "")?;
    assert_clean("sessions, year 262142 and 10000", &far);
    assert!(far.status.success(), "{}", stderr(&far));
    let table = String::from_utf8_lossy(&far.stdout);
    for device in [
        "Session Warden (this app)",
        "Safari on iOS",
        "Firefox on Linux",
    ] {
        assert!(table.contains(device), "{device} is listed: {table}");
    }
    assert!(
        table.contains("its last activity is in the year 262142; left out")
            && table.contains("its sign-in time is not a time; left out"),
        "each unreadable time is said with its session: {table}"
    );

    server.answer(Answer::RetryInThreeYears);
    let limited = cli.run(&["sessions"], "")?;
    assert_clean("sessions, 429", &limited);
    assert!(
        stderr(&limited).contains("it asks to wait 3 years"),
        "what the server asked, as it asked it: {}",
        stderr(&limited)
    );

    // A watcher, with notifications: what the strangers' sessions say reaches the desktop
    // clean; the 2 MB error goes in the history capped; the account is polled again.
    server.answer(Answer::Honest);
    let notifications = cli.desktop.watch_notifications()?;
    let watch = Watching::start(&cli, &["--notify"])?;
    let next_of = |kind: &str| -> anyhow::Result<String> {
        loop {
            let line = watch.out.recv_timeout(std::time::Duration::from_secs(20))?;
            assert!(first_unwanted(&line).is_none(), "{line:.500}");
            assert!(
                !line.contains(warden_tests::hostile::OUR_COOKIE),
                "{line:.500}"
            );
            if line.contains(&format!("\"type\":\"{kind}\"")) {
                return Ok(line);
            }
        }
    };
    next_of("listed")?;
    server.answer(Answer::Sneaky);
    next_of("sessionAppeared")?;
    // Which of a burst's sign-ins a notification names first depends on the order they are
    // judged in: wait for the account's, then look at every call made.
    notifications.wait_for(
        &["Suspicious sign-in on hostile"],
        std::time::Duration::from_secs(20),
    )?;
    let calls = notifications.text().replace('\n', " ");
    assert!(first_unwanted(&calls).is_none(), "{calls}");
    server.answer(Answer::HugeError);
    let stale = next_of("stale")?;
    assert!(
        stale.chars().count() < 800,
        "the error is capped: {stale:.800}"
    );
    server.answer(Answer::Honest);
    next_of("recovered")?;
    // Three years asked: the watcher says what was asked, and when it asks again (in the
    // person's time: this desktop's zone is UTC), waiting an hour at most.
    server.answer(Answer::RetryInThreeYears);
    let limited = next_of("stale")?;
    assert!(
        limited.contains("it asks to wait 3 years; Session Warden asks again after ")
            && limited.contains("(it waits 1 hour at most)"),
        "{limited:.800}"
    );
    server.answer(Answer::Honest);
    drop(watch);
    let history = cli.run(&["history"], "")?;
    assert_clean("history", &history);
    assert!(history.status.success(), "{}", stderr(&history));
    let csv = cli.run(&["history", "--export", "csv"], "")?;
    assert_clean("history csv", &csv);
    Ok(())
}

// --- The person's machine, transport and sign-in ------------------------------------------

/// Runs `args` and, once the mock has texted a code other than `before` to the demo phone,
/// types `typed(code)` on its standard input, as a person reading their phone would.
async fn run_answering_code(
    cli: &Cli,
    args: &[&str],
    before: Option<String>,
    typed: impl Fn(&str) -> String,
) -> anyhow::Result<(Output, String)> {
    let mut child = cli
        .desktop
        .command(&cli.binary)
        .args(args)
        .env("WARDEN_HOME", &cli.home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let code = warden_tests::wait::wait_until_async(
        "a code texted to the demo phone",
        std::time::Duration::from_secs(15),
        || async {
            let code = cli
                .mock
                .code_sent_to(warden_mock::DEMO_PHONE)
                .await
                .ok()
                .flatten()?;
            (Some(&code) != before.as_ref()).then_some(code)
        },
    )
    .await?;
    child
        .stdin
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdin"))?
        .write_all(typed(&code).as_bytes())?;
    Ok((child.wait_with_output()?, code))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secureauth_is_added_and_signed_in_again_with_a_piped_code() -> anyhow::Result<()> {
    let cli = Cli::start().await?;
    let url = cli.mock.url(warden_mock::Dialect::SecureAuth);
    let add = [
        "accounts",
        "add",
        "--url",
        &url,
        "--dialect",
        "secureauth",
        "--login",
        warden_mock::DEMO_PHONE,
        "--label",
        "phone",
        "--password-stdin",
    ];
    // A script that pipes an empty password line before the code is understood.
    let (added, first) = run_answering_code(&cli, &add, None, |code| format!("\n{code}\n")).await?;
    assert!(added.status.success(), "{}", stderr(&added));
    assert!(!stderr(&added).contains("SMS"), "{}", stderr(&added));
    let listed: serde_json::Value =
        serde_json::from_str(&cli.ok(&["accounts", "list", "--json"])?)?;
    let until = listed[0]["signedInUntil"].as_str().unwrap_or_default();
    assert!(!until.is_empty(), "our sign-in's end is known: {listed:#}");
    assert!(cli.ok(&["accounts", "list"])?.contains("SIGNED IN UNTIL"));

    let login = ["accounts", "login", "phone"];
    let (again, _) =
        run_answering_code(&cli, &login, Some(first), |code| format!("{code}\n")).await?;
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("signed in again"),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
    let ours = cli.mock.live_ids().await?;
    assert_eq!(
        ours.len(),
        1,
        "the session it replaced was signed out, leaving no trail: {ours:?}"
    );
    let sessions = cli.sessions()?;
    assert_eq!(
        sessions.iter().filter(|s| s["isCurrent"] == true).count(),
        1
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_in_a_url_and_plain_http_to_another_machine_are_refused_before_sending()
-> anyhow::Result<()> {
    let cli = Cli::start().await?;
    let with_password = cli
        .mock
        .hectoday_url()
        .replace("http://", "http://demo:pw-in-the-url-314@");
    let out = cli.run(
        &[
            "accounts",
            "add",
            "--url",
            &with_password,
            "--dialect",
            "hectoday",
            "--login",
            warden_mock::DEMO_LOGIN,
            "--password-stdin",
        ],
        &format!("{}\n", warden_mock::DEMO_PASSWORD),
    )?;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("user name or password"),
        "{}",
        stderr(&out)
    );
    assert!(
        !stderr(&out).contains("pw-in-the-url-314"),
        "{}",
        stderr(&out)
    );
    assert!(files_containing(cli.desktop.root(), b"pw-in-the-url-314").is_empty());
    assert!(
        cli.mock.live_ids().await?.is_empty(),
        "nothing was sent: no session opened"
    );

    // TEST-NET-1: were anything sent, it would fail as unreachable (exit 4), not as asked.
    let out = cli.run(
        &[
            "accounts",
            "add",
            "--url",
            "http://192.0.2.10/",
            "--dialect",
            "hectoday",
            "--login",
            "me@example.com",
            "--password-stdin",
        ],
        "secret\n",
    )?;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("plain http://") && stderr(&out).contains("--allow-plain-http"),
        "{}",
        stderr(&out)
    );
    assert!(cli.ok(&["accounts", "list"])?.contains("no accounts yet"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_ledger_is_named_kept_and_set_aside_only_when_asked() -> anyhow::Result<()> {
    let cli = Cli::start().await?;
    std::fs::create_dir_all(&cli.home)?;
    let ledger = cli.home.join("warden.db");
    let damage = b"not a database at all, a page of a diary".repeat(100);
    std::fs::write(&ledger, &damage)?;
    let out = cli.run(&["sessions"], "")?;
    assert_eq!(
        out.status.code(),
        Some(1),
        "storage, not bad input: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains(&ledger.display().to_string())
            && stderr(&out).contains("warden ledger recover"),
        "names the file and the way out: {}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(&ledger)?, damage, "never replaced silently");
    let recovered = cli.ok(&["ledger", "recover"])?;
    assert!(recovered.contains("warden.db.damaged"), "{recovered}");
    assert_eq!(std::fs::read(cli.home.join("warden.db.damaged"))?, damage);
    assert!(cli.ok(&["accounts", "list"])?.contains("no accounts yet"));
    // The damaged copy holds the same history: written open by someone else, it is closed.
    let open = warden_tests::open_to_others(&cli.home);
    assert!(open.is_empty(), "open to others: {open:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_home_and_every_file_in_it_are_the_person_s_alone_whatever_the_umask()
-> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let cli = Cli::start().await?;
    // A home an older version made open to every local user: closed at the first command.
    std::fs::set_permissions(&cli.home, std::fs::Permissions::from_mode(0o755))?;
    cli.add_demo()?;
    cli.mock
        .sign_in_device(FIREFOX_LINUX, "198.51.100.33")
        .await?;
    assert!(!cli.sessions()?.is_empty());
    // A watcher: the WAL files, the watch lock, an account's lock.
    let watching = Watching::start(&cli, &[])?;
    Watching::next(&watching.out, &["\"type\":\"listed\""])?;
    let open = warden_tests::open_to_others(&cli.home);
    assert!(
        open.is_empty(),
        "open to others (under umask 002): {open:?}"
    );
    let names: Vec<String> = std::fs::read_dir(&cli.home)?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().any(|n| n == "warden.db-wal") && names.iter().any(|n| n == "watch.lock"),
        "the files it checked: {names:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_an_account_without_a_keyring_says_so_and_removes_nothing() -> anyhow::Result<()> {
    let cli = Cli::start().await?;
    let id = cli.add_demo()?;
    let out = cli
        .desktop
        .command(&cli.binary)
        .args(["accounts", "remove", "demo"])
        .env("WARDEN_HOME", &cli.home)
        // No Secret Service to talk to.
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .output()?;
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("nothing was removed"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("removed demo"), "{}", stderr(&out));
    assert!(cli.ok(&["accounts", "list"])?.contains("demo"));
    assert_eq!(
        cli.keyring(&id, "password").as_deref(),
        Some(warden_mock::DEMO_PASSWORD)
    );
    Ok(())
}

/// Without IP databases no place rule can judge: `sessions` and `watch` say so, rather than
/// let silence pass for "all is well". With the shipped ones, nothing is said.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_ip_databases_is_said_not_passed_over() -> anyhow::Result<()> {
    let cli = Cli::start().await?;
    cli.add_demo()?;
    cli.mock
        .sign_in_device(FIREFOX_LINUX, "81.2.69.142")
        .await?;
    let shipped = cli.run(&["sessions"], "")?;
    assert!(shipped.status.success(), "{}", stderr(&shipped));
    assert!(
        !stderr(&shipped).contains("IP database"),
        "the build's databases are found: {}",
        stderr(&shipped)
    );
    let empty = cli.desktop.subdir("no-geoip")?;
    let empty = empty.display().to_string();
    let none = [("WARDEN_GEOIP_DIR", empty.as_str())];
    let out = cli.run_with(&["sessions"], "", &none)?;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with(
            "warden: No IP databases were found: no place or network is known for an address"
        ) && stderr(&out)
            .contains("a new country, impossible travel or a hosting network cannot be told"),
        "{}",
        stderr(&out)
    );
    // Said by `watch` too, at its start: waited for, never read blocking.
    let watch = Watching::start_with(&cli, &[], &none)?;
    Watching::next(&watch.err, &["warden: No IP databases were found"])?;
    Ok(())
}

/// A session the person revoked is not where they are: its place never becomes "where the
/// account was" for the travel rule (an intruder's home line in São Paulo, revoked, then the
/// person's own sign-in at a Berlin university a minute later, placed by the shipped data).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn travel_is_never_measured_from_a_session_revoked_here() -> anyhow::Result<()> {
    let cli = Cli::start().await?;
    cli.add_demo()?;
    // Signed in before the watching began: the first listing takes it for the person's.
    cli.mock
        .sign_in_device(warden_tests::mock::CHROME_WINDOWS, "189.100.20.3")
        .await?;
    let watch = Watching::start(&cli, &[])?;
    let listed = Watching::next(&watch.out, &["\"type\":\"listed\"", "189.100.20.3"])?;
    let listed: serde_json::Value = serde_json::from_str(&listed)?;
    let id = listed["snapshot"]["sessions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["ip"] == "189.100.20.3")
        .and_then(|s| s["id"].as_str())
        .ok_or_else(|| anyhow::anyhow!("the intruder listed: {listed}"))?;
    cli.ok(&["revoke", id])?;
    Watching::next(&watch.out, &["sessionEnded", "189.100.20.3"])?;
    cli.mock
        .sign_in_device(FIREFOX_LINUX, "130.149.7.201")
        .await?;
    let person = Watching::next(&watch.out, &["sessionAppeared", "130.149.7.201"])?;
    assert!(
        person.contains("Berlin"),
        "placed by the shipped data: {person}"
    );
    assert!(
        !person.contains("impossible-travel") && !person.contains("Sao Paulo"),
        "measured from the revoked intruder: {person}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_down_is_said_once_and_never_as_no_sessions() -> anyhow::Result<()> {
    use warden_tests::hostile::Hostile;
    let cli = Cli::start().await?;
    let server = Hostile::start().await?;
    let origin = server.url.as_str().trim_end_matches('/').to_owned();
    cli.add_hostile(&server, "gone")?;
    drop(server);
    let out = cli.run(&["sessions"], "")?;
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "",
        "no \"no sessions\": nobody looked"
    );
    assert_eq!(
        stderr(&out),
        format!(
            "warden: gone could not be listed: cannot reach {origin}: connection refused or no \
             route\n"
        )
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_account_down_never_hides_the_others_and_loopback_skips_proxies() -> anyhow::Result<()>
{
    use warden_tests::hostile::Hostile;
    let cli = Cli::start().await?;
    cli.add_demo()?;
    cli.mock
        .sign_in_device(FIREFOX_LINUX, "198.51.100.20")
        .await?;
    let server = Hostile::start().await?;
    cli.add_hostile(&server, "gone")?;
    drop(server);

    let out = cli.run(&["sessions", "--json"], "")?;
    assert_eq!(
        out.status.code(),
        Some(4),
        "the failure's own code: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("gone could not be listed"),
        "{}",
        stderr(&out)
    );
    let listed: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout)?;
    assert_eq!(
        listed.len(),
        2,
        "the healthy account is listed: {listed:#?}"
    );
    let id = listed
        .iter()
        .find(|s| s["ip"] == "198.51.100.20")
        .and_then(|s| s["id"].as_str())
        .ok_or_else(|| anyhow::anyhow!("the Firefox is listed"))?
        .to_owned();
    let revoked = cli.run(&["revoke", &id], "")?;
    assert!(
        revoked.status.success(),
        "found on the healthy account: {}",
        stderr(&revoked)
    );
    assert_eq!(cli.mock.live_ids().await?.len(), 1, "only ours is left");

    // A proxy in the environment (here a dead one) is for servers out there, not loopback.
    let out = cli
        .desktop
        .command(&cli.binary)
        .args(["sessions", "--account", "demo"])
        .env("WARDEN_HOME", &cli.home)
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("http_proxy", "http://127.0.0.1:9")
        .env("ALL_PROXY", "http://127.0.0.1:9")
        .env("NO_PROXY", "")
        .output()?;
    assert!(out.status.success(), "{}", stderr(&out));
    Ok(())
}

// --- One home, many processes -------------------------------------------------------------

/// The history's entries of `kind` about `ip`.
fn history_of(cli: &Cli, kind: &str, ip: &str) -> anyhow::Result<Vec<serde_json::Value>> {
    let all: Vec<serde_json::Value> =
        serde_json::from_str(&cli.ok(&["history", "--export", "json"])?)?;
    Ok(all
        .into_iter()
        .filter(|e| e["kind"] == kind && e["ip"] == ip)
        .collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_home_is_polled_by_one_process_and_every_process_records_the_same_truth()
-> anyhow::Result<()> {
    let cli = Cli::start().await?;
    cli.add_demo()?;

    // Nothing watching: what `sessions` and `revoke` see and do is in the history.
    cli.mock
        .sign_in_device(FIREFOX_LINUX, "198.51.100.31")
        .await?;
    cli.ok(&["sessions"])?;
    cli.mock
        .sign_in_device(FIREFOX_LINUX, "198.51.100.32")
        .await?;
    cli.ok(&["sessions"])?;
    assert_eq!(
        history_of(&cli, "appeared", "198.51.100.32")?.len(),
        1,
        "seen by `sessions`"
    );
    let listed = cli.sessions()?;
    let id_of = |listed: &[serde_json::Value], ip: &str| {
        listed
            .iter()
            .find(|s| s["ip"] == ip)
            .and_then(|s| s["id"].as_str())
            .map(str::to_owned)
            .unwrap_or_default()
    };
    cli.ok(&["revoke", &id_of(&listed, "198.51.100.31")])?;
    let ended = history_of(&cli, "ended", "198.51.100.31")?;
    assert_eq!(
        ended.len(),
        1,
        "ended by `revoke`, recorded once: {ended:#?}"
    );
    assert_eq!(ended[0]["detail"], "revoked here");

    // Two watchers on one home: the first polls; the second says who does and follows.
    let first = Watching::start(&cli, &[])?;
    Watching::next(&first.out, &["\"type\":\"listed\""])?;
    let second = Watching::start(&cli, &[])?;
    let said = Watching::next(&second.err, &["is watching this home"])?;
    assert!(said.contains("warden watch (pid"), "{said}");

    // Only one polls: four listings take at least three intervals (1 s, less 10% jitter).
    let control = cli.mock.server.control();
    let polls = || async {
        control
            .requests()
            .await
            .ok()
            .and_then(|r| r.get("GET /hectoday/me/sessions").copied())
    };
    let before = polls().await.unwrap_or_default();
    let started = std::time::Instant::now();
    warden_tests::wait::wait_until_async(
        "four more polls",
        std::time::Duration::from_secs(20),
        || async { polls().await.filter(|n| *n >= before + 4) },
    )
    .await?;
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(2500),
        "four polls in {:?}: more than one process polls",
        started.elapsed()
    );

    // A sign-in: printed once by each, recorded once.
    cli.mock
        .sign_in_device(FIREFOX_LINUX, "198.51.100.33")
        .await?;
    Watching::next(&first.out, &["sessionAppeared", "198.51.100.33"])?;
    Watching::next(&second.out, &["\"kind\":\"appeared\"", "198.51.100.33"])?;
    assert_eq!(history_of(&cli, "appeared", "198.51.100.33")?.len(), 1);

    // A revoke from a third process, while the first watches: "revoked here", once.
    let listed = cli.sessions()?;
    cli.ok(&["revoke", &id_of(&listed, "198.51.100.33")])?;
    let line = Watching::next(&first.out, &["sessionEnded", "198.51.100.33"])?;
    assert!(line.contains("\"how\":\"revokedHere\""), "{line}");
    Watching::next(&second.out, &["\"kind\":\"ended\"", "198.51.100.33"])?;
    let ended = history_of(&cli, "ended", "198.51.100.33")?;
    assert_eq!(ended.len(), 1, "{ended:#?}");
    assert_eq!(ended[0]["detail"], "revoked here");

    // The first stops: the second takes over and polls.
    drop(first);
    Watching::next(&second.err, &["watching from here"])?;
    cli.mock
        .sign_in_device(FIREFOX_LINUX, "198.51.100.34")
        .await?;
    Watching::next(&second.out, &["sessionAppeared", "198.51.100.34"])?;
    assert_eq!(history_of(&cli, "appeared", "198.51.100.34")?.len(), 1);
    Ok(())
}

/// node-auth rotates the refresh token on every use: two processes renewing at once would
/// spend it twice, and the loser would sign in again. Under the account's lock, the second
/// uses the token the first just stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_renewing_one_node_auth_token_spend_it_once() -> anyhow::Result<()> {
    let cli = Cli::start().await?;
    let added = cli.add_node_auth("node")?;
    assert!(added.status.success(), "{}", stderr(&added));
    let control = cli.mock.server.control();
    control.advance_clock("PT16M").await?;
    let spawn = || {
        cli.desktop
            .command(&cli.binary)
            .args(["sessions", "--account", "node"])
            .env("WARDEN_HOME", &cli.home)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
    };
    let (one, two) = (spawn()?, spawn()?);
    for out in [one.wait_with_output()?, two.wait_with_output()?] {
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let requests = control.requests().await?;
    let count = |route: &str| requests.get(route).copied().unwrap_or_default();
    assert_eq!(
        count("POST /node-auth/auth/login"),
        1,
        "signed in once, when added: {requests:?}"
    );
    assert_eq!(
        count("POST /node-auth/auth/refresh"),
        1,
        "renewed once: {requests:?}"
    );
    assert_eq!(
        cli.mock.live_ids().await?.len(),
        1,
        "one session of ours on the server"
    );
    Ok(())
}

/// A full disk is the machine's failure, not the person's input: the storage error, exit 1,
/// and nothing half-kept (the session the add opened is signed out again). The disk is a
/// small tmpfs mounted over the home inside a private mount namespace, gone with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_a_storage_error_and_exit_1() -> anyhow::Result<()> {
    let cli = Cli::start().await?;
    let root = std::process::Command::new("id").arg("-u").output()?;
    let unshare: &[&str] = if String::from_utf8_lossy(&root.stdout).trim() == "0" {
        &["--mount"]
    } else {
        &["--mount", "--map-root-user"]
    };
    let script = r#"
        set -e
        mount -t tmpfs -o size=512k tmpfs "$WARDEN_HOME"
        "$WARDEN" accounts list >/dev/null
        dd if=/dev/zero of="$WARDEN_HOME/filler" bs=4k 2>/dev/null || true
        printf '%s\n' "$PASSWORD" | "$WARDEN" accounts add --url "$URL" --dialect hectoday \
            --login "$LOGIN" --label demo --password-stdin
    "#;
    let out = cli
        .desktop
        .command("unshare")
        .args(unshare)
        .args(["sh", "-c", script])
        .env("WARDEN_HOME", &cli.home)
        .env("WARDEN", &cli.binary)
        .env("PASSWORD", warden_mock::DEMO_PASSWORD)
        .env("URL", cli.mock.hectoday_url())
        .env("LOGIN", warden_mock::DEMO_LOGIN)
        .output()?;
    assert_eq!(
        out.status.code(),
        Some(1),
        "storage, exit 1: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("the history database failed")
            && stderr(&out).contains(&cli.home.join("warden.db").display().to_string()),
        "names what failed: {}",
        stderr(&out)
    );
    assert!(
        cli.mock.live_ids().await?.is_empty(),
        "the session it opened is signed out again"
    );
    assert_eq!(
        cli.keyring_entries(),
        "",
        "and nothing is left in the keyring"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_takes_several_ids_and_the_idle_policy_is_previewed_before_it_is_on()
-> anyhow::Result<()> {
    let cli = Cli::start().await?;
    cli.add_demo()?;
    let a = cli
        .mock
        .sign_in_device(FIREFOX_LINUX, "203.0.113.31")
        .await?;
    let b = cli
        .mock
        .sign_in_device("curl/8.5.0", "203.0.113.32")
        .await?;
    let keep = cli
        .mock
        .sign_in_device("curl/8.5.0", "203.0.113.33")
        .await?;
    let sessions = cli.sessions()?;
    let id_at = |ip: &str| {
        sessions
            .iter()
            .find(|s| s["ip"] == ip)
            .and_then(|s| s["id"].as_str())
            .map(str::to_owned)
            .ok_or_else(|| anyhow::anyhow!("nothing from {ip}"))
    };
    let said = cli.ok(&["revoke", &id_at("203.0.113.31")?, &id_at("203.0.113.32")?])?;
    assert_eq!(said.matches("checked gone").count(), 2, "{said}");
    let live = cli.mock.live_ids().await?;
    assert!(!live.contains(&a) && !live.contains(&b) && live.contains(&keep));

    // A script must say --yes; what it would end is shown either way.
    let asked = cli.run(&["policy", "demo", "--idle", "1w"], "")?;
    assert_eq!(asked.status.code(), Some(2), "{}", stderr(&asked));
    assert!(String::from_utf8_lossy(&asked.stdout).contains("it would sign out nothing now"));
    assert!(stderr(&asked).contains("--yes"), "{}", stderr(&asked));
    assert!(cli.ok(&["policy", "demo"])?.contains(": off"));
    cli.ok(&["policy", "demo", "--idle", "1m", "--yes"])?;
    let shown = cli.ok(&["policy", "demo"])?;
    assert!(
        shown.contains("is: sign out sessions not used for over a month"),
        "{shown}"
    );
    cli.ok(&["policy", "demo", "--idle", "off"])?;
    assert!(cli.ok(&["policy", "demo"])?.contains(": off"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_defence_is_set_per_account_with_a_default_for_new_ones() -> anyhow::Result<()> {
    let cli = Cli::start().await?;
    cli.add_demo()?;
    // A new account signs out after a short wait, and says what that does.
    let shown = cli.ok(&["defence", "demo"])?;
    assert!(
        shown.contains("demo: Sign out after 2 minutes. A session that is surely not yours"),
        "{shown}"
    );
    assert!(
        cli.ok(&["defence", "demo", "--tell"])?
            .contains("demo: Tell me.")
    );
    assert!(
        cli.ok(&["defence", "demo", "--wait", "30s"])?
            .contains("Sign out after 30 seconds")
    );
    let silly = cli.run(&["defence", "demo", "--wait", "1s"], "")?;
    assert_eq!(silly.status.code(), Some(2), "{}", stderr(&silly));
    assert!(
        stderr(&silly).contains("between 10 seconds and 24 hours"),
        "{}",
        stderr(&silly)
    );
    let two = cli.run(&["defence", "demo", "--tell", "--at-once"], "")?;
    assert_eq!(two.status.code(), Some(2), "one choice at a time");

    // The default is for accounts added from now on; the ones there keep theirs.
    assert!(
        cli.ok(&["defence", "--default", "--at-once"])?
            .contains("accounts added from now on: Sign out at once")
    );
    let added = cli.add_node_auth("later")?;
    assert!(added.status.success(), "{}", stderr(&added));
    assert!(
        cli.ok(&["defence", "later"])?
            .contains("later: Sign out at once")
    );
    assert!(
        cli.ok(&["defence", "demo"])?
            .contains("demo: Sign out after 30 seconds")
    );

    // Nothing pending to cancel is said so, with the exit code of a session not found.
    let none = cli.run(&["defence", "--cancel", "0123456789abcdef"], "")?;
    assert_eq!(none.status.code(), Some(5), "{}", stderr(&none));
    assert!(
        stderr(&none).contains("no sign-out of it is pending"),
        "{}",
        stderr(&none)
    );
    Ok(())
}

// --- What real and hostile servers found, API by API -----------------------------------

mod hostile_apis {
    use super::*;
    use warden_tests::hostile::{
        Answer, Api, Hostile, INTRUDER_IP, OUR_COOKIE, OUR_TOKEN, PASSWORD, PHONE_COOKIE, PHONE_IP,
        PHONE_TOKEN,
    };

    /// A server listing an innocent phone and an intruder under one id: revoking either row
    /// is refused before anything is sent (it would end the first row with the id, and the
    /// check after would find the id's other row in its place), and says so before any
    /// warning; signing out all others ends both, checked row by row.
    async fn one_id_twice(api: Api) -> anyhow::Result<()> {
        let cli = Cli::start().await?;
        let server = Hostile::start_as(api).await?;
        cli.add_hostile(&server, "hostile")?;
        server.answer(Answer::OneIdTwice);
        let listed = cli.sessions()?;
        let id_at = |ip: &str| -> anyhow::Result<String> {
            listed
                .iter()
                .find(|s| s["ip"] == ip)
                .and_then(|s| s["id"].as_str())
                .map(str::to_owned)
                .ok_or_else(|| anyhow::anyhow!("no row at {ip}: {listed:#?}"))
        };
        for ip in [INTRUDER_IP, PHONE_IP] {
            let out = cli.run(&["revoke", &id_at(ip)?], "")?;
            assert_eq!(out.status.code(), Some(6), "{api:?}: {}", stderr(&out));
            assert_eq!(
                stderr(&out),
                "warden: the server lists 2 sessions under this one's id, so revoking it could \
                 end another of them (yours, perhaps) and leave this one signed in; Session \
                 Warden sent nothing. Sign out all other devices, or end it in the service's \
                 own settings\n",
                "{api:?}: refused before any warning or question"
            );
        }
        {
            let state = server.state();
            assert_eq!(state.revokes, 0, "{api:?}: nothing sent");
            assert!(state.innocent_alive && state.intruder_alive);
        }
        if api != Api::Hectoday {
            let out = cli.run(&["revoke", "--others", "--account", "hostile"], "")?;
            assert!(out.status.success(), "{api:?}: {}", stderr(&out));
            let state = server.state();
            assert!(
                !state.innocent_alive && !state.intruder_alive,
                "{api:?}: both ended"
            );
        }
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_id_twice_hectoday() -> anyhow::Result<()> {
        one_id_twice(Api::Hectoday).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_id_twice_better_auth() -> anyhow::Result<()> {
        one_id_twice(Api::BetterAuth).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_id_twice_matrix() -> anyhow::Result<()> {
        one_id_twice(Api::Matrix).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_id_twice_allauth() -> anyhow::Result<()> {
        one_id_twice(Api::Allauth).await
    }

    /// The secrets Session Warden knows on this API from its first call: the password and
    /// our token.
    fn own_secrets(api: Api) -> Vec<&'static str> {
        match api {
            Api::Hectoday => vec![PASSWORD, OUR_COOKIE],
            _ => vec![PASSWORD, OUR_TOKEN],
        }
    }

    /// The tokens of other sessions the API hands out in its listing, known to a process
    /// from its first listing on (they are never written anywhere).
    fn handed_out(api: Api) -> Vec<&'static str> {
        match api {
            Api::Hectoday => vec![PHONE_COOKIE],
            Api::BetterAuth => vec![PHONE_TOKEN],
            Api::Matrix | Api::Allauth => vec![],
        }
    }

    /// A server quoting secrets back in its errors: `sessions`, `watch`, `revoke`, the
    /// history and its export never repeat one, and no file of the home holds one.
    async fn secrets_quoted_back(api: Api) -> anyhow::Result<()> {
        let cli = Cli::start().await?;
        let server = Hostile::start_as(api).await?;
        cli.add_hostile(&server, "hostile")?;
        let phone = cli
            .sessions()?
            .into_iter()
            .find(|s| s["ip"] == PHONE_IP)
            .and_then(|s| s["id"].as_str().map(str::to_owned))
            .ok_or_else(|| anyhow::anyhow!("the phone is listed"))?;
        let check = |text: &str, secrets: &[&str]| {
            for secret in secrets {
                assert!(!text.contains(secret), "{api:?}: {secret} in {text}");
            }
        };
        let everything: Vec<&str> = own_secrets(api)
            .into_iter()
            .chain(handed_out(api))
            .collect();

        // A one-off look whose listing fails knows the password and our token.
        server.answer(Answer::QuotesSecrets);
        let listing = cli.run(&["sessions"], "")?;
        assert_eq!(listing.status.code(), Some(1), "{}", stderr(&listing));
        assert!(
            stderr(&listing).contains("[hidden]"),
            "{}",
            stderr(&listing)
        );
        check(&stderr(&listing), &own_secrets(api));

        // A watcher that listed once knows the other sessions' tokens too.
        server.answer(Answer::Honest);
        {
            let watch = Watching::start(&cli, &[])?;
            Watching::next(&watch.out, &["\"type\":\"listed\""])?;
            server.answer(Answer::QuotesSecrets);
            check(&Watching::next(&watch.out, &["\"stale\""])?, &everything);
            check(&Watching::next(&watch.err, &["poll failed"])?, &everything);
        }

        // A revoke lists first, then is refused in words quoting everything.
        server.answer(Answer::RevokeQuotesSecrets);
        let revoke = cli.run(&["revoke", &phone], "")?;
        assert!(!revoke.status.success(), "{}", stderr(&revoke));
        assert!(stderr(&revoke).contains("[hidden]"), "{}", stderr(&revoke));
        check(&stderr(&revoke), &everything);
        for args in [
            &["history", "--export", "json"][..],
            &["history", "--export", "csv"],
            &["history"],
        ] {
            check(&cli.ok(args)?, &everything);
        }
        for secret in everything {
            let files = files_containing(&cli.home, secret.as_bytes());
            assert!(files.is_empty(), "{api:?}: {secret} in {files:?}");
        }
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn secrets_quoted_back_hectoday() -> anyhow::Result<()> {
        secrets_quoted_back(Api::Hectoday).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn secrets_quoted_back_better_auth() -> anyhow::Result<()> {
        secrets_quoted_back(Api::BetterAuth).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn secrets_quoted_back_matrix() -> anyhow::Result<()> {
        secrets_quoted_back(Api::Matrix).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn secrets_quoted_back_allauth() -> anyhow::Result<()> {
        secrets_quoted_back(Api::Allauth).await
    }

    /// A server that renames its sessions at every listing: the history stays bounded (the
    /// README's rule), and says what it removed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_history_stays_bounded_whatever_a_server_lists() -> anyhow::Result<()> {
        use warden_core::ledger::retention::{ENDED_PER_ACCOUNT, EVENTS_PER_ACCOUNT};
        let cli = Cli::start().await?;
        let server = Hostile::start().await?;
        cli.add_hostile(&server, "renaming")?;
        server.answer(Answer::Renaming);
        let renamed = warden_tests::hostile::RENAMED as i64;
        // Each look after the first finds every session under a new id: the rows of the old
        // ids are over, the new ones live.
        let looks = ENDED_PER_ACCOUNT / renamed + 2;
        for _ in 0..looks {
            let out = cli.run(&["sessions", "--json"], "")?;
            assert!(out.status.success(), "{}", stderr(&out));
        }
        let history: Vec<serde_json::Value> =
            serde_json::from_str(&cli.ok(&["history", "--export", "json"])?)?;
        let timeline = history.iter().filter(|e| e["kind"] != "trimmed").count();
        assert!(
            timeline as i64 <= EVENTS_PER_ACCOUNT,
            "{timeline} entries kept after {looks} looks"
        );
        let note: Vec<&serde_json::Value> =
            history.iter().filter(|e| e["kind"] == "trimmed").collect();
        assert_eq!(note.len(), 1, "one note of what went");
        assert!(
            note[0]["detail"]
                .as_str()
                .is_some_and(|d| d.contains("to keep the history bounded")),
            "{}",
            note[0]
        );
        let ended: Vec<serde_json::Value> =
            serde_json::from_str(&cli.ok(&["sessions", "--all", "--json"])?)?;
        assert!(
            ended.len() as i64 <= ENDED_PER_ACCOUNT + 2 * renamed + 1,
            "{} sessions kept",
            ended.len()
        );
        let size = std::fs::metadata(cli.home.join("warden.db"))?.len()
            + std::fs::metadata(cli.home.join("warden.db-wal")).map_or(0, |m| m.len());
        println!("{looks} looks of {renamed} renamed sessions: the ledger is {size} bytes");
        Ok(())
    }

    /// Thousands of headers: a server reached that answers what no client reads, not one
    /// out of reach (exit 1, not 4).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_answer_too_large_is_a_bad_answer_not_an_unreachable_server() -> anyhow::Result<()> {
        let cli = Cli::start().await?;
        for api in [Api::Hectoday, Api::BetterAuth, Api::Matrix, Api::Allauth] {
            let server = Hostile::start_as(api).await?;
            let label = api.dialect();
            cli.add_hostile(&server, label)?;
            server.answer(Answer::HugeHeaders);
            let out = cli.run(&["sessions", "--account", label], "")?;
            assert_eq!(out.status.code(), Some(1), "{api:?}: {}", stderr(&out));
            assert_eq!(
                stderr(&out),
                format!(
                    "warden: {label} could not be listed: the server's answer could not be \
                     understood: its headers are larger than any session API sends (a broken \
                     or hostile server)\n"
                ),
                "{api:?}"
            );
        }
        Ok(())
    }

    /// A wrong API, or allauth's API address pasted for the site's: said in our words, never
    /// the server's web page.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_wrong_api_or_address_is_said_in_our_words() -> anyhow::Result<()> {
        let cli = Cli::start().await?;
        let server = Hostile::start_as(Api::Hectoday).await?;
        let url = server.url.as_str();
        let wrong = cli.add_to(&server, url, "allauth", PASSWORD, "wrong api")?;
        assert_eq!(wrong.status.code(), Some(2), "{}", stderr(&wrong));
        assert_eq!(
            stderr(&wrong),
            format!(
                "warden: {url} has no django-allauth sign-in (it answered 404): check the \
                 address, or let `--dialect auto` (Auto in the window) find the API\n"
            )
        );
        let allauth = Hostile::start_as(Api::Allauth).await?;
        let api_url = format!("{}_allauth/app/v1/", allauth.url);
        let pasted = cli.add_to(&allauth, &api_url, "allauth", PASSWORD, "pasted")?;
        assert_eq!(pasted.status.code(), Some(2), "{}", stderr(&pasted));
        let site = allauth.url.as_str().trim_end_matches('/');
        assert_eq!(
            stderr(&pasted),
            format!(
                "warden: {api_url} has no django-allauth sign-in (it answered 404): give the \
                 site's own address ({site}), not its API's\n"
            )
        );
        assert!(cli.ok(&["accounts", "list"])?.contains("no accounts yet"));
        Ok(())
    }

    /// Matrix: a wrong password in words that fit a Matrix user; revoking our own device is
    /// refused before the encryption-key warning, which only a revoke that may go ahead
    /// needs.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn matrix_is_told_in_matrix_words() -> anyhow::Result<()> {
        let cli = Cli::start().await?;
        let server = Hostile::start_as(Api::Matrix).await?;
        let wrong = cli.add_to(&server, server.url.as_str(), "matrix", "not-it", "chat")?;
        assert_eq!(wrong.status.code(), Some(3), "{}", stderr(&wrong));
        assert_eq!(
            stderr(&wrong),
            "warden: the server rejected the sign-in of me: a wrong password, or no such account\n"
        );
        cli.add_hostile(&server, "chat")?;
        let ours = cli
            .sessions()?
            .into_iter()
            .find(|s| s["isCurrent"] == true)
            .and_then(|s| s["id"].as_str().map(str::to_owned))
            .ok_or_else(|| anyhow::anyhow!("our device is listed"))?;
        let own = cli.run(&["revoke", &ours], "")?;
        assert_eq!(own.status.code(), Some(6), "{}", stderr(&own));
        assert!(
            stderr(&own).starts_with("warden: Session Warden did not send this")
                && !stderr(&own).contains("encryption"),
            "{}",
            stderr(&own)
        );
        let phone = cli
            .sessions()?
            .into_iter()
            .find(|s| s["ip"] == PHONE_IP)
            .and_then(|s| s["id"].as_str().map(str::to_owned))
            .ok_or_else(|| anyhow::anyhow!("the phone is listed"))?;
        let revoked = cli.run(&["revoke", &phone], "")?;
        assert!(revoked.status.success(), "{}", stderr(&revoked));
        assert!(
            stderr(&revoked).contains("encryption keys"),
            "{}",
            stderr(&revoked)
        );
        Ok(())
    }
}

/// Home Assistant from the terminal: found by `--dialect auto`, its tokens listed as the
/// apps and sites that made them with what HA does not keep said, one revoked, the others
/// signed out with a long-lived token left be, and no token in any file of the home.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn home_assistant_from_the_terminal() -> anyhow::Result<()> {
    use warden_mock::Dialect;
    use warden_mock::home_assistant::{ANDROID_APP, IOS_APP};
    let cli = Cli::start().await?;
    let url = cli.mock.url(Dialect::HomeAssistant);
    let control = cli.mock.server.control();
    let wrong = cli.run(
        &[
            "accounts",
            "add",
            "--url",
            &url,
            "--login",
            "demo",
            "--label",
            "home",
            "--password-stdin",
        ],
        "not-it\n",
    )?;
    assert_eq!(wrong.status.code(), Some(3), "{}", stderr(&wrong));
    let added = cli.run(
        &[
            "accounts",
            "add",
            "--url",
            &url,
            "--login",
            "demo",
            "--label",
            "home",
            "--password-stdin",
        ],
        &format!("{}\n", warden_mock::DEMO_PASSWORD),
    )?;
    assert!(added.status.success(), "{}", stderr(&added));
    assert!(
        stderr(&added).contains("speaks home-assistant"),
        "{}",
        stderr(&added)
    );
    let phone = control
        .sign_in_via(
            Dialect::HomeAssistant,
            warden_mock::DEMO_LOGIN,
            IOS_APP,
            "198.51.100.20",
            None,
        )
        .await?
        .id;
    control
        .sign_in_via(
            Dialect::HomeAssistant,
            warden_mock::DEMO_LOGIN,
            ANDROID_APP,
            "198.51.100.21",
            None,
        )
        .await?;
    let integration = control
        .long_lived_token(warden_mock::DEMO_LOGIN, "Node-RED")
        .await?;
    let table = cli.run(&["sessions"], "")?;
    assert!(table.status.success(), "{}", stderr(&table));
    let shown = String::from_utf8_lossy(&table.stdout).into_owned();
    for device in [
        "Home Assistant app on iOS",
        "Home Assistant app on Android",
        "Long-lived token · Node-RED",
        "Session Warden (this app)",
    ] {
        assert!(shown.contains(device), "{device} in {shown}");
    }
    assert!(
        stderr(&table).contains("home: Home Assistant keeps no browser or system"),
        "{}",
        stderr(&table)
    );
    let id_of = |label: &str| -> anyhow::Result<String> {
        cli.sessions()?
            .into_iter()
            .find(|s| s["device"]["label"] == label)
            .and_then(|s| s["id"].as_str().map(str::to_owned))
            .ok_or_else(|| anyhow::anyhow!("{label} is listed"))
    };
    cli.ok(&["revoke", &id_of("Home Assistant app on iOS")?])?;
    assert!(
        !control
            .live_ids(warden_mock::DEMO_LOGIN)
            .await?
            .contains(&phone)
    );
    let others = cli.ok(&["revoke", "--others", "--account", "home"])?;
    assert!(others.contains("signed out 1 other session"), "{others}");
    let live = control.live_ids(warden_mock::DEMO_LOGIN).await?;
    assert!(
        live.contains(&integration),
        "the long-lived token is left be"
    );
    // Neither our refresh token nor an access token is in any file.
    let stored = cli
        .keyring(listed_id(&cli)?.as_str(), "session")
        .ok_or_else(|| anyhow::anyhow!("our tokens are in the keyring"))?;
    let parts: Vec<&str> = stored.lines().filter(|p| p.len() > 20).collect();
    assert_eq!(parts.len(), 2, "a refresh and an access token");
    for part in parts {
        let leaks = warden_tests::files_containing(&cli.home, part.as_bytes());
        assert!(leaks.is_empty(), "a token is in {leaks:?}");
    }
    Ok(())
}

/// The one account's id, as `accounts list --json` says it.
fn listed_id(cli: &Cli) -> anyhow::Result<String> {
    let listed: Vec<serde_json::Value> =
        serde_json::from_str(&cli.ok(&["accounts", "list", "--json"])?)?;
    listed
        .first()
        .and_then(|a| a["id"].as_str().map(str::to_owned))
        .ok_or_else(|| anyhow::anyhow!("an account"))
}
