//! What `Accounts` records and reads back in the ledger: every event, the history and
//! what it remembers of each account (its listings, the sessions seen, those revoked here).

use crate::accounts::account::Account;
use crate::error::Result;
use crate::event::Event;
use crate::ledger::history::{HistoryEntry, SeenSession};
use crate::session::{Session, SessionId, Snapshot};

use super::{Accounts, blocking_io};

impl Accounts {
    /// Keeps an event in the history. The history failing never stops the watching: it is
    /// logged and the event still reaches the person.
    pub fn record(&self, event: &Event) {
        let result = match event {
            Event::Listed { snapshot } => blocking_io(|| {
                self.ledger.observe(snapshot)?;
                self.trim_now_and_then()
            }),
            other => blocking_io(|| self.ledger.record(other, self.clock.now())),
        };
        if let Err(e) = result {
            tracing::error!(account = %event.account(), "could not write the history: {e}");
        }
    }

    /// Keeps the history bounded (`retention`), at most every `retention::TRIM_EVERY` in
    /// this process.
    pub(super) fn trim_now_and_then(&self) -> Result<()> {
        {
            let mut last = self.last_trim.lock().unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|at| at.elapsed() < crate::ledger::retention::TRIM_EVERY) {
                return Ok(());
            }
            *last = Some(std::time::Instant::now());
        }
        for (account, trimmed) in self.ledger.trim(self.clock.now())? {
            tracing::info!(%account, ?trimmed, "history trimmed");
        }
        Ok(())
    }

    /// The events, oldest first; of one account or of all.
    pub fn history(&self, account: Option<&Account>) -> Result<Vec<HistoryEntry>> {
        self.ledger.history(account.map(|a| &a.id))
    }

    /// The events recorded after `seq` (by any process on this home), oldest first.
    pub fn history_since(&self, account: Option<&Account>, seq: i64) -> Result<Vec<HistoryEntry>> {
        self.ledger.history_since(account.map(|a| &a.id), seq)
    }

    /// The newest event's number: where following the history starts.
    pub fn last_event_seq(&self) -> Result<i64> {
        self.ledger.last_seq()
    }

    /// What the ledger remembers of the account from earlier runs: every session ever seen,
    /// and those still live when last seen. `None` for an account never watched before.
    pub fn remembered(&self, account: &Account) -> Result<Option<(Snapshot, Snapshot)>> {
        let mut remembered = blocking_io(|| self.ledger.remembered(&account.id))?;
        if remembered.is_empty() {
            return Ok(None);
        }
        let geoip = self.geoip();
        for (session, _) in &mut remembered {
            geoip.enrich(std::slice::from_mut(session));
        }
        let snapshot = |sessions: Vec<Session>| Snapshot {
            account: account.id.clone(),
            sessions,
            fetched_at: self.clock.now(),
        };
        let live = remembered
            .iter()
            .filter(|(_, ended)| !ended)
            .map(|(s, _)| s.clone())
            .collect();
        let all = remembered.into_iter().map(|(s, _)| s).collect();
        Ok(Some((snapshot(all), snapshot(live))))
    }

    /// The sessions that raised a warning or an alert, with when (they teach the rules
    /// nothing until trusted or a week old).
    pub fn flagged(
        &self,
        account: &Account,
    ) -> Result<Vec<(SessionId, chrono::DateTime<chrono::Utc>)>> {
        blocking_io(|| self.ledger.flagged(&account.id))
    }

    /// Every session ever seen on the account, with how each ended.
    pub fn seen_sessions(&self, account: &Account) -> Result<Vec<SeenSession>> {
        self.ledger.seen_sessions(&account.id)
    }

    pub(super) fn listed_own_expiry(
        &self,
        account: &Account,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        blocking_io(|| self.ledger.own_session_expiry(&account.id)).unwrap_or_else(|e| {
            tracing::warn!(account = %account.id, "cannot read the history: {e}");
            None
        })
    }

    /// Whether the person has been told that the sign-in ending `at` needs them.
    pub(crate) fn told_sign_in_ending(
        &self,
        account: &Account,
        at: chrono::DateTime<chrono::Utc>,
    ) -> bool {
        self.ledger
            .has_event(
                &account.id,
                crate::ledger::history::HistoryKind::SignInEnding,
                &crate::ledger::history::ending_detail(at),
            )
            .unwrap_or(false)
    }

    /// Records sessions this process ended and saw gone: "revoked here" is in the ledger, so
    /// a watcher in any process that then finds them gone reports them so, and records
    /// nothing twice.
    pub(super) fn record_revoked<'s>(&self, ended: impl IntoIterator<Item = &'s Session>) {
        for session in ended {
            self.judge.revoked(&session.account, &session.id);
            self.record(&Event::SessionEnded {
                session: session.clone(),
                how: crate::event::EndReason::RevokedHere,
            });
        }
    }

    /// The sessions of the account revoked through Session Warden, by any process.
    pub fn revoked_here(&self, account: &Account) -> Vec<SessionId> {
        blocking_io(|| self.ledger.revoked_here(&account.id)).unwrap_or_else(|e| {
            tracing::warn!(account = %account.id, "cannot read the history: {e}");
            Vec::new()
        })
    }

    /// How the session ended, when the ledger already knows (a process revoked it).
    pub fn recorded_end(&self, session: &Session) -> Option<crate::event::EndReason> {
        self.ledger
            .recorded_end(&session.account, &session.id)
            .unwrap_or_else(|e| {
                tracing::warn!(account = %session.account, "cannot read the history: {e}");
                None
            })
    }
}
