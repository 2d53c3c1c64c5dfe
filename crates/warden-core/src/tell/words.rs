//! Core's words for what the window lists or filters by, handed over once (the `words`
//! command), so the window keeps no second copy of them: the APIs it speaks, the history's
//! kinds, the idle policy's choices, what trusting a device does.

use serde::Serialize;

use crate::dialect::DialectKind;
use crate::ledger::history::HistoryKind;
use crate::watch::idle::IdleAfter;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Words {
    /// Every API core speaks, named as people know it, for the add form's list.
    pub dialects: Vec<Titled<DialectKind>>,
    /// Every kind of history entry with its title ("Signed in", "Cannot check"…).
    pub history_kinds: Vec<Titled<HistoryKind>>,
    /// Every idle policy's span with its words ("a week", "3 months"…).
    pub idle_after: Vec<Titled<IdleAfter>>,
    /// What trusting a device ("It's me") does, to follow its name and a colon.
    pub trusted: String,
}

/// A value the window sends back, with what the person reads for it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Titled<T> {
    pub value: T,
    pub title: String,
}

impl Words {
    pub fn new() -> Words {
        Words {
            dialects: titled(DialectKind::ALL, DialectKind::title),
            history_kinds: titled(HistoryKind::ALL, HistoryKind::title),
            idle_after: titled(IdleAfter::ALL, IdleAfter::words),
            trusted: super::message::TRUSTED.into(),
        }
    }
}

fn titled<T: Copy>(
    all: impl IntoIterator<Item = T>,
    title: fn(T) -> &'static str,
) -> Vec<Titled<T>> {
    all.into_iter()
        .map(|value| Titled {
            value,
            title: title(value).into(),
        })
        .collect()
}

impl Default for Words {
    fn default() -> Self {
        Words::new()
    }
}
