//! The defence's part of the ledger: each account's setting, the home's default for new
//! accounts, and the sign-outs decided on, which every process on the home sees (the window
//! and `warden watch` show them; `warden defence --cancel` cancels one from anywhere) and
//! only the watching process carries out.

use chrono::{DateTime, TimeDelta, Utc};
use rusqlite::{OptionalExtension, params};

use super::Ledger;
use crate::accounts::account::AccountId;
use crate::error::{Error, Result};
use crate::rules::RuleId;
use crate::session::SessionId;
use crate::watch::defence::{Defence, PendingSignOut};

/// Done sign-outs are kept this long: enough to count an hour's.
const KEEP_DONE: TimeDelta = TimeDelta::days(1);

fn time(text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::Ledger(format!("a time the ledger holds is unreadable: {e}")))
}

impl Ledger {
    /// The account's defence: its own, else the home's default.
    pub fn defence(&self, account: &AccountId) -> Result<Defence> {
        let row: Option<(String, Option<i64>)> = self
            .conn()
            .query_row(
                "SELECT mode, seconds FROM defences WHERE account = ?1",
                params![account.as_str()],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        match row {
            // A mode this version does not know (a newer one wrote it) acts as the safest:
            // told, never signed out.
            Some((mode, seconds)) => {
                Ok(Defence::from_stored(&mode, seconds).unwrap_or(Defence::Tell))
            }
            None => self.default_defence(),
        }
    }

    pub fn set_defence(&self, account: &AccountId, defence: Defence) -> Result<()> {
        let (mode, seconds) = defence.to_stored();
        self.conn().execute(
            "INSERT INTO defences (account, mode, seconds) VALUES (?1, ?2, ?3)
             ON CONFLICT (account) DO UPDATE SET mode = ?2, seconds = ?3",
            params![account.as_str(), mode, seconds],
        )?;
        Ok(())
    }

    /// The defence new accounts start with (`Defence::default` until the person picks one).
    pub fn default_defence(&self) -> Result<Defence> {
        let stored: Option<String> = self
            .conn()
            .query_row(
                "SELECT value FROM home_defaults WHERE key = 'defence'",
                [],
                |row| row.get(0),
            )
            .optional()?;
        Ok(stored
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default())
    }

    pub fn set_default_defence(&self, defence: Defence) -> Result<()> {
        let text = serde_json::to_string(&defence)
            .map_err(|e| Error::Ledger(format!("cannot keep the default defence: {e}")))?;
        self.conn().execute(
            "INSERT INTO home_defaults (key, value) VALUES ('defence', ?1)
             ON CONFLICT (key) DO UPDATE SET value = ?1",
            params![text],
        )?;
        Ok(())
    }

    /// A removed account's defence and sign-outs go with it.
    pub(super) fn forget_defence(&self, account: &AccountId) -> Result<()> {
        let conn = self.conn();
        conn.execute(
            "DELETE FROM defences WHERE account = ?1",
            params![account.as_str()],
        )?;
        conn.execute(
            "DELETE FROM sign_outs WHERE account = ?1",
            params![account.as_str()],
        )?;
        Ok(())
    }

    /// Keeps a sign-out decided on; `false` when one is pending for that session already.
    pub fn add_sign_out(&self, pending: &PendingSignOut) -> Result<bool> {
        let n = self.conn().execute(
            "INSERT INTO sign_outs (account, session, device, rule, reason, since, due)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (account, session) DO NOTHING",
            params![
                pending.account.as_str(),
                pending.session.as_str(),
                pending.device,
                pending.rule.name(),
                pending.reason,
                pending.since.to_rfc3339(),
                pending.due.to_rfc3339(),
            ],
        )?;
        Ok(n > 0)
    }

    /// The sign-outs not yet done, of one account or all, soonest first.
    pub fn pending_sign_outs(&self, account: Option<&AccountId>) -> Result<Vec<PendingSignOut>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT account, session, device, rule, reason, since, due, last_error
             FROM sign_outs WHERE done_at IS NULL AND (?1 IS NULL OR account = ?1)
             ORDER BY due",
        )?;
        let rows = stmt.query_map(params![account.map(AccountId::as_str)], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, String>(5)?,
                row.get::<_, String>(6)?,
                row.get::<_, Option<String>>(7)?,
            ))
        })?;
        let mut pending = Vec::new();
        for row in rows {
            let (account, session, device, rule, reason, since, due, last_error) = row?;
            // A rule this version does not know (a newer one decided it) is left to that one.
            let Some(rule) = RuleId::from_name(&rule) else {
                continue;
            };
            pending.push(PendingSignOut {
                account: AccountId::from_stored(account),
                session: SessionId::from_stored(session),
                device,
                rule,
                reason,
                since: time(&since)?,
                due: time(&due)?,
                last_error,
            });
        }
        Ok(pending)
    }

    /// Cancels a pending sign-out ("It's me", `warden defence --cancel`); `false` when none
    /// was pending.
    pub fn cancel_sign_out(&self, account: &AccountId, session: &SessionId) -> Result<bool> {
        let n = self.conn().execute(
            "DELETE FROM sign_outs WHERE account = ?1 AND session = ?2 AND done_at IS NULL",
            params![account.as_str(), session.as_str()],
        )?;
        Ok(n > 0)
    }

    /// "Sign out now": the pending sign-out is due at `now`.
    pub fn hasten_sign_out(
        &self,
        account: &AccountId,
        session: &SessionId,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let n = self.conn().execute(
            "UPDATE sign_outs SET due = ?3 WHERE account = ?1 AND session = ?2 AND done_at IS NULL",
            params![account.as_str(), session.as_str(), now.to_rfc3339()],
        )?;
        Ok(n > 0)
    }

    /// Why the last attempt at a pending sign-out failed.
    pub fn sign_out_failed(
        &self,
        account: &AccountId,
        session: &SessionId,
        error: &str,
    ) -> Result<()> {
        self.conn().execute(
            "UPDATE sign_outs SET last_error = ?3 WHERE account = ?1 AND session = ?2",
            params![account.as_str(), session.as_str(), error],
        )?;
        Ok(())
    }

    /// A pending sign-out carried out (or found gone) at `at`; done ones older than a day
    /// are let go.
    pub fn sign_out_done(
        &self,
        account: &AccountId,
        session: &SessionId,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let conn = self.conn();
        conn.execute(
            "UPDATE sign_outs SET done_at = ?3, last_error = NULL
             WHERE account = ?1 AND session = ?2",
            params![account.as_str(), session.as_str(), at.to_rfc3339()],
        )?;
        conn.execute(
            "DELETE FROM sign_outs WHERE done_at IS NOT NULL AND done_at < ?1",
            params![(at - KEEP_DONE).to_rfc3339()],
        )?;
        Ok(())
    }

    /// How many sessions of the account the defence signed out since `since`, and how many
    /// it has pending: what its hourly limit counts.
    pub fn sign_outs_since(&self, account: &AccountId, since: DateTime<Utc>) -> Result<usize> {
        let n: i64 = self.conn().query_row(
            "SELECT count(*) FROM sign_outs
             WHERE account = ?1 AND (done_at IS NULL OR done_at >= ?2)",
            params![account.as_str(), since.to_rfc3339()],
            |row| row.get(0),
        )?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }
}
