//! `warden watch`: the watcher in a terminal, one line per event, until Ctrl-C.

use std::sync::Arc;
use std::time::Duration;

use warden_core::ledger::history::HistoryEntry;
use warden_core::tell::notification::{NotificationPolicy, NotificationSettings};
use warden_core::watch::locks::WatchLock;
use warden_core::watch::{FOLLOW_LEDGER_EVERY, WatchSettings, Watcher};
use warden_core::{Account, Accounts, Event};

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
    // One process polls a home: while another holds it, follow what it records, and take
    // over when it stops.
    let _lock = loop {
        let now = accounts.clock().now();
        match WatchLock::try_acquire(accounts.home(), "warden watch", now)? {
            Ok(lock) => break lock,
            Err(holder) => {
                eprintln!(
                    "warden: {holder} is watching this home; following what it records \
                     (Ctrl-C stops; this one takes over when it stops)"
                );
                if !follow(&accounts, json, FollowUntil::LockFree).await? {
                    return Ok(());
                }
                eprintln!("warden: it stopped; watching from here");
            }
        }
    };
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
    let mut list = list;
    for account in &list {
        watcher.watch(account.clone());
    }
    let label = |list: &[Account], event: &Event| {
        list.iter()
            .find(|a| &a.id == event.account())
            .map_or_else(|| event.account().to_string(), |a| a.label.clone())
    };
    // The app's notification policy, so the desktop is told the same things in the same words; it
    // publishes each notification when it is due, shown here without actions (a terminal
    // has nobody to act on a click).
    let (policy, mut published) = NotificationPolicy::new(tokio::runtime::Handle::current());
    if tell.notify {
        tokio::spawn(async move {
            while let Some(notification) = published.recv().await {
                tokio::task::spawn_blocking(move || warden_notify::show_plain(&notification));
            }
        });
    }
    let settings = NotificationSettings {
        every_sign_in: tell.every_sign_in,
        ..NotificationSettings::default()
    };
    if let Some(missing) = accounts.geoip().missing() {
        eprintln!("warden: {missing}");
    }
    let mut follow_ledger = tokio::time::interval_at(
        tokio::time::Instant::now() + FOLLOW_LEDGER_EVERY,
        FOLLOW_LEDGER_EVERY,
    );
    let mut outages = Outages::default();
    loop {
        let event = tokio::select! {
            event = rx.recv() => match event {
                Some(event) => event,
                None => return Ok(()),
            },
            _ = follow_ledger.tick() => {
                followed(&watcher, &mut list);
                continue;
            }
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        if !outages.is_news(&event) {
            // The same failure, poll after poll: said once, like the history.
        } else if json {
            println!("{}", serde_json::to_string(&event)?);
        } else if let Some(line) = describe(&event, &label(&list, &event)) {
            println!("{line}");
        }
        if tell.notify {
            let now = accounts.clock().now();
            let hour = chrono::Timelike::hour(&chrono::Local::now()) as u8;
            let Some(account) = list.iter().find(|a| &a.id == event.account()) else {
                continue;
            };
            policy.tell(&event, account, &settings, now, hour);
        }
    }
}

/// What each account's outage has said so far: a line per change, not per failed poll.
#[derive(Default)]
struct Outages(std::collections::HashMap<warden_core::AccountId, (bool, String)>);

impl Outages {
    /// Whether the event says something the terminal has not been told: a failure is
    /// news when it first happens and when its words change (another reason, a new time to
    /// ask again, a sign-in needed); recovering ends the outage.
    fn is_news(&mut self, event: &Event) -> bool {
        match event {
            Event::Stale {
                account,
                error,
                needs_sign_in,
                ..
            } => {
                let said = (*needs_sign_in, error.clone());
                self.0.insert(account.clone(), said.clone()) != Some(said)
            }
            Event::Recovered { account } => {
                self.0.remove(account);
                true
            }
            _ => true,
        }
    }
}

/// Takes up the accounts another process added, lets go of those it removed, and says so
/// (on stderr: stdout is the events' alone).
fn followed(watcher: &Watcher, list: &mut Vec<Account>) {
    match watcher.follow_ledger() {
        Ok(changed) => {
            for account in changed.added {
                eprintln!(
                    "warden: now watching {} too (added elsewhere)",
                    account.label
                );
                list.push(account);
            }
            for account in changed.removed {
                eprintln!(
                    "warden: no longer watching {} (removed elsewhere)",
                    account.label
                );
                list.retain(|a| a.id != account.id);
            }
        }
        Err(e) => tracing::warn!("cannot read the accounts: {e}"),
    }
}

/// When following stops.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum FollowUntil {
    /// Only Ctrl-C.
    Interrupted,
    /// The home's `WatchLock` is free (the watching process stopped), or Ctrl-C.
    LockFree,
}

/// Prints every event the ledger records from now on (by whichever process records it), once
/// each. Returns `false` on Ctrl-C, `true` when `until` was met.
pub async fn follow(accounts: &Accounts, json: bool, until: FollowUntil) -> anyhow::Result<bool> {
    let labels_now = || -> anyhow::Result<std::collections::HashMap<String, String>> {
        Ok(accounts
            .list()?
            .into_iter()
            .map(|a| (a.id.to_string(), a.label))
            .collect())
    };
    let mut labels = labels_now()?;
    let mut last = accounts.last_event_seq()?;
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = tokio::signal::ctrl_c() => return Ok(false),
        }
        for entry in accounts.history_since(None, last)? {
            last = last.max(entry.seq);
            // An account added since: its label, not its id.
            if !labels.contains_key(&entry.account) {
                labels = labels_now()?;
            }
            if json {
                println!("{}", serde_json::to_string(&entry)?);
            } else {
                let label = labels.get(&entry.account).unwrap_or(&entry.account);
                println!("{}", describe_entry(&entry, label));
            }
        }
        if until == FollowUntil::LockFree {
            let now = accounts.clock().now();
            if let Ok(lock) = WatchLock::try_acquire(accounts.home(), "warden watch", now)? {
                // Free: let go at once, so the caller takes it in its own time.
                drop(lock);
                return Ok(true);
            }
        }
    }
}

/// One line for a person, of an event another process recorded.
pub fn describe_entry(entry: &HistoryEntry, account: &str) -> String {
    let at = entry.at.format("%H:%M:%S");
    let what = [
        entry.device.as_deref(),
        entry.ip.as_deref(),
        entry.place.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ");
    let mut line = format!("{at} {account}: {}", entry.kind);
    if !what.is_empty() {
        line.push_str(&format!(", {what}"));
    }
    if !entry.detail.is_empty() {
        line.push_str(&format!(" ({})", entry.detail));
    }
    line
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
        Event::IdleSignedOut { after, ended, .. } => format!(
            "{now} {account}: {}: {}",
            warden_core::watch::idle::summary(ended.len(), *after).to_lowercase(),
            ended
                .iter()
                .map(|s| s.device.label.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Event::SignOutPending { pending, .. } => format!(
            "{now} {account}: signing out {} at {} UTC unless it is you ({}); cancel: warden \
             defence --cancel {}",
            pending.device,
            pending.due.format("%H:%M:%S"),
            pending.reason,
            pending.session
        ),
        Event::DefenceSignedOut { pending, note, .. } => format!(
            "{now} {account}: signed out {} ({}){}",
            pending.device,
            pending.reason,
            note.as_deref()
                .map(|n| format!("; {n}"))
                .unwrap_or_default()
        ),
        Event::DefenceFailed { pending, error } => format!(
            "{now} {account}: could not sign out {}: {error}; trying again at each check",
            pending.device
        ),
        Event::DefenceAsks { session, why, .. } => format!(
            "{now} {account}: not signed out on its own, {}: {why}",
            session.device.label
        ),
        Event::Listed { .. } => return None,
    };
    Some(line)
}
