//! The defence, over the ledger: each account's setting and the home's default, the
//! sign-outs decided on (every process sees them; any can cancel one or hasten it), and
//! carrying them out, which only the watching process does (`watch::Poller`).

use crate::accounts::account::{Account, AccountId};
use crate::error::Result;
use crate::event::Event;
use crate::rules::Finding;
use crate::session::{Session, SessionId, Snapshot};
use crate::watch::defence::{Decision, Defence, PendingSignOut, decide};

use super::{Accounts, blocking_io};

/// What the defence made of an alert.
#[derive(Debug, Clone, PartialEq)]
pub enum Defended {
    /// A sign-out is pending (due now, for "at once").
    Pending(PendingSignOut),
    /// Session Warden asks instead, and says why.
    Asks(String),
}

impl Accounts {
    /// The account's defence: its own, else the home's default.
    pub fn defence(&self, account: &Account) -> Result<Defence> {
        blocking_io(|| self.ledger.defence(&account.id))
    }

    pub fn set_defence(&self, account: &Account, defence: Defence) -> Result<()> {
        blocking_io(|| self.ledger.set_defence(&account.id, defence))
    }

    /// The defence new accounts start with.
    pub fn default_defence(&self) -> Result<Defence> {
        blocking_io(|| self.ledger.default_defence())
    }

    pub fn set_default_defence(&self, defence: Defence) -> Result<()> {
        blocking_io(|| self.ledger.set_default_defence(defence))
    }

    /// The sign-outs not yet done, of one account or every one, soonest first.
    pub fn pending_sign_outs(&self, account: Option<&AccountId>) -> Result<Vec<PendingSignOut>> {
        blocking_io(|| self.ledger.pending_sign_outs(account))
    }

    /// Cancels a pending sign-out; `false` when none was pending for that session.
    pub fn cancel_sign_out(&self, account: &AccountId, session: &SessionId) -> Result<bool> {
        blocking_io(|| self.ledger.cancel_sign_out(account, session))
    }

    /// "Sign out now": due at once; the watcher carries it out at its next poll.
    pub fn sign_out_now(&self, account: &AccountId, session: &SessionId) -> Result<bool> {
        let now = self.clock.now();
        blocking_io(|| self.ledger.hasten_sign_out(account, session, now))
    }

    /// The defence's answer to an alert of the watcher's on `session`: `None` when it only
    /// tells (or a sign-out of it is pending already).
    pub(crate) fn defend(
        &self,
        account: &Account,
        session: &Session,
        finding: &Finding,
    ) -> Result<Option<Defended>> {
        let now = self.clock.now();
        let defence = self.defence(account)?;
        let recent = blocking_io(|| {
            self.ledger
                .sign_outs_since(&account.id, now - chrono::TimeDelta::hours(1))
        })?;
        match decide(defence, account.dialect, session, finding, recent, now) {
            Decision::Tell => Ok(None),
            Decision::Ask(why) => Ok(Some(Defended::Asks(why))),
            Decision::SignOut { due } => {
                let pending = PendingSignOut {
                    account: account.id.clone(),
                    session: session.id.clone(),
                    device: PendingSignOut::device_words(session),
                    rule: finding.rule,
                    reason: finding.reason.clone(),
                    since: now,
                    due,
                    last_error: None,
                };
                let added = blocking_io(|| self.ledger.add_sign_out(&pending))?;
                Ok(added.then_some(Defended::Pending(pending)))
            }
        }
    }

    /// Carries out the account's sign-outs that are due, as `listing` (made now) lists
    /// their sessions: each revoked, checked gone and recorded with its alert. Returns what
    /// to tell: each one signed out, and each failure whose reason is new (tried again at
    /// the next poll).
    pub(crate) async fn carry_out_sign_outs(
        &self,
        account: &Account,
        listing: &Snapshot,
    ) -> Vec<Event> {
        let now = self.clock.now();
        let due: Vec<PendingSignOut> = match self.pending_sign_outs(Some(&account.id)) {
            Ok(pending) => pending.into_iter().filter(|p| p.due <= now).collect(),
            Err(e) => {
                tracing::warn!(account = %account.id, "cannot read the pending sign-outs: {e}");
                return Vec::new();
            }
        };
        let mut told = Vec::new();
        for pending in due {
            let Some(session) = listing.get(&pending.session).cloned() else {
                // Gone already (ended by itself, or revoked meanwhile): nothing left to do.
                if let Err(e) = self.finish_sign_out(&pending) {
                    tracing::warn!(account = %account.id, "cannot record a sign-out: {e}");
                }
                continue;
            };
            match self.revoke_checked(account, session, listing).await {
                Ok(session) => {
                    if let Err(e) = self.finish_sign_out(&pending) {
                        tracing::warn!(account = %account.id, "cannot record a sign-out: {e}");
                    }
                    self.judge.revoked(&account.id, &session.id);
                    let event = Event::DefenceSignedOut {
                        note: self.after_revoke(account, &session),
                        session,
                        pending,
                    };
                    self.record(&event);
                    told.push(event);
                }
                Err(e) => {
                    let error = e.to_string();
                    if let Err(e) = blocking_io(|| {
                        self.ledger
                            .sign_out_failed(&account.id, &pending.session, &error)
                    }) {
                        tracing::warn!(account = %account.id, "cannot record a sign-out: {e}");
                    }
                    if pending.last_error.as_deref() != Some(error.as_str()) {
                        told.push(Event::DefenceFailed { pending, error });
                    }
                }
            }
        }
        told
    }

    fn finish_sign_out(&self, pending: &PendingSignOut) -> Result<()> {
        let now = self.clock.now();
        blocking_io(|| {
            self.ledger
                .sign_out_done(&pending.account, &pending.session, now)
        })
    }
}
