//! `cargo xtask bench mock`: the mock server, release build, measured from outside as a
//! client sees it: list requests per second for a user with 100 sessions (wrk on loopback),
//! and the resident memory of the process holding 100,000 sessions.
//!
//! The engine's own figures are `cargo bench -p warden-core` (parse + diff + detect at
//! 10,000 sessions; CPU per poll; sign-in to event).

use std::path::Path;
use std::process::Command;

use anyhow::Context;
use warden_mock::{ControlClient, DEMO_LOGIN, DEMO_PASSWORD};

use crate::mock::{self, Banner};
use crate::procfs;

const AGENT: &str = warden_mock::agents::FIREFOX_LINUX;

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    procfs::kib(pid, "status", "VmRSS:").context("no VmRSS")
}

pub fn run(binaries: &Path) -> anyhow::Result<()> {
    let (mock, root) = mock::start(
        Command::new(binaries.join("warden-mock")),
        &["--port", "0", "--no-devices"],
        Banner::Hide,
    )?;
    let pid = mock.0.id();
    let runtime = tokio::runtime::Runtime::new()?;
    let cookie = runtime.block_on(fill_one_user(&root))?;

    let url = format!("{root}/hectoday/me/sessions");
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
        .post(format!("{root}/hectoday/login"))
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
