//! Ending sessions: revoking one (checked gone by the server's id), signing out all
//! others, and the idle policy's ends, each recorded as revoked here.

use crate::accounts::account::Account;
use crate::dialect;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::secret::Secret;
use crate::session::{Session, SessionId, Snapshot};
use crate::watch::idle::{IdlePlan, IdlePolicy};

use super::{Accounts, blocking_io};

impl Accounts {
    /// The password a sign-out on this account asks for again, where its API asks
    /// (`DialectKind::revoke_needs_password`), from the keyring.
    pub(super) async fn password_for_revoke(&self, account: &Account) -> Result<Option<Secret>> {
        if !account.dialect.revoke_needs_password() {
            return Ok(None);
        }
        self.stored_password(account).await.map(Some)
    }

    /// Ends one session, then lists again to check it is really gone.
    pub async fn revoke(&self, account: &Account, id: &SessionId) -> Result<Session> {
        let before = self.snapshot(account).await?;
        let session = before
            .get(id)
            .cloned()
            .ok_or_else(|| Error::SessionNotFound(id.to_string()))?;
        self.revoke_listed(account, session, &before).await
    }

    /// `revoke` for a caller that holds the session from a listing of its own.
    pub async fn revoke_session(&self, account: &Account, session: Session) -> Result<Session> {
        let before = self.snapshot(account).await?;
        self.revoke_listed(account, session, &before).await
    }

    /// Why revoking `session`, as `listing` (made now) lists it, would be refused before
    /// anything is sent — said before the person is asked to confirm, not after. Our own
    /// session; an id the server lists for several sessions: it would end whichever it finds
    /// first, perhaps an innocent one, and the intruder's row would then look like it, gone.
    pub fn check_revocable(&self, session: &Session, listing: &Snapshot) -> Result<()> {
        if session.is_current {
            return Err(Error::OwnSession);
        }
        match listing
            .sessions
            .iter()
            .filter(|s| s.server_id == session.server_id)
            .count()
        {
            0 => Err(Error::SessionNotFound(session.id.to_string())),
            1 => Ok(()),
            sharing => Err(Error::NotSent(format!(
                "the server lists {sharing} sessions under this one's id, so revoking it could \
                 end another of them (yours, perhaps) and leave this one signed in; Session \
                 Warden sent nothing. Sign out all other devices, or end it in the service's \
                 own settings"
            ))),
        }
    }

    /// Ends `session` as `before` (a listing made now) lists it, when `check_revocable`
    /// allows; checked gone row by row, and recorded "revoked here".
    pub async fn revoke_listed(
        &self,
        account: &Account,
        session: Session,
        before: &Snapshot,
    ) -> Result<Session> {
        let session = self.revoke_checked(account, session, before).await?;
        self.record_revoked([&session]);
        Ok(session)
    }

    /// [`Accounts::revoke_listed`] without recording how it ended: the caller records it.
    pub(super) async fn revoke_checked(
        &self,
        account: &Account,
        session: Session,
        before: &Snapshot,
    ) -> Result<Session> {
        let id = &session.id;
        let target = &session;
        self.check_revocable(&session, before)?;
        let password = self.password_for_revoke(account).await?;
        self.send_revoke(account, password.as_ref(), target)
            .await
            .map_err(|e| match e {
                Error::SessionNotFound(_) => Error::SessionNotFound(id.to_string()),
                other => other,
            })?;
        // By the server's id, not ours: ours is derived from the row's place among rows
        // sharing an id, and another row may take it.
        let after = self.snapshot(account).await?;
        if after
            .sessions
            .iter()
            .any(|s| s.server_id == session.server_id)
        {
            return Err(Error::RevokeNotEffective(id.to_string()));
        }
        Ok(session)
    }

    /// Asks the server to end `session` (our token renewed if need be; `password` where
    /// the API asks for it again), without checking: the callers list again once.
    pub(super) async fn send_revoke(
        &self,
        account: &Account,
        password: Option<&Secret>,
        session: &Session,
    ) -> Result<()> {
        self.call(account, |token| async move {
            let ctx = self.ctx_with(account, password);
            dialect::revoke(account.dialect, &ctx, &token, session).await
        })
        .await
    }

    /// Signs out every session but our own, then lists again to check; returns the ended ones.
    pub async fn sign_out_others(&self, account: &Account) -> Result<Vec<Session>> {
        let before = self.snapshot(account).await?;
        // A row that shares our session's id is ours, whatever the server marks.
        let ours: Vec<&Secret> = before
            .sessions
            .iter()
            .filter(|s| s.is_current)
            .map(|s| &s.server_id)
            .collect();
        // Tokens a person made for scripts and integrations (Home Assistant's long-lived
        // ones) are not devices: signing out the others leaves them be.
        let others: Vec<Session> = before
            .sessions
            .iter()
            .filter(|s| !s.is_current && !ours.contains(&&s.server_id))
            .filter(|s| s.device.kind != crate::session::DeviceKind::Token)
            .cloned()
            .collect();
        let listed = &before.sessions;
        let password = self.password_for_revoke(account).await?;
        let password = password.as_ref();
        self.call(account, |token| async move {
            let ctx = self.ctx_with(account, password);
            dialect::sign_out_others(account.dialect, &ctx, &token, listed).await
        })
        .await?;
        let after = self.snapshot(account).await?;
        let (survivors, ended): (Vec<&Session>, Vec<&Session>) = others
            .iter()
            .partition(|s| after.sessions.iter().any(|a| a.server_id == s.server_id));
        self.record_revoked(ended);
        if let Some(first) = survivors.first() {
            return Err(Error::RevokeNotEffective(first.id.to_string()));
        }
        Ok(others)
    }

    /// The account's idle policy, if one is on (the ledger's: every process sees the same).
    pub fn idle_policy(&self, account: &Account) -> Result<Option<IdlePolicy>> {
        blocking_io(|| self.ledger.idle_policy(&account.id))
    }

    /// Turns the account's idle policy on, changes it, or (`None`) turns it off.
    pub fn set_idle_policy(&self, account: &Account, policy: Option<IdlePolicy>) -> Result<()> {
        blocking_io(|| self.ledger.set_idle_policy(&account.id, policy))
    }

    /// What `policy` would sign out now, from a listing made now: what the person sees
    /// before turning it on.
    pub async fn idle_preview(&self, account: &Account, policy: IdlePolicy) -> Result<IdlePlan> {
        let snapshot = self.snapshot(account).await?;
        Ok(self.idle_plan(account, policy, &snapshot))
    }

    /// What `policy` signs out of `snapshot`'s sessions at the engine's time.
    pub fn idle_plan(
        &self,
        account: &Account,
        policy: IdlePolicy,
        snapshot: &Snapshot,
    ) -> IdlePlan {
        crate::watch::idle::plan(
            policy,
            account.dialect,
            &snapshot.sessions,
            |s| self.judge.trusts(&account.id, s),
            self.clock.now(),
        )
    }

    /// Ends `sessions` (the idle policy's), lists once to check, and records each one gone
    /// as `how`. Returns those ended; one that failed or survived is logged and left for the
    /// next run.
    pub async fn end_sessions(
        &self,
        account: &Account,
        sessions: Vec<Session>,
        how: crate::event::EndReason,
    ) -> Result<Vec<Session>> {
        let password = self.password_for_revoke(account).await?;
        for session in &sessions {
            if let Err(e) = self.send_revoke(account, password.as_ref(), session).await {
                tracing::warn!(account = %account.id, "could not end an idle session: {e}");
            }
        }
        let after = self.snapshot(account).await?;
        let ended: Vec<Session> = sessions
            .into_iter()
            .filter(|s| after.get(&s.id).is_none())
            .collect();
        for session in &ended {
            self.record(&Event::SessionEnded {
                session: session.clone(),
                how,
            });
        }
        Ok(ended)
    }

    /// What the person should know after `session` was revoked, when the server cannot take
    /// it back at once (`dialect::after_revoke`). `None` when nothing of it is left.
    pub fn after_revoke(&self, account: &Account, session: &Session) -> Option<String> {
        let held = self.held_token(&account.id);
        dialect::after_revoke(account.dialect, held.as_ref(), session, self.clock.now())
    }
}
