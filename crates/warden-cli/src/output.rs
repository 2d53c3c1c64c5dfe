//! What `warden` prints: aligned tables for people, JSON for scripts.

use std::io::Write;

use chrono::{DateTime, Utc};
use warden_core::ledger::history::{HistoryEntry, SeenSession};
use warden_core::{Account, Snapshot};

/// Each account, with when Session Warden's own sign-in on it ends, where that is known
/// (SecureAuth's 7 days, RTC's 24 hours or 30 days).
pub fn accounts(accounts: &[(Account, Option<DateTime<Utc>>)], json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Listed<'a> {
            #[serde(flatten)]
            account: &'a Account,
            signed_in_until: Option<DateTime<Utc>>,
        }
        let listed: Vec<Listed> = accounts
            .iter()
            .map(|(account, until)| Listed {
                account,
                signed_in_until: *until,
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &listed)?;
        writeln!(out)?;
        return Ok(());
    }
    if accounts.is_empty() {
        writeln!(out, "no accounts yet: add one with `warden accounts add`")?;
        return Ok(());
    }
    let rows: Vec<[String; 6]> = accounts
        .iter()
        .map(|(a, until)| {
            [
                a.id.to_string(),
                a.label.clone(),
                a.dialect.to_string(),
                a.login.clone(),
                a.base_url.to_string(),
                until.map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M UTC").to_string()),
            ]
        })
        .collect();
    table(
        &mut out,
        ["ID", "LABEL", "API", "LOGIN", "URL", "SIGNED IN UNTIL"],
        &rows,
    )
}

/// `all_answered`: whether every account was listed; "no sessions" is said only then (an
/// account that could not be listed has sessions nobody saw).
pub fn sessions(
    snapshots: &[(Account, Snapshot)],
    now: DateTime<Utc>,
    json: bool,
    all_answered: bool,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let all = snapshots.iter().flat_map(|(_, s)| &s.sessions);
    if json {
        serde_json::to_writer_pretty(&mut out, &all.collect::<Vec<_>>())?;
        writeln!(out)?;
        return Ok(());
    }
    let rows: Vec<[String; 6]> = snapshots
        .iter()
        .flat_map(|(account, snapshot)| {
            snapshot.sessions.iter().map(|s| {
                let device = if s.is_current {
                    format!("{} (this app)", s.device.label)
                } else {
                    s.device.label.clone()
                };
                [
                    account.label.clone(),
                    s.id.to_string(),
                    device,
                    s.ip.clone().unwrap_or_else(|| "-".into()),
                    s.whereabouts().unwrap_or_else(|| "-".into()),
                    s.last_active_at
                        .map_or_else(|| "-".into(), |t| relative(t, now)),
                ]
            })
        })
        .collect();
    if rows.is_empty() {
        if all_answered {
            writeln!(out, "no sessions")?;
        }
        return Ok(());
    }
    table(
        &mut out,
        ["ACCOUNT", "ID", "DEVICE", "IP", "WHERE", "LAST ACTIVE"],
        &rows,
    )?;
    // What a server sent that could not be read, with the session it belongs to.
    for (_, snapshot) in snapshots {
        for s in &snapshot.sessions {
            if let Some(unreadable) = &s.unreadable {
                writeln!(out, "{}: {unreadable}", s.id)?;
            }
        }
    }
    Ok(())
}

/// Every session ever seen, with how it ended.
pub fn seen(sessions: &[SeenSession], now: DateTime<Utc>, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, sessions)?;
        writeln!(out)?;
        return Ok(());
    }
    let rows: Vec<[String; 5]> = sessions
        .iter()
        .map(|s| {
            let device = match &s.label {
                Some(label) => format!("{label} ({})", s.device),
                None => s.device.clone(),
            };
            let state = match (&s.ended_at, &s.ended_how) {
                (Some(at), how) => format!(
                    "ended {} ({})",
                    relative(*at, now),
                    how.as_deref().unwrap_or("?")
                ),
                (None, _) => "live".into(),
            };
            [
                s.id.clone(),
                device,
                s.ip.clone().unwrap_or_else(|| "-".into()),
                relative(s.first_seen, now),
                state,
            ]
        })
        .collect();
    if rows.is_empty() {
        writeln!(out, "no sessions seen yet")?;
        return Ok(());
    }
    table(
        &mut out,
        ["ID", "DEVICE", "IP", "FIRST SEEN", "STATE"],
        &rows,
    )
}

/// The history as a table.
pub fn history(entries: &[HistoryEntry], accounts: &[Account]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if entries.is_empty() {
        writeln!(
            out,
            "nothing has happened yet: `warden watch` keeps the history"
        )?;
        return Ok(());
    }
    let label = |id: &str| {
        accounts
            .iter()
            .find(|a| a.id.as_str() == id)
            .map_or_else(|| id.to_owned(), |a| a.label.clone())
    };
    let rows: Vec<[String; 5]> = entries
        .iter()
        .map(|e| {
            [
                e.at.format("%Y-%m-%d %H:%M").to_string(),
                label(&e.account),
                e.kind.to_string(),
                [e.device.as_deref(), e.ip.as_deref(), e.place.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", "),
                e.detail.clone(),
            ]
        })
        .collect();
    table(
        &mut out,
        ["WHEN (UTC)", "ACCOUNT", "WHAT", "DEVICE", "DETAIL"],
        &rows,
    )
}

/// The widest a cell is shown in a table: a terminal line, not a server's megabyte
/// (`--json` and the exports carry every character the engine kept).
const MAX_CELL_CHARS: usize = 160;

fn table<const N: usize>(
    out: &mut impl Write,
    header: [&str; N],
    rows: &[[String; N]],
) -> anyhow::Result<()> {
    let fit = |cell: &str| -> String {
        if cell.chars().count() <= MAX_CELL_CHARS {
            cell.to_owned()
        } else {
            let mut cut: String = cell.chars().take(MAX_CELL_CHARS - 1).collect();
            cut.push('…');
            cut
        }
    };
    let rows: Vec<[String; N]> = rows
        .iter()
        .map(|row| row.each_ref().map(|c| fit(c)))
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    // Padded by hand: `format!("{c:<w$}")` panics on widths past u16::MAX.
    let line = |cells: Vec<&str>| -> String {
        cells
            .iter()
            .zip(widths)
            .map(|(c, w)| {
                let pad = w.saturating_sub(c.chars().count());
                format!("{c}{}", " ".repeat(pad))
            })
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    writeln!(out, "{}", line(header.to_vec()))?;
    for row in &rows {
        writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}

/// "just now", "5 minutes ago", "3 hours ago", "2 days ago".
pub fn relative(then: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (now - then).num_seconds();
    let (n, unit) = match seconds {
        s if s < 45 => return "just now".into(),
        s if s < 3600 => ((s + 30) / 60, "minute"),
        s if s < 86_400 => ((s + 1800) / 3600, "hour"),
        s => ((s + 43_200) / 86_400, "day"),
    };
    let n = n.max(1);
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

/// What an idle policy signs out now, and what it leaves alone and why.
pub fn idle_plan(plan: &warden_core::IdlePlan) {
    let line = |s: &warden_core::Session| {
        let active = s.last_active_at.map_or_else(
            || "no last activity".to_owned(),
            |t| format!("last active {}", t.format("%Y-%m-%d")),
        );
        // Cleaned where they entered the engine (`server_text`).
        format!(
            "  {}  {}  {active}  {}",
            s.device.label,
            s.ip.as_deref().unwrap_or("-"),
            s.id
        )
    };
    if plan.ending.is_empty() {
        println!("it would sign out nothing now");
    } else {
        println!("it would sign out now:");
        for session in &plan.ending {
            println!("{}", line(session));
        }
    }
    if !plan.spared_trusted.is_empty() {
        println!("spared, trusted (\"It's me\"):");
        for session in &plan.spared_trusted {
            println!("{}", line(session));
        }
    }
    if !plan.unknown_activity.is_empty() {
        println!("left alone, no last activity known:");
        for session in &plan.unknown_activity {
            println!("{}", line(session));
        }
    }
    if let Some(note) = &plan.note {
        println!("note: {note}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_read_as_people_say_them() {
        let now = DateTime::parse_from_rfc3339("2026-11-22T12:00:00Z")
            .expect("date")
            .with_timezone(&Utc);
        let ago = |s: i64| relative(now - chrono::Duration::seconds(s), now);
        assert_eq!(ago(10), "just now");
        assert_eq!(ago(60), "1 minute ago");
        assert_eq!(ago(150), "3 minutes ago");
        assert_eq!(ago(3 * 3600), "3 hours ago");
        assert_eq!(ago(2 * 86_400), "2 days ago");
    }
}
