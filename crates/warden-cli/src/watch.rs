//! `warden watch`: the watcher in a terminal, one line per event, until Ctrl-C.

use std::sync::Arc;
use std::time::Duration;

use warden_core::watch::{WatchSettings, Watcher};
use warden_core::{Accounts, DesktopNotifier, Event, Notice, Notifier, Outages};

/// What to tell on the desktop besides the terminal's lines.
#[derive(Debug, Clone, Copy)]
pub struct Tell {
    pub notify: bool,
    pub every_sign_in: bool,
}

pub async fn run(
    accounts: Arc<Accounts>,
    json: bool,
    tell: Tell,
    interval: u64,
) -> anyhow::Result<()> {
    let list = accounts.list()?;
    if list.is_empty() {
        anyhow::bail!(warden_core::Error::InvalidInput(
            "no accounts to watch: add one with `warden accounts add`".into()
        ));
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let watcher = Watcher::new(
        Arc::clone(&accounts),
        Arc::new(tx),
        WatchSettings {
            interval: Duration::from_secs(interval.max(1)),
            ..WatchSettings::default()
        },
        tokio::runtime::Handle::current(),
    );
    for account in &list {
        watcher.watch(account.clone());
    }
    let label = |event: &Event| {
        list.iter()
            .find(|a| &a.id == event.account())
            .map_or_else(|| event.account().to_string(), |a| a.label.clone())
    };
    let outages = Outages::default();
    loop {
        let event = tokio::select! {
            event = rx.recv() => match event {
                Some(event) => event,
                None => return Ok(()),
            },
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        if json {
            println!("{}", serde_json::to_string(&event)?);
        } else if let Some(line) = describe(&event, &label(&event)) {
            println!("{line}");
        }
        let notice = Notice::for_event_with(&event, &label(&event), tell.every_sign_in)
            .or_else(|| outages.notice(&event, &label(&event), accounts.clock().now()));
        if tell.notify
            && let Some(notice) = notice
        {
            tokio::task::spawn_blocking(move || DesktopNotifier.notify(&notice));
        }
    }
}

/// One line for a person; `None` for a plain refresh.
fn describe(event: &Event, account: &str) -> Option<String> {
    let now = chrono::Utc::now().format("%H:%M:%S");
    let line = match event {
        Event::SessionAppeared { session, findings } => {
            let mut line = format!(
                "{now} {account}: new sign-in, {} ({})",
                session.device.label,
                session.ip.as_deref().unwrap_or("no address")
            );
            for finding in findings {
                line.push_str(&format!(
                    "\n         {}: {}",
                    finding.severity, finding.reason
                ));
            }
            line
        }
        Event::Suspicious { session, findings } => format!(
            "{now} {account}: suspicious, {}: {}",
            session.device.label,
            findings
                .iter()
                .map(|f| f.reason.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ),
        Event::SessionEnded { session, how } => {
            format!("{now} {account}: ended, {} ({how})", session.device.label)
        }
        Event::Stale { since, error, .. } => {
            format!(
                "{now} {account}: cannot check since {}: {error}",
                since.format("%H:%M:%S")
            )
        }
        Event::Recovered { .. } => format!("{now} {account}: checking again"),
        Event::SignInEnding { at, .. } => format!(
            "{now} {account}: Session Warden's sign-in ends {} UTC; {}",
            at.format("%Y-%m-%d %H:%M"),
            warden_core::error::sign_in_hint(account)
        ),
        Event::Refreshed { .. } => return None,
    };
    Some(line)
}
