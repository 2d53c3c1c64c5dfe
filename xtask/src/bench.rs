//! Benchmarks that need processes, measured from outside, release builds:
//! - `cargo xtask bench mock`: list requests per second for a user with 100 sessions (wrk on
//!   loopback), and the resident memory of the mock holding 100,000 sessions;
//! - `cargo xtask bench engine`: the engine's CPU time per poll of a 100-session account, and
//!   the time from a sign-in on the mock to the watcher's event with a 1 s interval.
//!
//! Parse + diff + detect at 10,000 sessions is a criterion bench: `cargo bench -p warden-core`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, bail};
use warden_mock::{ControlClient, DEMO_LOGIN, DEMO_PASSWORD};

use crate::{cargo_command, setup, target_dir};

const AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

pub fn run(what: Option<&str>) -> anyhow::Result<()> {
    match what {
        Some("mock") => mock(),
        Some("engine") => engine(),
        other => bail!("unknown benchmark {other:?}: try `cargo xtask bench mock` or `engine`"),
    }
}

/// The mock, stopped when dropped.
struct Mock(Child);

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS")
}

/// Starts the release mock with no devices; returns it and its root URL.
fn start_mock() -> anyhow::Result<(Mock, String)> {
    crate::run(cargo_command().args(["build", "--release", "-p", "warden-mock"]))?;
    let binary = target_dir().join("release").join("warden-mock");
    let mut child = Command::new(&binary)
        .args(["--port", "0", "--no-devices"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start warden-mock")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mock = Mock(child);
    let first = BufReader::new(stdout)
        .lines()
        .next()
        .context("warden-mock printed nothing")??;
    let root = first
        .strip_prefix("warden-mock listening on ")
        .context("unexpected first line")?
        .to_owned();
    Ok((mock, root))
}

fn mock() -> anyhow::Result<()> {
    setup::ensure(setup::Purpose::Bench)?;
    let (mock, root) = start_mock()?;
    let pid = mock.0.id();
    let runtime = tokio::runtime::Runtime::new()?;
    let cookie = runtime.block_on(fill_one_user(&root))?;

    let url = format!("{root}hectoday/me/sessions");
    println!("\nGET /hectoday/me/sessions, 100 sessions, wrk 2 threads x 16 connections, 10 s:");
    let out = Command::new("wrk")
        .args(["-t2", "-c16", "-d10s", "--latency", "-H"])
        .arg(format!("Cookie: {cookie}"))
        .arg(&url)
        .output()
        .context("cannot run wrk")?;
    let report = String::from_utf8_lossy(&out.stdout);
    for line in report.lines().filter(|l| {
        ["Requests/sec", "Latency ", "50%", "99%", "Non-2xx"]
            .iter()
            .any(|k| l.trim_start().starts_with(k))
    }) {
        println!("  {}", line.trim());
    }

    let before = rss_kib(pid)?;
    let started = std::time::Instant::now();
    runtime.block_on(fill_many(&root, 100_000))?;
    let after = rss_kib(pid)?;
    println!(
        "\nmemory: {:.1} MiB resident with 100 sessions, {:.1} MiB with 100,100 sessions \
         ({:.0} bytes per session); filled in {:.1} s",
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        (after.saturating_sub(before) * 1024) as f64 / 100_000.0,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// 99 devices and ourselves on the demo user; returns our session cookie.
async fn fill_one_user(root: &str) -> anyhow::Result<String> {
    let control = ControlClient::new(root.parse()?);
    for i in 0..99 {
        control
            .sign_in_device(DEMO_LOGIN, AGENT, &format!("198.51.100.{}", i % 250))
            .await?;
    }
    let response = reqwest::Client::new()
        .post(format!("{root}hectoday/login"))
        .json(&serde_json::json!({ "email": DEMO_LOGIN, "password": DEMO_PASSWORD }))
        .send()
        .await?
        .error_for_status()?;
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .context("no session cookie")?
        .to_owned();
    Ok(cookie)
}

/// `count` sessions spread over 1,000 users, 32 requests in flight.
async fn fill_many(root: &str, count: usize) -> anyhow::Result<()> {
    let control = ControlClient::new(root.parse()?);
    let users = 1000;
    for u in 0..users {
        control
            .create_user(&format!("user{u}@example.com"), "pw")
            .await?;
    }
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..32 {
        let control = control.clone();
        tasks.spawn(async move {
            for i in (worker..count).step_by(32) {
                let login = format!("user{}@example.com", i % users);
                let ip = format!("10.{}.{}.{}", i / 65536 % 256, i / 256 % 256, i % 256);
                control.sign_in_device(&login, AGENT, &ip).await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(())
}

/// This process's CPU time (user + system), from /proc: ticks of 10 ms.
fn own_cpu() -> anyhow::Result<std::time::Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .context("odd /proc/self/stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    Ok(std::time::Duration::from_millis(ticks * 10))
}

fn engine() -> anyhow::Result<()> {
    use std::sync::Arc;
    use std::time::{Duration, Instant};
    use warden_core::watch::{WatchSettings, Watcher};
    use warden_core::{
        Accounts, DialectKind, Event, Home, MemoryStore, NewAccount, Secret, SystemClock,
    };

    let (_mock, root) = start_mock()?;
    let runtime = tokio::runtime::Runtime::new()?;
    let home = tempfile::tempdir()?;
    let accounts = Arc::new(Accounts::open(
        &Home::at(home.path()),
        Arc::new(MemoryStore::default()),
        Arc::new(SystemClock),
    )?);
    let control = ControlClient::new(root.parse()?);
    let account = runtime.block_on(async {
        for i in 0..99 {
            control
                .sign_in_device(DEMO_LOGIN, AGENT, &format!("198.51.100.{}", i % 250))
                .await?;
        }
        let account = accounts
            .add(
                NewAccount {
                    url: format!("{root}hectoday"),
                    dialect: DialectKind::Hectoday,
                    login: DEMO_LOGIN.into(),
                    label: Some("bench".into()),
                },
                Secret::new(DEMO_PASSWORD),
            )
            .await?;
        anyhow::Ok(account)
    })?;

    // CPU per poll: list + parse, as the watcher's poll does, many times over.
    let polls = 500;
    let (cpu_before, wall) = (own_cpu()?, Instant::now());
    runtime.block_on(async {
        for _ in 0..polls {
            let snapshot = accounts.snapshot(&account).await?;
            anyhow::ensure!(
                snapshot.sessions.len() == 100,
                "{} sessions",
                snapshot.sessions.len()
            );
        }
        anyhow::Ok(())
    })?;
    let cpu = own_cpu()? - cpu_before;
    println!(
        "\none poll of a 100-session account (hectoday): {:.2} ms CPU, {:.2} ms wall \
         (mean of {polls}, engine process only)",
        cpu.as_secs_f64() * 1000.0 / f64::from(polls),
        wall.elapsed().as_secs_f64() * 1000.0 / f64::from(polls),
    );

    // Sign-in to event, with a 1 s interval (and the default 10 % jitter).
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let interval = Duration::from_secs(1);
    let mut latencies = runtime.block_on(async {
        let watcher = Watcher::new(
            Arc::clone(&accounts),
            Arc::new(tx),
            WatchSettings {
                interval,
                ..WatchSettings::default()
            },
            tokio::runtime::Handle::current(),
        );
        watcher.watch(account.clone());
        // The baseline first.
        while !matches!(rx.recv().await, Some(Event::Refreshed { .. })) {}
        let mut latencies = Vec::new();
        for i in 0..10 {
            let pause = Duration::from_millis(rand::random_range(0..1000));
            tokio::time::sleep(pause).await;
            let started = Instant::now();
            control
                .sign_in_device(DEMO_LOGIN, AGENT, &format!("203.0.113.{i}"))
                .await?;
            loop {
                match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
                    Ok(Some(Event::SessionAppeared { .. })) => break,
                    Ok(Some(_)) => {}
                    _ => anyhow::bail!("no event within 10 s"),
                }
            }
            latencies.push(started.elapsed());
        }
        anyhow::Ok(latencies)
    })?;
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "sign-in on the mock to the event, 1 s interval, 10 sign-ins at random moments: \
         median {:.0} ms, max {:.0} ms (target: within {:.0} ms; the 10 % jitter alone may \
         add up to {:.0} ms)",
        ms(latencies[latencies.len() / 2]),
        ms(latencies[latencies.len() - 1]),
        ms(interval) + 200.0,
        ms(interval) * 0.1
    );
    Ok(())
}
