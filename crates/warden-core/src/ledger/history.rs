//! The history in the ledger: every session ever seen, with first and last sight and how it
//! ended; every event with its reasons; trusted devices; the person's own session labels.
//! Exported as CSV or JSON.

use chrono::{DateTime, Utc};
use std::collections::HashMap;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::accounts::account::AccountId;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::ledger::Ledger;
use crate::rules::worst;
use crate::secret::Secret;
use crate::session::{Device, Session, SessionId, Snapshot};

/// What a line of the history is about. Kept in the ledger as these words, which are also
/// what the exports, `--json` and the window's filters say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum HistoryKind {
    Appeared,
    Suspicious,
    Ended,
    Stale,
    Recovered,
    Trusted,
    SignInEnding,
    /// Older history removed to keep the ledger bounded (`retention`).
    Trimmed,
}

impl HistoryKind {
    pub const ALL: [HistoryKind; 8] = [
        HistoryKind::Appeared,
        HistoryKind::Suspicious,
        HistoryKind::Ended,
        HistoryKind::Stale,
        HistoryKind::Recovered,
        HistoryKind::Trusted,
        HistoryKind::SignInEnding,
        HistoryKind::Trimmed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HistoryKind::Appeared => "appeared",
            HistoryKind::Suspicious => "suspicious",
            HistoryKind::Ended => "ended",
            HistoryKind::Stale => "stale",
            HistoryKind::Recovered => "recovered",
            HistoryKind::Trusted => "trusted",
            HistoryKind::SignInEnding => "sign-in-ending",
            HistoryKind::Trimmed => "trimmed",
        }
    }

    /// What the person reads for an entry of this kind, in the window's timeline and filter.
    pub fn title(self) -> &'static str {
        match self {
            HistoryKind::Appeared => "Signed in",
            HistoryKind::Suspicious => "Suspicious",
            HistoryKind::Ended => "Ended",
            HistoryKind::Stale => "Cannot check",
            HistoryKind::Recovered => "Checking again",
            HistoryKind::Trusted => "Trusted",
            HistoryKind::SignInEnding => "Sign-in ending",
            HistoryKind::Trimmed => "History trimmed",
        }
    }

    fn from_stored(text: &str) -> Option<HistoryKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl std::fmt::Display for HistoryKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored word as a typed value, or the row is unreadable.
fn typed<T>(text: String, parse: impl Fn(&str) -> Option<T>) -> rusqlite::Result<T> {
    parse(&text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("{text:?} is not a known value").into(),
        )
    })
}

fn severity_from(text: &str) -> Option<crate::rules::Severity> {
    use crate::rules::Severity;
    [Severity::Notice, Severity::Warning, Severity::Alert]
        .into_iter()
        .find(|s| s.to_string() == text)
}

/// One line of the history, as the timeline and the exports show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HistoryEntry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub account: String,
    pub kind: HistoryKind,
    pub session: Option<String>,
    pub device: Option<String>,
    pub ip: Option<String>,
    /// "Berlin, DE · Deutsche Telekom AG", as known then.
    pub place: Option<String>,
    pub severity: Option<crate::rules::Severity>,
    /// The reasons, how it ended, or the error, in words.
    pub detail: String,
}

/// A session as the ledger remembers it, live or long gone.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeenSession {
    pub account: String,
    pub id: String,
    pub device: String,
    pub ip: Option<String>,
    pub location: Option<String>,
    /// Whose network it was on.
    pub operator: Option<String>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub ended_how: Option<String>,
    pub label: Option<String>,
}

/// A time as the ledger keeps it: RFC 3339. Older versions also wrote what RFC 3339 cannot
/// hold (a server's year 262142 as "+262142-…"), which chrono's relaxed parser still reads.
fn time(text: String) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(&text)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| text.parse::<DateTime<Utc>>())
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
}

/// A session's time from the ledger: one that cannot be read is not known, rather than a
/// history that cannot be shown.
fn optional_time(text: Option<String>) -> Option<DateTime<Utc>> {
    text.and_then(|text| time(text).ok())
}

/// Text the ledger holds came from servers; older versions kept it as it came, so it is
/// cleaned on the way out too (a 2 MB error text must not reach a table or a notification).
fn stored_text(text: String) -> String {
    match crate::dialect::server_text::clean(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(cleaned) => cleaned,
    }
}

fn stored_option(text: Option<String>) -> Option<String> {
    text.map(stored_text)
}

/// How the history says a session's row ended when the server went on listing it under
/// another id.
pub const RENAMED_WORDS: &str = "listed under a new id";

impl Ledger {
    /// Records a poll: every listed session's last sight, first sight for new ones.
    pub fn observe(&self, snapshot: &Snapshot) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO sessions (account, id, device, user_agent, ip, location, created_at,
                                       first_seen, last_seen, last_active, operator,
                                       location_margin_km, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10, ?11, ?12)
                 ON CONFLICT (account, id) DO UPDATE SET
                     ip = excluded.ip, location = excluded.location, operator = excluded.operator,
                     location_margin_km = excluded.location_margin_km,
                     expires_at = excluded.expires_at,
                     last_seen = excluded.last_seen, last_active = excluded.last_active",
            )?;
            let seen = snapshot.fetched_at.to_rfc3339();
            for s in &snapshot.sessions {
                upsert.execute(params![
                    snapshot.account.as_str(),
                    s.id.as_str(),
                    s.device.label,
                    s.user_agent,
                    s.ip,
                    s.location,
                    s.created_at.map(|t| t.to_rfc3339()),
                    seen,
                    s.last_active_at.map(|t| t.to_rfc3339()),
                    s.operator.as_ref().map(|o| o.describe()),
                    s.location_margin_km,
                    s.expires_at.map(|t| t.to_rfc3339()),
                ])?;
            }
            // A row this listing does not name, and no end was recorded for, is a session
            // the server now lists under another id (`diff`'s renamed): its row is over, or
            // a server renaming at every poll would leave rows "live" without end.
            tx.prepare_cached(
                "UPDATE sessions SET ended_at = ?2, ended_how = ?3
                 WHERE account = ?1 AND ended_at IS NULL AND last_seen != ?2",
            )?
            .execute(params![snapshot.account.as_str(), seen, RENAMED_WORDS])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// When Session Warden's own live session on the account ends, as its server last
    /// listed it, where it says.
    pub fn own_session_expiry(&self, account: &AccountId) -> Result<Option<DateTime<Utc>>> {
        let at: Option<Option<String>> = self
            .conn()
            .query_row(
                "SELECT s.expires_at FROM sessions s
                 JOIN own_sessions o ON o.account = s.account AND o.session = s.id
                 WHERE s.account = ?1 AND s.ended_at IS NULL AND s.expires_at IS NOT NULL
                 ORDER BY s.last_seen DESC LIMIT 1",
                [account.as_str()],
                |row| row.get(0),
            )
            .optional()?;
        Ok(optional_time(at.flatten()))
    }

    /// Appends an event worth keeping (not the `Listed` lists: `observe` keeps those).
    pub fn record(&self, event: &Event, at: DateTime<Utc>) -> Result<()> {
        let (kind, session, severity, detail) = match event {
            Event::SessionAppeared { session, findings } => (
                HistoryKind::Appeared,
                Some(session),
                worst(findings),
                reasons(findings),
            ),
            Event::Suspicious { session, findings } => (
                HistoryKind::Suspicious,
                Some(session),
                worst(findings),
                reasons(findings),
            ),
            Event::SessionEnded {
                session,
                how: reason,
            } => {
                if !self.record_end(session, *reason, at)? {
                    return Ok(());
                }
                (
                    HistoryKind::Ended,
                    Some(session),
                    None,
                    reason.words().to_owned(),
                )
            }
            // The end, with the alert it was for and its rule: "ended by Session Warden: …".
            Event::DefenceSignedOut {
                session, pending, ..
            } => {
                let how = crate::event::EndReason::Defence;
                if !self.record_end(session, how, at)? {
                    return Ok(());
                }
                (
                    HistoryKind::Ended,
                    Some(session),
                    Some(crate::rules::Severity::Alert),
                    format!(
                        "{}: {} (rule {})",
                        how.words(),
                        pending.reason,
                        pending.rule.name()
                    ),
                )
            }
            Event::Stale { error, .. } => (HistoryKind::Stale, None, None, error.clone()),
            Event::Recovered { .. } => (HistoryKind::Recovered, None, None, String::new()),
            Event::SignInEnding { at, .. } => {
                (HistoryKind::SignInEnding, None, None, ending_detail(*at))
            }
            // Each session it ended is recorded as ended, "ended by the idle policy". What the
            // defence decided is in the sign-outs' table until it is done.
            Event::Listed { .. }
            | Event::IdleSignedOut { .. }
            | Event::SignOutPending { .. }
            | Event::DefenceFailed { .. }
            | Event::DefenceAsks { .. } => return Ok(()),
        };
        self.conn().execute(
            "INSERT INTO events (at, account, kind, session, device, ip, severity, detail, place)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                at.to_rfc3339(),
                event.account().as_str(),
                kind.as_str(),
                session.map(|s| s.id.as_str().to_owned()),
                session.map(|s| s.device.label.clone()),
                session.and_then(|s| s.ip.clone()),
                severity.map(|s| s.to_string()),
                detail,
                session.and_then(Session::whereabouts),
            ],
        )?;
        Ok(())
    }

    /// Marks `session` ended `how` at `at`; `false` when its end was recorded already: an end
    /// is recorded once, by whichever process saw it first (the one that revoked it, or a
    /// watcher that noticed it gone).
    fn record_end(
        &self,
        session: &Session,
        how: crate::event::EndReason,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        if self.recorded_end(&session.account, &session.id)?.is_some() {
            return Ok(false);
        }
        self.conn().execute(
            "UPDATE sessions SET ended_at = ?3, ended_how = ?4
             WHERE account = ?1 AND id = ?2 AND ended_at IS NULL",
            params![
                session.account.as_str(),
                session.id.as_str(),
                at.to_rfc3339(),
                how.words()
            ],
        )?;
        Ok(true)
    }

    /// How the session ended, if the ledger knows it ended (any process may have recorded
    /// it: the one that revoked it, or a watcher).
    pub fn recorded_end(
        &self,
        account: &AccountId,
        session: &SessionId,
    ) -> Result<Option<crate::event::EndReason>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT ended_how FROM sessions
             WHERE account = ?1 AND id = ?2 AND ended_at IS NOT NULL",
        )?;
        let how: Option<Option<String>> = stmt
            .query_row(params![account.as_str(), session.as_str()], |row| {
                row.get(0)
            })
            .optional()?;
        Ok(how.map(|how| {
            how.as_deref()
                .and_then(crate::event::EndReason::from_words)
                .unwrap_or(crate::event::EndReason::Vanished)
        }))
    }

    /// The newest event's number (0 when there is none): where a follower starts.
    pub fn last_seq(&self) -> Result<i64> {
        Ok(self
            .conn()
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |row| {
                row.get(0)
            })?)
    }

    /// The events, oldest first; one account's, or everyone's.
    pub fn history(&self, account: Option<&AccountId>) -> Result<Vec<HistoryEntry>> {
        self.history_since(account, 0)
    }

    /// The events after `after`, oldest first: what another process recorded since (a
    /// second `warden watch`, `warden history --follow`).
    pub fn history_since(
        &self,
        account: Option<&AccountId>,
        after: i64,
    ) -> Result<Vec<HistoryEntry>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT seq, at, account, kind, session, device, ip, severity, detail, place FROM events
             WHERE (?1 IS NULL OR account = ?1) AND seq > ?2 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![account.map(AccountId::as_str), after], |row| {
            Ok(HistoryEntry {
                seq: row.get(0)?,
                at: time(row.get(1)?)?,
                account: row.get(2)?,
                kind: typed(row.get(3)?, HistoryKind::from_stored)?,
                session: row.get(4)?,
                device: stored_option(row.get(5)?),
                ip: stored_option(row.get(6)?),
                severity: row
                    .get::<_, Option<String>>(7)?
                    .map(|s| typed(s, severity_from))
                    .transpose()?,
                detail: stored_text(row.get(8)?),
                place: stored_option(row.get(9)?),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every session ever seen on the account, newest first sight first.
    pub fn seen_sessions(&self, account: &AccountId) -> Result<Vec<SeenSession>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT s.account, s.id, s.device, s.ip, s.location, s.first_seen, s.last_seen,
                    s.ended_at, s.ended_how, l.label, s.operator, s.location_margin_km
             FROM sessions s LEFT JOIN labels l ON l.account = s.account AND l.session = s.id
             WHERE s.account = ?1 ORDER BY s.first_seen DESC, s.id",
        )?;
        let rows = stmt.query_map([account.as_str()], |row| {
            Ok(SeenSession {
                account: row.get(0)?,
                id: row.get(1)?,
                device: row.get(2)?,
                ip: row.get(3)?,
                // As sure as the data was: "near Werdau, DE", "Germany".
                location: {
                    let margin: Option<u32> = row.get(11)?;
                    row.get::<_, Option<String>>(4)?
                        .map(|place| crate::rules::geo::shown(&place, margin))
                },
                first_seen: time(row.get(5)?)?,
                last_seen: time(row.get(6)?)?,
                ended_at: row.get::<_, Option<String>>(7)?.map(time).transpose()?,
                ended_how: row.get(8)?,
                label: row.get(9)?,
                operator: row.get(10)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every session ever seen on the account, as sessions, each with whether it has ended.
    /// They carry no server id: that is never stored (on some servers it is the cookie).
    pub fn remembered(&self, account: &AccountId) -> Result<Vec<(Session, bool)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, device, user_agent, ip, location, created_at, last_active, ended_at,
                    location_margin_km, expires_at
             FROM sessions WHERE account = ?1",
        )?;
        let rows = stmt.query_map([account.as_str()], |row| {
            let label: String = row.get(1)?;
            let user_agent: Option<String> = row.get(2)?;
            let ours = Device::ours();
            let is_current = user_agent.is_none() && label == ours.label;
            let device = match (&user_agent, is_current) {
                (_, true) => ours,
                (Some(agent), false) => Device::from_user_agent(agent),
                (None, false) => Device::from_label(&label),
            };
            let session = Session {
                account: account.clone(),
                id: SessionId::from_stored(row.get(0)?),
                server_id: Secret::new(""),
                device: device.into(),
                user_agent: user_agent.map(Into::into),
                ip: row.get(3)?,
                location: row.get(4)?,
                coordinates: None,
                location_margin_km: row.get(8)?,
                location_shown: None,
                unreadable: None,
                operator: None,
                label: None,
                created_at: optional_time(row.get(5)?),
                last_active_at: optional_time(row.get(6)?),
                expires_at: optional_time(row.get(9)?),
                is_current,
                ours_earlier: false,
            };
            let ended: Option<String> = row.get(7)?;
            Ok((session, ended.is_some()))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// "It's me" on `session`: its device (`device_identity`) is trusted from now on, and the
    /// timeline says when, in one transaction.
    pub fn trust(&self, session: &Session, device: &str, at: DateTime<Utc>) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT OR IGNORE INTO trusted (account, device, since) VALUES (?1, ?2, ?3)",
            params![session.account.as_str(), device, at.to_rfc3339()],
        )?;
        tx.execute(
            "INSERT INTO events (at, account, kind, session, device, ip, severity, detail)
             VALUES (?1, ?2, ?7, ?3, ?4, ?5, NULL, ?6)",
            params![
                at.to_rfc3339(),
                session.account.as_str(),
                session.id.as_str(),
                session.device.label,
                session.ip,
                "the person said \"It's me\": nothing is flagged for this device unless its session is used from elsewhere",
                HistoryKind::Trusted.as_str(),
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The sessions that raised a warning or an alert, each with when it first did.
    pub fn flagged(&self, account: &AccountId) -> Result<Vec<(SessionId, DateTime<Utc>)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT session, MIN(at) FROM events
             WHERE account = ?1 AND session IS NOT NULL AND severity IN ('warning', 'alert')
             GROUP BY session",
        )?;
        let rows = stmt.query_map([account.as_str()], |row| {
            Ok((SessionId::from_stored(row.get(0)?), time(row.get(1)?)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The sessions of the account revoked through Session Warden.
    pub fn revoked_here(&self, account: &AccountId) -> Result<Vec<SessionId>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT id FROM sessions WHERE account = ?1 AND ended_how = ?2")?;
        let rows = stmt.query_map(
            params![
                account.as_str(),
                crate::event::EndReason::RevokedHere.words()
            ],
            |row| Ok(SessionId::from_stored(row.get(0)?)),
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn trusted(&self, account: &AccountId) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT device FROM trusted WHERE account = ?1 ORDER BY since")?;
        let rows = stmt.query_map([account.as_str()], |row| row.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The person's own name for a session; an empty label removes it.
    pub fn set_label(&self, account: &AccountId, session: &SessionId, label: &str) -> Result<()> {
        let conn = self.conn();
        if label.trim().is_empty() {
            conn.execute(
                "DELETE FROM labels WHERE account = ?1 AND session = ?2",
                params![account.as_str(), session.as_str()],
            )?;
        } else {
            conn.execute(
                "INSERT INTO labels (account, session, label) VALUES (?1, ?2, ?3)
                 ON CONFLICT (account, session) DO UPDATE SET label = excluded.label",
                params![account.as_str(), session.as_str(), label.trim()],
            )?;
        }
        Ok(())
    }

    /// The account's session labels, by session id: one query per poll, not one per session.
    pub fn labels(&self, account: &AccountId) -> Result<HashMap<String, String>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT session, label FROM labels WHERE account = ?1")?;
        let rows = stmt.query_map([account.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

fn reasons(findings: &[crate::rules::Finding]) -> String {
    findings
        .iter()
        .map(|f| f.reason.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The history as CSV, one event per row, with a header. A cell a spreadsheet would take
/// for a formula (`=`, `+`, `-`, `@`, a tab or a carriage return first: a claimed address
/// can be `=HYPERLINK(…)`) is written with a `'` before it, as OWASP advises.
pub fn to_csv(entries: &[HistoryEntry]) -> Result<String> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| Error::Ledger(format!("cannot write CSV: {e}"));
    out.write_record([
        "seq", "at", "account", "kind", "session", "device", "ip", "place", "severity", "detail",
    ])
    .map_err(fail)?;
    for entry in entries {
        let text = |t: Option<&str>| inert(t.unwrap_or_default());
        out.write_record([
            entry.seq.to_string(),
            entry.at.to_rfc3339(),
            inert(&entry.account),
            entry.kind.to_string(),
            text(entry.session.as_deref()),
            text(entry.device.as_deref()),
            text(entry.ip.as_deref()),
            text(entry.place.as_deref()),
            entry.severity.map(|s| s.to_string()).unwrap_or_default(),
            inert(&entry.detail),
        ])
        .map_err(fail)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| Error::Ledger(format!("cannot write CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Error::Ledger(format!("cannot write CSV: {e}")))
}

/// What the history says of a sign-in about to end; also how a later run knows it was told.
pub(crate) fn ending_detail(at: DateTime<Utc>) -> String {
    format!(
        "Session Warden's sign-in ends at {}; signing in again needs a new code",
        at.to_rfc3339()
    )
}

impl Ledger {
    /// Whether the history already holds this event (kind and detail) for the account.
    pub(crate) fn has_event(
        &self,
        account: &AccountId,
        kind: HistoryKind,
        detail: &str,
    ) -> Result<bool> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT 1 FROM events WHERE account = ?1 AND kind = ?2 AND detail = ?3 LIMIT 1",
        )?;
        Ok(stmt.exists(params![account.as_str(), kind.as_str(), detail])?)
    }
}

/// A cell no spreadsheet evaluates.
fn inert(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

/// The history as a JSON array.
pub fn to_json(entries: &[HistoryEntry]) -> Result<String> {
    serde_json::to_string_pretty(entries).map_err(|e| Error::Ledger(e.to_string()))
}
