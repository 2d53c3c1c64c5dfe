//! How much history the ledger keeps: bounded, whatever servers list. A server that lists
//! a hundred thousand sessions, or renames its sessions at every poll, would otherwise grow
//! the home without end. The rule (the README's "History" says it to the person):
//!
//! - The timeline keeps each account's newest `EVENTS_PER_ACCOUNT` entries, none older
//!   than `KEEP_DAYS` days.
//! - Each session keeps one summary row (first and last seen, device, address, place, how it
//!   ended): a live session's always; an ended one's for `KEEP_DAYS` days after its end,
//!   and the newest `ENDED_PER_ACCOUNT` ended ones per account.
//! - What was removed is said in the timeline: one "trimmed" entry per account, replaced at
//!   each trim, with what went and why.
//!
//! Trimming runs in whichever process records listings, at most every `TRIM_EVERY`.

use chrono::{DateTime, TimeDelta, Utc};
use rusqlite::params;

use crate::accounts::account::AccountId;
use crate::error::Result;
use crate::ledger::Ledger;
use crate::ledger::history::HistoryKind;

/// A year of history, and a month to spare: last year's trip is still there to compare.
pub const KEEP_DAYS: i64 = 400;
/// Far more than a person's accounts make in a year; a few megabytes at most.
pub const EVENTS_PER_ACCOUNT: i64 = 20_000;
pub const ENDED_PER_ACCOUNT: i64 = 10_000;
/// How often a recording process trims.
pub const TRIM_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// What one trim removed from one account.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Trimmed {
    pub entries: usize,
    pub sessions: usize,
}

impl Ledger {
    /// Applies the rule to every account the ledger holds history of (removed accounts
    /// too: their history is kept, and bounded, like the others').
    pub fn trim(&self, now: DateTime<Utc>) -> Result<Vec<(AccountId, Trimmed)>> {
        let accounts: Vec<String> = {
            let conn = self.conn();
            let mut stmt =
                conn.prepare("SELECT account FROM events UNION SELECT account FROM sessions")?;
            let rows = stmt.query_map([], |row| row.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut trimmed = Vec::new();
        for account in accounts {
            let account = AccountId::from_stored(account);
            let done = self.trim_account(&account, now)?;
            if done != Trimmed::default() {
                trimmed.push((account, done));
            }
        }
        Ok(trimmed)
    }

    fn trim_account(&self, account: &AccountId, now: DateTime<Utc>) -> Result<Trimmed> {
        let cutoff = (now - TimeDelta::days(KEEP_DAYS)).to_rfc3339();
        let trimmed_kind = HistoryKind::Trimmed.as_str();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let entries = tx.execute(
            "DELETE FROM events WHERE account = ?1 AND kind != ?2 AND (at < ?3 OR seq <= (
                 SELECT seq FROM events WHERE account = ?1 AND kind != ?2
                 ORDER BY seq DESC LIMIT 1 OFFSET ?4))",
            params![account.as_str(), trimmed_kind, cutoff, EVENTS_PER_ACCOUNT],
        )?;
        let sessions = tx.execute(
            "DELETE FROM sessions WHERE account = ?1 AND ended_at IS NOT NULL AND (
                 ended_at < ?2 OR rowid IN (
                     SELECT rowid FROM sessions WHERE account = ?1 AND ended_at IS NOT NULL
                     ORDER BY ended_at DESC, rowid DESC LIMIT -1 OFFSET ?3))",
            params![account.as_str(), cutoff, ENDED_PER_ACCOUNT],
        )?;
        if sessions > 0 {
            // A name or a note of ours for a session no longer kept goes with it.
            tx.execute(
                "DELETE FROM labels WHERE account = ?1
                 AND session NOT IN (SELECT id FROM sessions WHERE account = ?1)",
                [account.as_str()],
            )?;
            tx.execute(
                "DELETE FROM own_sessions WHERE account = ?1 AND since < ?2
                 AND session NOT IN (SELECT id FROM sessions WHERE account = ?1)",
                params![account.as_str(), cutoff],
            )?;
        }
        let done = Trimmed { entries, sessions };
        if done != Trimmed::default() {
            tx.execute(
                "DELETE FROM events WHERE account = ?1 AND kind = ?2",
                params![account.as_str(), trimmed_kind],
            )?;
            tx.execute(
                "INSERT INTO events (at, account, kind, detail) VALUES (?1, ?2, ?3, ?4)",
                params![now.to_rfc3339(), account.as_str(), trimmed_kind, said(done)],
            )?;
        }
        tx.commit()?;
        Ok(done)
    }
}

/// The trimmed entry's words: what went, and the rule it went by.
fn said(done: Trimmed) -> String {
    let mut went = Vec::new();
    if done.entries > 0 {
        went.push(format!("{} older timeline entries", done.entries));
    }
    if done.sessions > 0 {
        went.push(format!("{} ended sessions", done.sessions));
    }
    format!(
        "Removed {} to keep the history bounded: it keeps {KEEP_DAYS} days, at most the \
         newest {EVENTS_PER_ACCOUNT} entries and {ENDED_PER_ACCOUNT} ended sessions per account",
        went.join(" and ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::history::HistoryKind;

    fn at(days_ago: i64, now: DateTime<Utc>) -> String {
        (now - TimeDelta::days(days_ago)).to_rfc3339()
    }

    #[test]
    fn the_history_is_bounded_by_age_and_count_and_says_what_went() {
        let dir = tempfile::tempdir().expect("temp dir");
        let ledger = Ledger::open(&dir.path().join("warden.db")).expect("opens");
        let now = Utc::now();
        {
            let mut conn = ledger.conn_for_tests();
            let tx = conn.transaction().expect("tx");
            // Old entries, and more recent ones than the cap holds.
            for n in 0..(EVENTS_PER_ACCOUNT + 50) {
                let days = if n < 30 { KEEP_DAYS + 1 } else { 1 };
                tx.execute(
                    "INSERT INTO events (at, account, kind, detail) VALUES (?1, 'a', 'appeared', '')",
                    [at(days, now)],
                )
                .expect("event");
            }
            for n in 0..(ENDED_PER_ACCOUNT + 20) {
                let days = if n < 5 { KEEP_DAYS + 3 } else { 2 };
                tx.execute(
                    "INSERT INTO sessions (account, id, device, first_seen, last_seen, ended_at)
                     VALUES ('a', ?1, 'Firefox on Linux', ?2, ?2, ?2)",
                    params![format!("s{n}"), at(days, now)],
                )
                .expect("session");
            }
            tx.execute(
                "INSERT INTO sessions (account, id, device, first_seen, last_seen)
                 VALUES ('a', 'live', 'Safari on iOS', ?1, ?1)",
                [at(KEEP_DAYS * 2, now)],
            )
            .expect("live session");
            tx.commit().expect("commits");
        }
        let trimmed = ledger.trim(now).expect("trims");
        assert_eq!(
            trimmed,
            vec![(
                AccountId::from_stored("a".into()),
                Trimmed {
                    entries: 50,
                    sessions: 20
                }
            )]
        );
        let count = |sql: &str| -> i64 {
            ledger
                .conn_for_tests()
                .query_row(sql, [], |row| row.get(0))
                .expect("counts")
        };
        assert_eq!(
            count("SELECT count(*) FROM events WHERE kind != 'trimmed'"),
            EVENTS_PER_ACCOUNT
        );
        assert_eq!(
            count("SELECT count(*) FROM sessions WHERE ended_at IS NOT NULL"),
            ENDED_PER_ACCOUNT
        );
        assert_eq!(
            count("SELECT count(*) FROM sessions WHERE id = 'live'"),
            1,
            "a live session is never trimmed, however old"
        );
        let history = ledger
            .history(Some(&AccountId::from_stored("a".into())))
            .expect("history");
        let notes: Vec<_> = history
            .iter()
            .filter(|e| e.kind == HistoryKind::Trimmed)
            .collect();
        assert_eq!(notes.len(), 1, "one trimmed entry");
        assert!(
            notes[0]
                .detail
                .starts_with("Removed 50 older timeline entries and 20 ended sessions"),
            "{}",
            notes[0].detail
        );
        // A second trim finds nothing more, and the note stays as it was.
        assert!(ledger.trim(now).expect("trims again").is_empty());
        assert_eq!(
            count("SELECT count(*) FROM events WHERE kind = 'trimmed'"),
            1
        );
    }
}
