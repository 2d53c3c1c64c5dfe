//! The one domain model every dialect converts into. Nothing past a dialect module knows
//! which API a session came from.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::accounts::account::AccountId;
use crate::geoip::Operator;
use crate::secret::Secret;

/// A point on the map, in degrees. Never NaN: the IP database's are checked on the way in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Coordinates {
    pub lat: f64,
    pub lon: f64,
}

impl Eq for Coordinates {}

/// The id Session Warden shows for a session: derived from the server's id, never equal to
/// it, because some servers (hectoday) use the session cookie itself as the id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(type = "string"))]
pub struct SessionId(String);

impl SessionId {
    pub fn derive(account: &AccountId, server_id: &Secret) -> Self {
        Self::hashed(account, server_id, None)
    }

    /// The id of the `n`th session (n ≥ 2) a listing gives one server id: a second,
    /// distinct id, so a server repeating an id cannot make two sessions one.
    pub fn derive_repeat(account: &AccountId, server_id: &Secret, n: u32) -> Self {
        Self::hashed(account, server_id, Some(n))
    }

    fn hashed(account: &AccountId, server_id: &Secret, repeat: Option<u32>) -> Self {
        let mut hash = Sha256::new();
        hash.update(account.as_str().as_bytes());
        hash.update(b"\0");
        hash.update(server_id.expose().as_bytes());
        if let Some(n) = repeat {
            hash.update(b"\0repeat\0");
            hash.update(n.to_le_bytes());
        }
        let digest = hash.finalize();
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut id = String::with_capacity(16);
        for b in &digest[..8] {
            id.push(char::from(HEX[usize::from(b >> 4)]));
            id.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        Self(id)
    }

    /// An id as the ledger stored it.
    pub(crate) fn from_stored(id: String) -> Self {
        Self(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An id as a person or a front end hands it back (16 hex digits, as `derive` makes them).
impl std::str::FromStr for SessionId {
    type Err = crate::error::Error;

    fn from_str(text: &str) -> crate::error::Result<Self> {
        if text.len() == 16 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(text.to_ascii_lowercase()))
        } else {
            Err(crate::error::Error::InvalidInput(format!(
                "{text:?} is not a session id"
            )))
        }
    }
}

impl std::fmt::Display for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum DeviceKind {
    Desktop,
    Mobile,
    Tablet,
    Tv,
    /// Not a device: a token a person made for a script or an integration (Home
    /// Assistant's long-lived access tokens). Never a "new device".
    Token,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Device {
    pub kind: DeviceKind,
    pub browser: Option<String>,
    pub os: Option<String>,
    /// What a person calls it: "Firefox on Linux".
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Session {
    pub account: AccountId,
    pub id: SessionId,
    /// The server's own id, needed to revoke. A secret on some servers; never serialized.
    #[serde(skip)]
    pub server_id: Secret,
    /// Shared: the sessions of one listing that name one device share one `Device`.
    pub device: Arc<Device>,
    /// The raw user agent, where the server gives it (shared like `device`).
    pub user_agent: Option<Arc<str>>,
    pub ip: Option<String>,
    /// Where it is ("Berlin, DE"): the server's word where it gives one, else the IP
    /// database's.
    pub location: Option<String>,
    /// Where on the map, where known (the IP database, for the travel rules).
    pub coordinates: Option<Coordinates>,
    /// How far from `location` the device may really be, in km: a place from an IP database
    /// is a guess (a mobile carrier's addresses sit where its records say, not where the
    /// phone is), a server's own place is taken as it comes. `None`: not placed.
    pub location_margin_km: Option<u32>,
    /// Where it is, in the words the person is shown, as sure as the data allows: "Berlin,
    /// DE", "near Berlin, DE", or "Germany" where the city is not to be trusted. Decided in
    /// core with `location` (`geo::shown`); every front end shows this, never `location`.
    pub location_shown: Option<String>,
    /// Whose network its address is on (the IP database), shared like `device`.
    pub operator: Option<Arc<Operator>>,
    /// The person's own name for it ("Mum's iPad"), kept in the ledger.
    pub label: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub last_active_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// What the server sent of this session that could not be read, in words ("its last
    /// activity is in the year 262142"): that field is left empty, the rest of the session
    /// (and of the listing) is kept, and every front end says so with the session.
    pub unreadable: Option<String>,
    /// The session Session Warden itself signed in with.
    pub is_current: bool,
    /// A session Session Warden held before (a sign-in it has since replaced) that the
    /// server still lists: ours, though not the one we hold. Known from the ledger, which
    /// keeps the id of every session we signed in with, never from what the server says.
    pub ours_earlier: bool,
}

impl Session {
    /// What stays the same when a server hands a device a new session id (node-auth on
    /// every refresh, any server after a restart): the device as the server describes it,
    /// and its network. Two sessions with one key are one device, as far as alerts go.
    pub fn device_key(&self) -> String {
        let device = match (&self.user_agent, self.is_current) {
            (_, true) => "\u{0}ours",
            (Some(agent), false) => &**agent,
            (None, false) => self.device.label.as_str(),
        };
        let network = self.network_key().unwrap_or_default();
        format!("{device}|{network}")
    }

    /// The network it is on, as the rules know networks: its operator where the IP
    /// database knows it (a phone moves between a carrier's blocks, an ISP renumbers a
    /// line), else its /24 or /48.
    pub fn network_key(&self) -> Option<String> {
        match self.operator.as_deref() {
            Some(Operator { asn: Some(asn), .. }) => Some(format!("AS{asn}")),
            Some(operator) => Some(operator.name.clone()),
            None => self.ip.as_deref().and_then(network_of),
        }
    }

    /// "Berlin, DE · Deutsche Telekom AG": where it is and whose network, as far as known
    /// (the place as sure as the data allows: "near Berlin, DE", "Germany").
    pub fn whereabouts(&self) -> Option<String> {
        let place = self.location_shown.as_ref().or(self.location.as_ref());
        match (place, &self.operator) {
            (Some(place), Some(operator)) => Some(format!("{place} · {}", operator.name)),
            (Some(place), None) => Some(place.clone()),
            (None, Some(operator)) => Some(operator.name.clone()),
            (None, None) => None,
        }
    }

    /// Known to be over: past the expiry the server (or its API's rules) gives it.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|end| end <= now)
    }

    /// Session Warden's own: the one it signs in with, or one it signed in with before and
    /// the server still lists. (A user agent naming Session Warden is a claim anyone can
    /// make: it makes nothing ours.)
    pub fn is_ours(&self) -> bool {
        self.is_current || self.ours_earlier
    }

    /// A session of `account` with nothing known of it but its server id and its device's
    /// name: where a test starts, setting what it is about.
    #[cfg(test)]
    pub(crate) fn bare(account: &AccountId, server_id: &str, device: &str) -> Session {
        let server_id = Secret::new(server_id);
        Session {
            id: SessionId::derive(account, &server_id),
            account: account.clone(),
            server_id,
            device: Device::from_label(device).into(),
            user_agent: None,
            ip: None,
            location: None,
            coordinates: None,
            location_margin_km: None,
            location_shown: None,
            unreadable: None,
            operator: None,
            label: None,
            created_at: None,
            last_active_at: None,
            expires_at: None,
            is_current: false,
            ours_earlier: false,
        }
    }
}

/// The network part of an address: /24 for IPv4, /48 for IPv6 (a home or office, not
/// the one address a router hands out today). `None` for a text that is no address (a
/// server's "unknown", or whatever a client claimed): it says nothing of a network.
pub fn network_of(ip: &str) -> Option<String> {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => {
            let [a, b, c, _] = v4.octets();
            Some(format!("{a}.{b}.{c}.0/24"))
        }
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            Some(format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2]))
        }
        Err(_) => None,
    }
}

/// How an `ip` that is not an IP address is shown: the server's text, marked as such, so
/// no front end presents a client's claim ("=HYPERLINK(…)", "evil.example") as an address.
pub const NOT_AN_ADDRESS: &str = " (not an IP address)";

/// Every live session of one account, as listed at `fetched_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Snapshot {
    pub account: AccountId,
    pub sessions: Vec<Session>,
    pub fetched_at: DateTime<Utc>,
}

impl Snapshot {
    /// One session by id. A scan: for many lookups, use [`Snapshot::by_id`].
    pub fn get(&self, id: &SessionId) -> Option<&Session> {
        self.sessions.iter().find(|s| &s.id == id)
    }

    /// The sessions by id, for comparing two large snapshots.
    pub fn by_id(&self) -> foldhash::HashMap<&SessionId, &Session> {
        self.sessions.iter().map(|s| (&s.id, s)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_id_is_stable_and_reveals_nothing_of_the_server_id() {
        let account = AccountId::from_stored("abc".into());
        let server_id = Secret::new("4f1c2e7a-cookie-value");
        let a = SessionId::derive(&account, &server_id);
        assert_eq!(a, SessionId::derive(&account, &server_id));
        assert_eq!(a.as_str().len(), 16);
        assert!(!a.as_str().contains("4f1c"));
        let other = SessionId::derive(&AccountId::from_stored("abd".into()), &server_id);
        assert_ne!(
            a, other,
            "the same server id on two accounts must not collide"
        );
    }

    #[test]
    fn a_serialized_session_carries_no_server_id() {
        let mut session = Session::bare(
            &AccountId::from_stored("acc".into()),
            "the-cookie-value",
            "Firefox on Linux",
        );
        session.ip = Some("203.0.113.7".into());
        let json = serde_json::to_string(&session).expect("serializes");
        assert!(!json.contains("the-cookie-value"), "{json}");
        assert!(json.contains("\"isCurrent\":false"), "{json}");
    }
}
