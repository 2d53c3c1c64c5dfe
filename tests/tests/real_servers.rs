//! `warden` against the real servers of the APIs published on package registries: an app
//! on `better-auth` (npm), a Synapse homeserver and a django-allauth site (PyPI), each
//! started here from what `cargo xtask setup` installed (tests/src/real).

use std::process::Output;
use std::time::Duration;

use warden_tests::cli::{Warden, Watching};
use warden_tests::real::{allauth::Allauth, better_auth::BetterAuth, synapse::Synapse};

use warden_tests::{files_containing, wait_until};

const FIREFOX: &str = warden_mock::agents::FIREFOX_LINUX;
const IPHONE: &str = warden_mock::agents::SAFARI_IPHONE;
const WINDOWS_EDGE: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0";
const EMAIL: &str = "alice@example.com";
const PASSWORD: &str = "correct-horse-battery";

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `warden accounts add`, labelled by the login, typing `typed` (the password, then any
/// code, a line each).
fn add(
    warden: &Warden,
    url: &str,
    dialect: &str,
    login: &str,
    typed: &str,
) -> anyhow::Result<Output> {
    warden.run(
        &[
            "accounts",
            "add",
            "--url",
            url,
            "--dialect",
            dialect,
            "--login",
            login,
            "--label",
            login,
            "--password-stdin",
        ],
        typed,
    )
}

fn added(out: Output) -> anyhow::Result<()> {
    anyhow::ensure!(out.status.success(), "not added: {}", stderr(&out));
    Ok(())
}

/// The listed session from `ip`.
fn at(sessions: &[serde_json::Value], ip: &str) -> anyhow::Result<serde_json::Value> {
    sessions
        .iter()
        .find(|s| s["ip"] == ip)
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("nothing from {ip} in {sessions:#?}"))
}

/// The sessions once every one of `ips` is listed (Synapse writes addresses in batches).
fn sessions_with(warden: &Warden, ips: &[&str]) -> anyhow::Result<Vec<serde_json::Value>> {
    wait_until("every device listed", Duration::from_secs(30), || {
        let sessions = warden.sessions().ok()?;
        ips.iter()
            .all(|ip| sessions.iter().any(|s| s["ip"] == *ip))
            .then_some(sessions)
    })
}

fn id(session: &serde_json::Value) -> String {
    session["id"].as_str().unwrap_or_default().to_owned()
}

/// A new sign-in (`sign_in`, run once `watch --json` has listed) is reported by the watch
/// within its interval (and a few polls), and the history keeps it with the revocations.
fn a_new_sign_in_is_watched_and_kept<T>(
    warden: &Warden,
    sign_in: impl std::future::Future<Output = anyhow::Result<T>>,
    ip: &str,
) -> anyhow::Result<()> {
    let watching = Watching::start(warden, &[])?;
    Watching::next(&watching.out, &["\"listed\""])?;
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(sign_in))?;
    Watching::next_within(
        &watching.out,
        &["sessionAppeared", ip],
        Duration::from_secs(30),
    )?;
    drop(watching);
    let history: Vec<serde_json::Value> =
        serde_json::from_str(&warden.ok(&["history", "--export", "json"])?)?;
    anyhow::ensure!(
        history
            .iter()
            .any(|e| e["kind"] == "appeared" && e["ip"] == ip),
        "the history lacks the sign-in from {ip}: {history:#?}"
    );
    anyhow::ensure!(
        history
            .iter()
            .any(|e| e["kind"] == "ended" && e["detail"] == "revoked here"),
        "the history lacks the revocations: {history:#?}"
    );
    Ok(())
}

// --- Better Auth ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn better_auth_real_server_from_sign_in_to_sign_out_without_a_token_leaking()
-> anyhow::Result<()> {
    let server = BetterAuth::start(None).await?;
    let warden = Warden::start()?;
    server.create_user(EMAIL, PASSWORD, false).await?;
    let url = server.url.clone();

    let wrong = add(&warden, &url, "better-auth", EMAIL, "not-it\n")?;
    assert_eq!(wrong.status.code(), Some(3), "{}", stderr(&wrong));
    let out = add(&warden, &url, "auto", EMAIL, &format!("{PASSWORD}\n"))?;
    added(out)?;

    let phone = server
        .sign_in_device(EMAIL, PASSWORD, IPHONE, "198.51.100.10")
        .await?;
    let laptop = server
        .sign_in_device(EMAIL, PASSWORD, FIREFOX, "198.51.100.11")
        .await?;
    server
        .sign_in_device(EMAIL, PASSWORD, WINDOWS_EDGE, "198.51.100.12")
        .await?;
    let sessions = sessions_with(
        &warden,
        &["198.51.100.10", "198.51.100.11", "198.51.100.12"],
    )?;
    assert_eq!(sessions.len(), 4, "{sessions:#?}");
    assert_eq!(
        sessions.iter().filter(|s| s["isCurrent"] == true).count(),
        1
    );
    // Signed in until what the real server says of our session.
    let ours = sessions
        .iter()
        .find(|s| s["isCurrent"] == true)
        .ok_or_else(|| anyhow::anyhow!("ours is listed"))?;
    let accounts: Vec<serde_json::Value> =
        serde_json::from_str(&warden.ok(&["accounts", "list", "--json"])?)?;
    assert!(ours["expiresAt"].is_string(), "{ours}");
    assert_eq!(
        accounts[0]["signedInUntil"], ours["expiresAt"],
        "{accounts:#?}"
    );
    let iphone = at(&sessions, "198.51.100.10")?;
    assert_eq!(iphone["device"]["kind"], "mobile", "{iphone}");
    assert_eq!(iphone["device"]["os"], "iOS", "{iphone}");
    let edge = at(&sessions, "198.51.100.12")?;
    assert_eq!(edge["device"]["os"], "Windows", "{edge}");

    warden.ok(&["revoke", &id(&iphone)])?;
    assert!(
        !server.knows(&phone).await?,
        "the phone's token still works"
    );
    assert!(server.knows(&laptop).await?, "only the one named ends");
    warden.ok(&["revoke", "--others"])?;
    assert!(!server.knows(&laptop).await?);
    a_new_sign_in_is_watched_and_kept(
        &warden,
        server.sign_in_device(EMAIL, PASSWORD, FIREFOX, "198.51.100.13"),
        "198.51.100.13",
    )?;

    // Every session's live token is in the server's answers: none may be anywhere of ours.
    let traced = warden.run_with(&["sessions", "--json"], "", &[("WARDEN_LOG", "trace")])?;
    let exported = warden.ok(&["history", "--export", "json"])?;
    let csv = warden.ok(&["history", "--export", "csv"])?;
    for session in server.sessions().await? {
        let token = session["token"].as_str().unwrap_or_default();
        assert!(token.len() >= 16, "{session}");
        assert!(
            files_containing(&warden.home, token.as_bytes()).is_empty(),
            "a session token is in a file of the home"
        );
        for text in [
            String::from_utf8_lossy(&traced.stdout).into_owned(),
            stderr(&traced),
            exported.clone(),
            csv.clone(),
        ] {
            assert!(
                !text.contains(token),
                "a session token reached the output or a log line"
            );
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn better_auth_real_server_two_factor_and_short_freshness_never_pile_up_our_sessions()
-> anyhow::Result<()> {
    // Freshness forced down to 2 s: a listing past it means signing in again.
    let server = BetterAuth::start(Some(2)).await?;
    let warden = Warden::start()?;
    let alice = server.create_user(EMAIL, PASSWORD, true).await?;
    let secret = alice
        .totp_secret
        .clone()
        .ok_or_else(|| anyhow::anyhow!("no TOTP secret"))?;
    let wrong_code = add(
        &warden,
        &server.url,
        "better-auth",
        EMAIL,
        &format!("{PASSWORD}\n000000\n"),
    )?;
    assert_eq!(wrong_code.status.code(), Some(3), "{}", stderr(&wrong_code));
    let code = warden_mock::totp::code_at(&secret, chrono::Utc::now()).unwrap_or_default();
    added(add(
        &warden,
        &server.url,
        "better-auth",
        EMAIL,
        &format!("{PASSWORD}\n{code}\n"),
    )?)?;
    let bob_email = "bob@example.com";
    let bob = server.create_user(bob_email, PASSWORD, false).await?;
    added(add(
        &warden,
        &server.url,
        "better-auth",
        bob_email,
        &format!("{PASSWORD}\n"),
    )?)?;

    // Ten seconds of watching every second: bob's session goes stale four times over. At
    // no moment does either account hold two sessions of ours.
    let watching = Watching::start(&warden, &[])?;
    let until = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut most = 0;
    while tokio::time::Instant::now() < until {
        most = most.max(server.sessions_of_ours(&bob).await?);
        assert!(
            server.sessions_of_ours(&alice).await? <= 1,
            "alice's pile up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(most <= 1, "bob's sessions of ours piled up to {most}");
    // The two-factor account cannot sign in again alone, and says so.
    Watching::next(&watching.err, &["code"])?;
    drop(watching);
    // Bob's account signs in again by itself whenever it is asked, from another process,
    // and knows its session. (The watch was killed at an arbitrary instant: had it been
    // between the server opening a session and the keyring keeping its token, that one
    // session is left behind, since nothing ever held its token; hence "at most two" here.)
    let listed: Vec<serde_json::Value> =
        serde_json::from_str(&warden.ok(&["sessions", "--account", bob_email, "--json"])?)?;
    assert_eq!(
        listed.iter().filter(|s| s["isCurrent"] == true).count(),
        1,
        "{listed:#?}"
    );
    assert!(server.sessions_of_ours(&bob).await? <= 2);
    Ok(())
}

// --- Matrix (Synapse) --------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matrix_real_synapse_devices_signed_out_with_the_password_asked_again() -> anyhow::Result<()>
{
    let server = Synapse::start().await?;
    let warden = Warden::start()?;
    server.register("alice", PASSWORD).await?;
    let wrong = add(&warden, &server.url, "matrix", "alice", "not-it\n")?;
    assert_eq!(wrong.status.code(), Some(3), "{}", stderr(&wrong));
    added(add(
        &warden,
        &server.url,
        "auto",
        "@alice:localhost",
        &format!("{PASSWORD}\n"),
    )?)?;

    let phone = server
        .sign_in_device("alice", PASSWORD, "Element iOS", "198.51.100.20")
        .await?;
    let laptop = server
        .sign_in_device("alice", PASSWORD, "Element Desktop: Linux", "198.51.100.21")
        .await?;
    server
        .sign_in_device("alice", PASSWORD, "Element Android", "198.51.100.22")
        .await?;
    let sessions = sessions_with(
        &warden,
        &["198.51.100.20", "198.51.100.21", "198.51.100.22"],
    )?;
    assert_eq!(sessions.len(), 4, "{sessions:#?}");
    let ours = sessions
        .iter()
        .find(|s| s["isCurrent"] == true)
        .ok_or_else(|| anyhow::anyhow!("ours"))?;
    assert_eq!(ours["device"]["label"], "Session Warden");
    assert_eq!(at(&sessions, "198.51.100.21")?["device"]["os"], "Linux");
    assert_eq!(
        at(&sessions, "198.51.100.22")?["device"]["label"],
        "Element Android"
    );

    warden.ok(&["revoke", &id(&at(&sessions, "198.51.100.20")?)])?;
    assert_eq!(
        server.refusal(&phone).await?.as_deref(),
        Some("M_UNKNOWN_TOKEN")
    );
    assert_eq!(
        server.refusal(&laptop).await?,
        None,
        "only the one named ends"
    );

    // The password changed elsewhere: signing a device out is refused, and says why.
    let keyring_password = warden
        .keyring(&account_id(&warden)?, "password")
        .ok_or_else(|| anyhow::anyhow!("no password in the keyring"))?;
    assert_eq!(keyring_password, PASSWORD);
    warden.desktop.run_with_stdin(
        "secret-tool",
        &[
            "store",
            "--label",
            "test",
            "service",
            "session-warden",
            "username",
            &format!("{}/password", account_id(&warden)?),
        ],
        "an-old-password",
    )?;
    let refused = warden.run(&["revoke", &id(&at(&sessions, "198.51.100.21")?)], "")?;
    assert_eq!(refused.status.code(), Some(3), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("password again"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(server.refusal(&laptop).await?, None, "nothing ended");
    warden.desktop.run_with_stdin(
        "secret-tool",
        &[
            "store",
            "--label",
            "test",
            "service",
            "session-warden",
            "username",
            &format!("{}/password", account_id(&warden)?),
        ],
        PASSWORD,
    )?;

    warden.ok(&["revoke", "--others"])?;
    assert_eq!(
        server.refusal(&laptop).await?.as_deref(),
        Some("M_UNKNOWN_TOKEN")
    );
    a_new_sign_in_is_watched_and_kept(
        &warden,
        server.sign_in_device("alice", PASSWORD, "Element Web", "198.51.100.23"),
        "198.51.100.23",
    )
}

fn account_id(warden: &Warden) -> anyhow::Result<String> {
    let accounts: Vec<serde_json::Value> =
        serde_json::from_str(&warden.ok(&["accounts", "list", "--json"])?)?;
    accounts
        .first()
        .and_then(|a| a["id"].as_str())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no account"))
}

// --- django-allauth --------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allauth_real_site_sessions_listed_and_ended_through_the_app_client() -> anyhow::Result<()>
{
    let server = Allauth::start().await?;
    let warden = Warden::start()?;
    server.create_user(EMAIL, PASSWORD, None)?;
    let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    let carol = "carol@example.com";
    server.create_user(carol, PASSWORD, Some(secret))?;

    let wrong = add(&warden, &server.url, "allauth", EMAIL, "not-it\n")?;
    assert_eq!(wrong.status.code(), Some(3), "{}", stderr(&wrong));
    added(add(
        &warden,
        &server.url,
        "auto",
        EMAIL,
        &format!("{PASSWORD}\n"),
    )?)?;
    let code = warden_mock::totp::code_at(secret, chrono::Utc::now()).unwrap_or_default();
    added(add(
        &warden,
        &server.url,
        "allauth",
        carol,
        &format!("{PASSWORD}\n{code}\n"),
    )?)?;

    let phone = server
        .sign_in_device(EMAIL, PASSWORD, IPHONE, "198.51.100.30")
        .await?;
    let laptop = server
        .sign_in_device(EMAIL, PASSWORD, FIREFOX, "198.51.100.31")
        .await?;
    server
        .sign_in_device(EMAIL, PASSWORD, WINDOWS_EDGE, "198.51.100.32")
        .await?;
    let sessions = sessions_with(
        &warden,
        &["198.51.100.30", "198.51.100.31", "198.51.100.32"],
    )?;
    let iphone = at(&sessions, "198.51.100.30")?;
    assert_eq!(iphone["device"]["os"], "iOS", "{iphone}");
    assert_eq!(
        at(&sessions, "198.51.100.31")?["device"]["browser"],
        "Firefox"
    );

    warden.ok(&["revoke", &id(&iphone)])?;
    assert_eq!(
        server.status_of(&phone).await?,
        410,
        "the site no longer knows it"
    );
    assert_eq!(server.status_of(&laptop).await?, 200);
    warden.ok(&["revoke", "--others", "--account", EMAIL])?;
    assert_eq!(server.status_of(&laptop).await?, 410);
    a_new_sign_in_is_watched_and_kept(
        &warden,
        server.sign_in_device(EMAIL, PASSWORD, FIREFOX, "198.51.100.33"),
        "198.51.100.33",
    )
}

// --- Home Assistant ------------------------------------------------------------------------

const HA_IOS: &str = "https://home-assistant.io/iOS";
const HA_ANDROID: &str = "https://home-assistant.io/android";

/// The real Home Assistant, banning an address at its first failed login
/// (`login_attempts_threshold: 1`, the strictest there is): Session Warden signs in, lists
/// three devices with their own addresses, revokes one (HA then refuses its refresh token),
/// signs out the others (a long-lived token survives), watches a new sign-in — and the
/// machine's address is never banned. Then no token of any kind is in the home, the logs at
/// trace level, the output or an export.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn home_assistant_real_server_never_bans_the_person_and_keeps_no_token() -> anyhow::Result<()>
{
    use warden_tests::real::home_assistant::{
        HomeAssistant, OWNER, PASSWORD as HA_PASSWORD, closes,
    };
    let server = HomeAssistant::start(1).await?;
    let warden = Warden::start()?;
    let url = server.url.clone();
    let out = add(&warden, &url, "auto", OWNER, &format!("{HA_PASSWORD}\n"))?;
    assert!(
        stderr(&out).contains("speaks home-assistant"),
        "{}",
        stderr(&out)
    );
    added(out)?;

    let phone = server.sign_in_device(HA_IOS, "198.51.100.10").await?;
    let tablet = server.sign_in_device(HA_ANDROID, "198.51.100.11").await?;
    let browser = server.sign_in_device(&url, "198.51.100.12").await?;
    // The phone and the browser have HA open: each holds a WebSocket.
    let access = |tokens: &serde_json::Value| {
        tokens["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let mut phone_open = server.connect(&access(&phone)).await?;
    let mut browser_open = server.connect(&access(&browser)).await?;
    let owner_access = tablet["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let integration: String = server
        .command(
            &owner_access,
            serde_json::json!({
                "type": "auth/long_lived_access_token", "client_name": "Node-RED",
                "lifespan": 365,
            }),
        )
        .await?
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let sessions = sessions_with(
        &warden,
        &["198.51.100.10", "198.51.100.11", "198.51.100.12"],
    )?;
    assert_eq!(
        sessions.iter().filter(|s| s["isCurrent"] == true).count(),
        1,
        "{sessions:#?}"
    );
    assert_eq!(
        at(&sessions, "198.51.100.10")?["device"]["label"],
        "Home Assistant app on iOS"
    );
    assert!(
        sessions
            .iter()
            .any(|s| s["device"]["label"] == "Long-lived token · Node-RED"),
        "{sessions:#?}"
    );

    let within = std::time::Duration::from_secs(10);
    assert!(
        !closes(&mut phone_open, std::time::Duration::from_secs(1)).await,
        "an open connection stays open while its token lives"
    );
    warden.ok(&["revoke", &id(&at(&sessions, "198.51.100.10")?)])?;
    // Revoked is gone now, not at the phone's next renewal: HA closes its open connection.
    assert!(
        closes(&mut phone_open, within).await,
        "the revoked phone's WebSocket is still open after {within:?}"
    );
    let phone_refresh = phone["refresh_token"].as_str().unwrap_or_default();
    warden.ok(&["revoke", "--others"])?;
    assert!(
        closes(&mut browser_open, within).await,
        "the browser's WebSocket is still open after signing out the others"
    );
    // The long-lived token still works: it lists the owner's tokens.
    let left = server.tokens(&integration).await?;
    let normal: Vec<&serde_json::Value> = left.iter().filter(|t| t["type"] == "normal").collect();
    assert_eq!(normal.len(), 1, "only ours is left: {left:#?}");
    assert_eq!(normal[0]["client_id"], "https://session-warden.app/");
    a_new_sign_in_is_watched_and_kept(
        &warden,
        server.sign_in_device(HA_IOS, "198.51.100.13"),
        "198.51.100.13",
    )?;
    assert!(!server.banned_here(), "banned:\n{}", server.log());

    // No token of any kind anywhere of ours.
    let traced = warden.run_with(&["sessions", "--json"], "", &[("WARDEN_LOG", "trace")])?;
    let exported = warden.ok(&["history", "--export", "json"])?;
    let listed: Vec<serde_json::Value> =
        serde_json::from_str(&warden.ok(&["accounts", "list", "--json"])?)?;
    let stored = warden
        .keyring(listed[0]["id"].as_str().unwrap_or_default(), "session")
        .unwrap_or_default();
    let mut secrets: Vec<String> = stored.lines().map(str::to_owned).collect();
    secrets.extend([phone_refresh.to_owned(), integration.clone()]);
    assert!(secrets.len() >= 4, "our two tokens and two others");
    for secret in secrets.iter().filter(|s| s.len() > 20) {
        assert!(
            files_containing(&warden.home, secret.as_bytes()).is_empty(),
            "a token is in a file of the home"
        );
        for text in [
            String::from_utf8_lossy(&traced.stdout).into_owned(),
            stderr(&traced),
            exported.clone(),
        ] {
            assert!(
                !text.contains(secret.as_str()),
                "a token reached the output or a log line"
            );
        }
    }
    // The revoked phone's refresh token is refused now: asked last, as HA counts it a failed
    // login (and bans at this threshold).
    assert!(!server.refreshes(HA_IOS, phone_refresh).await?);

    Ok(())
}

/// The real Home Assistant: a wrong password is refused (exit 3), and an owner with an
/// authenticator signs in with the password and the code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn home_assistant_real_server_wrong_password_and_totp() -> anyhow::Result<()> {
    use warden_tests::real::home_assistant::{HomeAssistant, OWNER, PASSWORD as HA_PASSWORD};
    let server = HomeAssistant::start(-1).await?;
    let warden = Warden::start()?;
    let url = server.url.clone();
    let wrong = add(&warden, &url, "home-assistant", OWNER, "not-it\n")?;
    assert_eq!(wrong.status.code(), Some(3), "{}", stderr(&wrong));
    // The owner turns their authenticator on, over the WebSocket as the profile page does.
    let browser = server.sign_in_device(&url, "198.51.100.20").await?;
    let access = browser["access_token"].as_str().unwrap_or_default();
    let setup = server
        .command(
            access,
            serde_json::json!({ "type": "auth/setup_mfa", "mfa_module_id": "totp" }),
        )
        .await?;
    let secret = setup["description_placeholders"]["code"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no TOTP secret: {setup}"))?
        .to_owned();
    let now = || chrono::Utc::now();
    let code = warden_mock::totp::code_at(&secret, now()).unwrap_or_default();
    server
        .command(
            access,
            serde_json::json!({
                "type": "auth/setup_mfa", "flow_id": setup["flow_id"],
                "user_input": { "code": code },
            }),
        )
        .await?;
    let code = warden_mock::totp::code_at(&secret, now()).unwrap_or_default();
    added(add(
        &warden,
        &url,
        "home-assistant",
        OWNER,
        &format!("{HA_PASSWORD}\n{code}\n"),
    )?)?;
    let sessions = warden.sessions()?;
    assert!(
        sessions.iter().any(|s| s["isCurrent"] == true),
        "{sessions:#?}"
    );
    Ok(())
}
