//! What the watcher and user actions report, for every sink: the window, the tray,
//! notifications, the CLI printer, the ledger.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::accounts::account::AccountId;
use crate::rules::Finding;
use crate::session::{Session, Snapshot};
use crate::watch::defence::PendingSignOut;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum EndReason {
    /// Revoked from Session Warden, and checked gone.
    RevokedHere,
    /// Gone from the server's list at or after its expiry.
    Expired,
    /// Gone before its expiry, and not by us: signed out or revoked on another device.
    RevokedElsewhere,
    /// Gone, and the server gives no expiry to tell which of the two.
    Vanished,
    /// Signed out by the account's idle policy (not used for longer than it allows), and
    /// checked gone.
    IdlePolicy,
    /// Signed out by Session Warden's defence on an alert that it cannot be the person (a
    /// copied cookie…), and checked gone.
    Defence,
}

impl EndReason {
    /// In words, as the history, the terminal and the window say it.
    pub fn words(self) -> &'static str {
        match self {
            EndReason::RevokedHere => "revoked here",
            EndReason::Expired => "expired",
            EndReason::RevokedElsewhere => "revoked elsewhere",
            EndReason::Vanished => "vanished",
            EndReason::IdlePolicy => "ended by the idle policy",
            EndReason::Defence => "ended by Session Warden",
        }
    }
}

impl EndReason {
    /// The reason as `words` says it (the ledger keeps words).
    pub fn from_words(words: &str) -> Option<EndReason> {
        [
            EndReason::RevokedHere,
            EndReason::Expired,
            EndReason::RevokedElsewhere,
            EndReason::Vanished,
            EndReason::IdlePolicy,
            EndReason::Defence,
        ]
        .into_iter()
        .find(|r| r.words() == words)
    }
}

impl std::fmt::Display for EndReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.words())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Event {
    /// A session that was not in the previous snapshot. Never raised by the first poll of
    /// an account, which only seeds the baseline.
    #[serde(rename_all = "camelCase")]
    SessionAppeared {
        session: Session,
        /// Why it looks wrong, worst first; empty for a sign-in nothing is odd about.
        findings: Vec<Finding>,
    },
    /// A known session that now looks wrong (it moved network or place).
    #[serde(rename_all = "camelCase")]
    Suspicious {
        session: Session,
        findings: Vec<Finding>,
    },
    #[serde(rename_all = "camelCase")]
    SessionEnded { session: Session, how: EndReason },
    /// The account was listed (polled) and the list changed in any way (new, ended,
    /// activity), or it is the first listing of a watch: the new list, for views to follow.
    /// ("Poll" is asking the server; "refresh" is only ever renewing a token.)
    #[serde(rename_all = "camelCase")]
    Listed { snapshot: Snapshot },
    /// Polling fails; what the user sees is "stale since", never silence.
    #[serde(rename_all = "camelCase")]
    Stale {
        account: AccountId,
        since: DateTime<Utc>,
        error: String,
        /// Polling cannot resume by itself: the password changed, or the service asks for
        /// a one-time code that only the person can give.
        needs_sign_in: bool,
    },
    #[serde(rename_all = "camelCase")]
    Recovered { account: AccountId },
    /// Session Warden's own sign-in ends at `at` (SecureAuth's 7-day token) and only the
    /// person can renew it (a new code): told a day ahead, so the watching never stops
    /// unannounced.
    #[serde(rename_all = "camelCase")]
    SignInEnding {
        account: AccountId,
        at: DateTime<Utc>,
    },
    /// The idle policy signed these sessions out in one run (each also ended, recorded as
    /// `EndReason::IdlePolicy`): told in one notification.
    #[serde(rename_all = "camelCase")]
    IdleSignedOut {
        account: AccountId,
        after: crate::watch::idle::IdleAfter,
        ended: Vec<Session>,
    },
    /// The defence will sign `session` out when `pending.due` comes, unless the person says
    /// "It's me" first: told with a countdown, [It's me] and [Sign out now].
    #[serde(rename_all = "camelCase")]
    SignOutPending {
        session: Session,
        pending: PendingSignOut,
    },
    /// The defence signed `session` out and saw it gone (recorded as ended, "ended by
    /// Session Warden: " and its reason); `note` is what is left of its access, where
    /// something is (node-auth's access token, until it runs out).
    #[serde(rename_all = "camelCase")]
    DefenceSignedOut {
        session: Session,
        pending: PendingSignOut,
        note: Option<String>,
    },
    /// The defence could not sign it out (the server is down, or refused): tried again at
    /// each poll, and said when the reason changes.
    #[serde(rename_all = "camelCase")]
    DefenceFailed {
        pending: PendingSignOut,
        error: String,
    },
    /// An alert the defence would act on, which it asks the person about instead, with why:
    /// signing out costs more than the session (Matrix), or it has signed out enough of this
    /// account's sessions this hour.
    #[serde(rename_all = "camelCase")]
    DefenceAsks {
        session: Session,
        finding: Finding,
        why: String,
    },
}

impl Event {
    pub fn account(&self) -> &AccountId {
        match self {
            Event::SessionAppeared { session, .. }
            | Event::Suspicious { session, .. }
            | Event::SessionEnded { session, .. }
            | Event::SignOutPending { session, .. }
            | Event::DefenceSignedOut { session, .. }
            | Event::DefenceAsks { session, .. } => &session.account,
            Event::DefenceFailed { pending, .. } => &pending.account,
            Event::Listed { snapshot } => &snapshot.account,
            Event::Stale { account, .. }
            | Event::Recovered { account }
            | Event::SignInEnding { account, .. }
            | Event::IdleSignedOut { account, .. } => account,
        }
    }
}

/// Where events go. The desktop shell, the CLI and tests each provide one.
pub trait EventSink: Send + Sync + 'static {
    fn emit(&self, event: Event);
}

impl EventSink for tokio::sync::mpsc::UnboundedSender<Event> {
    fn emit(&self, event: Event) {
        // A closed receiver means the front end is shutting down; nothing left to tell.
        let _ = self.send(event);
    }
}
