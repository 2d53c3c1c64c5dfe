//! What an account's past says is normal: the devices (by what they are, not their
//! versions), networks (by operator), places and hours it is used from, how many sessions it
//! usually has, and the devices the person said are theirs. Bounded, so a watcher that runs
//! for months stays small.

use std::collections::{HashSet, VecDeque};

use chrono::{DateTime, NaiveDate, Timelike, Utc};

use super::geo::{Place, distance_km};
use crate::session::{Coordinates, Device, Session};

/// At most this many of each kind of thing remembered; the oldest go first.
const REMEMBERED: usize = 512;
/// Places sessions were seen at, kept for the travel rules.
const SIGHTINGS: usize = 64;
/// Days of session counts the account's normal is learned from.
const COUNT_DAYS: usize = 30;
/// Days a count must lie in the past before it is normal.
const SETTLING_DAYS: i64 = 7;

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

/// Where and when one of the account's sessions was last seen at one place.
#[derive(Debug, Clone, PartialEq)]
pub struct Sighting {
    pub session: String,
    pub place: Place,
    pub coordinates: Option<Coordinates>,
    /// How far from `place` it may really have been (`Session::location_margin_km`).
    pub margin_km: u32,
    /// The network it was on (`Session::network_key`).
    pub network: Option<String>,
    pub at: DateTime<Utc>,
}

impl Sighting {
    /// Kilometres to `other`, where both are on the map.
    pub fn km_to(&self, other: Option<Coordinates>) -> Option<f64> {
        Some(distance_km(self.coordinates?, other?))
    }

    /// The place as the person was shown it ("near Berlin, DE", "Germany").
    pub fn shown(&self) -> String {
        super::geo::shown(&self.place.to_string(), Some(self.margin_km))
    }
}

/// Where a session is now, for comparing with the account's sightings.
#[derive(Debug, Clone, Copy)]
pub struct Whereabouts<'a> {
    pub coordinates: Coordinates,
    pub country: &'a str,
    pub margin_km: u32,
    pub network: Option<&'a str>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct Profile {
    /// Devices by what they are (`device_identity`).
    pub devices: Recent,
    /// "identity@network" and "identity@city": for APIs that name devices coarsely, where a
    /// device was seen tells the person's Chrome from a stranger's.
    pub device_haunts: Recent,
    /// Networks by operator (`Session::network_key`).
    pub networks: Recent,
    /// "Berlin, DE".
    pub cities: Recent,
    /// "DE".
    pub countries: Recent,
    pub trusted: Recent,
    /// Sign-ins per hour of the day (UTC).
    pub sign_in_hours: [u32; 24],
    /// Uses per hour of the day (UTC): each time a session's last activity moved. Most
    /// accounts sign in rarely but are used every day: when the person is awake shows here.
    pub use_hours: [u32; 24],
    /// The last activity counted in `use_hours`, per session.
    last_use: std::collections::HashMap<String, DateTime<Utc>>,
    /// The first sign-in or use counted in the hours.
    pub hours_since: Option<DateTime<Utc>>,
    pub sightings: VecDeque<Sighting>,
    /// The most live sessions seen on each recent day, for the account's own normal.
    pub daily_peaks: VecDeque<(NaiveDate, usize)>,
    /// Whether the count is above the normal now (so it is told once per crossing).
    pub crowded: bool,
}

/// What a device is, for telling known devices from new ones: its kind, browser family and
/// OS family, never their versions (an update is not a new device). Session Warden's own
/// session is one device whatever its id.
pub fn device_identity(session: &Session) -> String {
    if session.is_current {
        return "\u{0}ours".into();
    }
    identity_of(&session.device)
}

fn identity_of(device: &Device) -> String {
    let family = |part: &Option<String>| part.as_deref().map(strip_versions).unwrap_or_default();
    format!(
        "{:?}|{}|{}",
        device.kind,
        family(&device.browser),
        family(&device.os)
    )
}

/// A trusted device as the ledger kept it: an identity, or (kept before devices were known
/// by what they are) the raw user agent or the server's name for it.
pub fn stored_identity(kept: &str) -> String {
    if kept.contains('|') {
        kept.to_owned()
    } else if kept.contains('/') {
        identity_of(&Device::from_user_agent(kept))
    } else {
        identity_of(&Device::from_label(kept))
    }
}

/// Whether the API names this device too coarsely to know it by name alone (RTC's "Chrome
/// on a computer": no OS, no user agent).
pub fn coarse(session: &Session) -> bool {
    session.user_agent.is_none() && session.device.os.is_none()
}

/// "Mobile Safari 17.4" → "Mobile Safari"; "iOS 17.4.1" → "iOS"; "Windows 10" → "Windows".
fn strip_versions(text: &str) -> String {
    let words: Vec<&str> = text
        .split_whitespace()
        .filter(|w| !w.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    words.join(" ")
}

impl Profile {
    pub fn knows_device(&self, session: &Session) -> bool {
        let identity = device_identity(session);
        if !self.devices.contains(&identity) {
            return false;
        }
        if !coarse(session) {
            return true;
        }
        let network = session.network_key();
        let city = session.location.as_deref();
        network.is_some_and(|n| self.device_haunts.contains(&format!("{identity}@{n}")))
            || city.is_some_and(|c| self.device_haunts.contains(&format!("{identity}@{c}")))
    }

    pub fn knows_network(&self, session: &Session) -> bool {
        session
            .network_key()
            .is_some_and(|network| self.networks.contains(&network))
    }

    pub fn trusts(&self, session: &Session) -> bool {
        self.trusted.contains(&device_identity(session))
    }

    /// Sign-ins and uses counted in `hour` (UTC), and in all hours.
    pub fn hour_share(&self, hour: usize) -> (u32, u32) {
        let at = |h: usize| self.sign_in_hours[h].saturating_add(self.use_hours[h]);
        let total = (0..24).map(at).fold(0u32, u32::saturating_add);
        (at(hour % 24), total)
    }

    /// The most recent sighting, seen before `here.at`, that is surely at least `min_km`
    /// away: its distance less both places' margins. Never one on the same network in the
    /// same country (one operator's addresses are placed on towns all over a country, and a
    /// phone moves between its cells). Returns it with the distance between the two places
    /// as given and the least distance there can have been.
    pub fn last_seen_elsewhere(
        &self,
        here: Whereabouts<'_>,
        min_km: f64,
    ) -> Option<(&Sighting, f64, f64)> {
        self.sightings
            .iter()
            .filter(|s| s.at <= here.at)
            .filter(|s| {
                !(s.place.country == here.country
                    && s.network.is_some()
                    && s.network.as_deref() == here.network)
            })
            .filter_map(|s| {
                let km = s.km_to(Some(here.coordinates))?;
                let least = km - f64::from(s.margin_km) - f64::from(here.margin_km);
                Some((s, km, least))
            })
            .filter(|(_, _, least)| *least >= min_km)
            .max_by_key(|(s, _, _)| s.at)
    }

    /// The account's own normal number of live sessions on `today`: the most seen on a day
    /// of the last month, leaving out the last week (a crowd becomes normal only once it
    /// has lasted a week, as a flagged session does).
    pub fn usual_sessions(&self, today: NaiveDate) -> usize {
        self.daily_peaks
            .iter()
            .filter(|(day, _)| (today - *day).num_days() >= SETTLING_DAYS)
            .map(|(_, n)| *n)
            .max()
            .unwrap_or(0)
    }

    /// Counts `live` sessions on `day` towards the account's normal.
    pub fn count_sessions(&mut self, day: NaiveDate, live: usize) {
        match self.daily_peaks.back_mut() {
            Some((last, peak)) if *last == day => *peak = (*peak).max(live),
            _ => {
                self.daily_peaks.push_back((day, live));
                if self.daily_peaks.len() > COUNT_DAYS {
                    self.daily_peaks.pop_front();
                }
            }
        }
    }

    /// Remembers the session as normal for this account.
    pub fn learn(&mut self, session: &Session, new_sign_in: bool) {
        if session.is_current {
            return;
        }
        let identity = device_identity(session);
        self.devices.insert(&identity);
        if let Some(network) = session.network_key() {
            self.networks.insert(&network);
            self.device_haunts.insert(&format!("{identity}@{network}"));
        }
        let place = session.location.as_deref().and_then(Place::parse);
        if let Some(place) = &place {
            self.countries.insert(&place.country);
            let city = place.to_string();
            self.device_haunts.insert(&format!("{identity}@{city}"));
            self.cities.insert(&city);
        }
        if new_sign_in && let Some(at) = session.created_at {
            self.sign_in_hours[at.hour() as usize] += 1;
            self.hours_since = Some(self.hours_since.map_or(at, |since| since.min(at)));
        }
        if let Some(at) = session.last_active_at {
            let id = session.id.as_str();
            if self.last_use.get(id).is_none_or(|last| *last < at) {
                if self.last_use.len() >= REMEMBERED * 2 {
                    // Sessions come and go; a few counted twice after this are no harm.
                    self.last_use.clear();
                }
                self.last_use.insert(id.to_owned(), at);
                self.use_hours[at.hour() as usize] += 1;
                self.hours_since = Some(self.hours_since.map_or(at, |since| since.min(at)));
            }
        }
        if let (Some(place), Some(at)) = (place, session.last_active_at.or(session.created_at)) {
            let id = session.id.to_string();
            // One sighting per session and place, at its latest time.
            self.sightings
                .retain(|s| !(s.session == id && s.place == place));
            self.sightings.push_back(Sighting {
                session: id,
                coordinates: session.coordinates.or_else(|| place.coordinates()),
                margin_km: session.location_margin_km.unwrap_or(0),
                network: session.network_key(),
                place,
                at,
            });
            if self.sightings.len() > SIGHTINGS {
                self.sightings.pop_front();
            }
        }
    }

    /// Forgets where a session was seen: one the person revoked through Session Warden was
    /// surely not where they are (an intruder's, as likely as not), and must never become
    /// "where the account was" for the travel rules. What else it taught stays: a device
    /// the person revokes may well be their own old one.
    pub fn forget_sightings(&mut self, session: &str) {
        self.sightings.retain(|s| s.session != session);
    }

    pub fn trust(&mut self, session: &Session) {
        self.trusted.insert(&device_identity(session));
        self.learn(session, false);
    }
}
