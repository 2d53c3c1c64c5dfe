//! The session APIs Session Warden speaks. Each dialect module owns its wire types and
//! converts them into the domain model at the boundary; its status codes map to `Error`s
//! per API, never by a guess shared between APIs.

pub mod hectoday;

use serde::{Deserialize, Serialize};

use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DialectKind {
    Hectoday,
}

impl DialectKind {
    pub const ALL: [DialectKind; 1] = [DialectKind::Hectoday];

    pub fn as_str(self) -> &'static str {
        match self {
            DialectKind::Hectoday => "hectoday",
        }
    }
}

impl std::fmt::Display for DialectKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for DialectKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DialectKind::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "unknown API {s:?}; supported: {}",
                    DialectKind::ALL.map(|d| d.as_str()).join(", ")
                ))
            })
    }
}

/// What a dialect call can say beyond success: the caller re-authenticates on `Expired`.
#[derive(Debug)]
pub(crate) enum CallError {
    /// Our own session on the server is gone (expired, revoked, signed out).
    Expired,
    Other(Error),
}

impl From<Error> for CallError {
    fn from(e: Error) -> Self {
        CallError::Other(e)
    }
}
