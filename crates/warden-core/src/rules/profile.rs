//! What an account's past says is normal: the devices, networks, countries and hours it
//! is used from, and the devices the person said are theirs. Bounded, so a watcher that
//! runs for months stays small.

use std::collections::{HashSet, VecDeque};

use chrono::{DateTime, Timelike, Utc};

use super::geo::Place;
use crate::session::{Session, network_of};

/// At most this many of each kind of thing remembered; the oldest go first.
const REMEMBERED: usize = 512;
/// Located sightings kept for the travel rule.
const SIGHTINGS: usize = 64;

/// A set that forgets its oldest entries past `REMEMBERED`.
#[derive(Debug, Clone, Default)]
pub struct Recent {
    order: VecDeque<String>,
    index: HashSet<String>,
}

impl Recent {
    pub fn contains(&self, value: &str) -> bool {
        self.index.contains(value)
    }

    /// Remembers `value`; copies it only when it is new, as it rarely is: a watcher learns
    /// every session of every poll.
    pub fn insert(&mut self, value: &str) {
        if !self.index.contains(value) {
            self.index.insert(value.to_owned());
            self.order.push_back(value.to_owned());
            if self.order.len() > REMEMBERED
                && let Some(old) = self.order.pop_front()
            {
                self.index.remove(&old);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// Where and when one of the account's sessions was seen, with a known place.
#[derive(Debug, Clone, PartialEq)]
pub struct Sighting {
    pub session: String,
    pub place: Place,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub devices: Recent,
    pub networks: Recent,
    pub countries: Recent,
    pub trusted: Recent,
    /// Sign-ins per hour of the day (UTC).
    pub sign_in_hours: [u32; 24],
    pub sightings: VecDeque<Sighting>,
}

/// The device part of a session's identity: its user agent, or the server's name for it.
pub fn device_of(session: &Session) -> &str {
    session
        .user_agent
        .as_deref()
        .unwrap_or(&session.device.label)
}

impl Profile {
    pub fn knows_device(&self, session: &Session) -> bool {
        self.devices.contains(device_of(session))
    }

    pub fn knows_network(&self, ip: &str) -> bool {
        self.networks.contains(&network_of(ip))
    }

    pub fn trusts(&self, session: &Session) -> bool {
        self.trusted.contains(device_of(session))
    }

    pub fn sign_ins(&self) -> u32 {
        self.sign_in_hours.iter().sum()
    }

    /// Remembers the session as normal for this account.
    pub fn learn(&mut self, session: &Session, new_sign_in: bool) {
        if session.is_current {
            return;
        }
        self.devices.insert(device_of(session));
        if let Some(ip) = &session.ip {
            self.networks.insert(&network_of(ip));
        }
        let place = session.location.as_deref().and_then(Place::parse);
        if let Some(place) = &place {
            self.countries.insert(&place.country);
        }
        if new_sign_in {
            let at = session.created_at.unwrap_or_else(Utc::now);
            self.sign_in_hours[at.hour() as usize] += 1;
        }
        if let (Some(place), Some(at)) = (place, session.last_active_at.or(session.created_at)) {
            let sighting = Sighting {
                session: session.id.to_string(),
                place,
                at,
            };
            if self.sightings.back() != Some(&sighting) {
                self.sightings.push_back(sighting);
                if self.sightings.len() > SIGHTINGS {
                    self.sightings.pop_front();
                }
            }
        }
    }

    pub fn trust(&mut self, session: &Session) {
        self.trusted.insert(device_of(session));
        self.learn(session, false);
    }
}
