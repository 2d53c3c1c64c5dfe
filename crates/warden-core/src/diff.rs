//! Comparing two snapshots of one account: what appeared, what ended.

use std::collections::HashSet;

use crate::session::{Session, SessionId, Snapshot};

#[derive(Debug, Default, PartialEq)]
pub struct Changes<'a> {
    pub appeared: Vec<&'a Session>,
    pub ended: Vec<&'a Session>,
    /// Anything differs, activity times included: views must re-render.
    pub any: bool,
}

pub fn diff<'a>(previous: &'a Snapshot, current: &'a Snapshot) -> Changes<'a> {
    let before: HashSet<&SessionId> = previous.sessions.iter().map(|s| &s.id).collect();
    let after: HashSet<&SessionId> = current.sessions.iter().map(|s| &s.id).collect();
    let appeared: Vec<_> = current
        .sessions
        .iter()
        .filter(|s| !before.contains(&s.id))
        .collect();
    let ended: Vec<_> = previous
        .sessions
        .iter()
        .filter(|s| !after.contains(&s.id))
        .collect();
    let any = previous.sessions != current.sessions;
    Changes {
        appeared,
        ended,
        any,
    }
}
