//! The rules, one type each. Each is a pure function of the session and its context, so
//! each is tested alone with cases that must fire and cases that must not.

use chrono::Timelike;

use super::geo::{Place, distance_km};
use super::{Context, Finding, Rule, RuleId, Severity};
use crate::session::{Session, network_of};

fn finding(rule: RuleId, severity: Severity, reason: String) -> Option<Finding> {
    Some(Finding {
        rule,
        severity,
        reason,
    })
}

/// A device this account has never been used from.
pub struct NewDevice;

impl Rule for NewDevice {
    fn id(&self) -> RuleId {
        RuleId::NewDevice
    }

    fn check(&self, session: &Session, ctx: &Context<'_>) -> Option<Finding> {
        if ctx.previous.is_some() || ctx.profile.knows_device(session) {
            return None;
        }
        finding(
            self.id(),
            Severity::Warning,
            format!(
                "A device never seen on this account: {}",
                session.device.label
            ),
        )
    }
}

/// A network (/24, /48) this account has never been used from.
pub struct NewNetwork;

impl Rule for NewNetwork {
    fn id(&self) -> RuleId {
        RuleId::NewNetwork
    }

    fn check(&self, session: &Session, ctx: &Context<'_>) -> Option<Finding> {
        let ip = session.ip.as_deref()?;
        if ctx.previous.is_some() || ctx.profile.knows_network(ip) {
            return None;
        }
        finding(
            self.id(),
            Severity::Notice,
            format!("From a network never seen on this account ({ip})"),
        )
    }
}

/// A country this account has never been used from (when the server says where).
pub struct NewCountry;

impl Rule for NewCountry {
    fn id(&self) -> RuleId {
        RuleId::NewCountry
    }

    fn check(&self, session: &Session, ctx: &Context<'_>) -> Option<Finding> {
        let place = Place::parse(session.location.as_deref()?)?;
        let home = ctx
            .thresholds
            .home_countries
            .iter()
            .any(|c| c.eq_ignore_ascii_case(&place.country));
        if home || ctx.profile.countries.contains(&place.country) {
            return None;
        }
        // Only news if the account has a past to compare with.
        if ctx.profile.countries.is_empty() && ctx.thresholds.home_countries.is_empty() {
            return None;
        }
        finding(
            self.id(),
            Severity::Warning,
            format!(
                "From a country never seen on this account: {}, {}",
                place.city, place.country
            ),
        )
    }
}

/// Two places farther apart than anyone travels in the time between.
pub struct ImpossibleTravel;

impl Rule for ImpossibleTravel {
    fn id(&self) -> RuleId {
        RuleId::ImpossibleTravel
    }

    fn check(&self, session: &Session, ctx: &Context<'_>) -> Option<Finding> {
        let here = Place::parse(session.location.as_deref()?)?;
        let here_at = session.last_active_at.or(session.created_at)?;
        let here_xy = here.coordinates()?;
        let own_id = session.id.to_string();
        ctx.profile
            .sightings
            .iter()
            .rev()
            .filter(|s| s.place.city != here.city || s.place.country != here.country)
            .filter_map(|s| {
                let km = distance_km(s.place.coordinates()?, here_xy);
                let hours = (here_at - s.at).num_seconds().unsigned_abs() as f64 / 3600.0;
                let speed = km / hours.max(1.0 / 60.0);
                (km >= ctx.thresholds.min_travel_km && speed > ctx.thresholds.max_speed_kmh)
                    .then_some((s, km, hours))
            })
            .next()
            .and_then(|(from, km, hours)| {
                let same = if from.session == own_id {
                    "this session"
                } else {
                    "this account"
                };
                finding(
                    self.id(),
                    Severity::Alert,
                    format!(
                        "Impossible travel: {same} was in {}, {} {} before appearing in {}, {}, {:.0} km away",
                        from.place.city,
                        from.place.country,
                        human_hours(hours),
                        here.city,
                        here.country,
                        km
                    ),
                )
            })
    }
}

fn human_hours(hours: f64) -> String {
    let minutes = (hours * 60.0).round() as i64;
    match minutes {
        0..=1 => "a minute".into(),
        2..=90 => format!("{minutes} minutes"),
        _ => format!("{:.0} hours", hours),
    }
}

/// More live sessions than the person would have.
pub struct TooManySessions;

impl Rule for TooManySessions {
    fn id(&self) -> RuleId {
        RuleId::TooManySessions
    }

    fn check(&self, session: &Session, ctx: &Context<'_>) -> Option<Finding> {
        let live = ctx.snapshot.sessions.len();
        if ctx.previous.is_some() || live <= ctx.thresholds.max_sessions || session.is_current {
            return None;
        }
        finding(
            self.id(),
            Severity::Warning,
            format!(
                "{live} sessions are signed in at once (more than {})",
                ctx.thresholds.max_sessions
            ),
        )
    }
}

/// Scripting tools, HTTP libraries and headless browsers name themselves; people's
/// browsers do not look like that. No user agent at all is as odd.
const ODD_CLIENTS: &[&str] = &[
    "curl",
    "wget",
    "python-requests",
    "python-urllib",
    "aiohttp",
    "httpx",
    "go-http-client",
    "okhttp",
    "java/",
    "libwww-perl",
    "node-fetch",
    "axios",
    "headlesschrome",
    "phantomjs",
    "puppeteer",
    "playwright",
    "selenium",
    "scrapy",
    "postmanruntime",
];

pub struct OddClient;

impl Rule for OddClient {
    fn id(&self) -> RuleId {
        RuleId::OddClient
    }

    fn check(&self, session: &Session, ctx: &Context<'_>) -> Option<Finding> {
        if ctx.previous.is_some() || session.is_current {
            return None;
        }
        // Only servers that give the raw agent can tell.
        let agent = session.user_agent.as_deref();
        let raw_agent_api = agent.is_some() || session.device.label == "Unnamed client";
        if !raw_agent_api {
            return None;
        }
        let agent = agent.unwrap_or_default().to_ascii_lowercase();
        if agent.trim().is_empty() {
            return finding(
                self.id(),
                Severity::Warning,
                "Signed in by a client that does not say what it is (no user agent)".into(),
            );
        }
        let tool = ODD_CLIENTS.iter().find(|t| agent.contains(*t))?;
        finding(
            self.id(),
            Severity::Warning,
            format!(
                "Signed in by {}, a scripting tool or automated browser, not a person's browser",
                tool.trim_end_matches('/')
            ),
        )
    }
}

/// A sign-in at an hour this account is almost never used.
pub struct UnusualHour;

impl Rule for UnusualHour {
    fn id(&self) -> RuleId {
        RuleId::UnusualHour
    }

    fn check(&self, session: &Session, ctx: &Context<'_>) -> Option<Finding> {
        if ctx.previous.is_some() {
            return None;
        }
        let total = ctx.profile.sign_ins();
        if total < ctx.thresholds.hour_min_history {
            return None;
        }
        let hour = session.created_at.unwrap_or(ctx.now).hour();
        let here = ctx.profile.sign_in_hours[hour as usize];
        if f64::from(here) / f64::from(total) > ctx.thresholds.hour_rare_share {
            return None;
        }
        finding(
            self.id(),
            Severity::Notice,
            format!("Signed in at {hour:02}:00 UTC, an hour this account is almost never used"),
        )
    }
}

/// One session, two networks: the same token used from elsewhere, as when it was copied.
pub struct TokenHopping;

impl Rule for TokenHopping {
    fn id(&self) -> RuleId {
        RuleId::TokenHopping
    }

    fn check(&self, session: &Session, ctx: &Context<'_>) -> Option<Finding> {
        let before = ctx.previous?.ip.as_deref()?;
        let now = session.ip.as_deref()?;
        if network_of(before) == network_of(now) || ctx.profile.knows_network(now) {
            return None;
        }
        finding(
            self.id(),
            Severity::Alert,
            format!(
                "The same session moved from {before} to {now}, a network never seen on this \
                 account: its token may have been copied"
            ),
        )
    }
}

/// The same unfamiliar network on several of the person's accounts at once.
pub struct SharedAddress;

impl Rule for SharedAddress {
    fn id(&self) -> RuleId {
        RuleId::SharedAddress
    }

    fn check(&self, session: &Session, ctx: &Context<'_>) -> Option<Finding> {
        let ip = session.ip.as_deref()?;
        if ctx.previous.is_some() || ctx.profile.knows_network(ip) {
            return None;
        }
        let accounts = ctx.elsewhere + 1;
        if accounts < ctx.thresholds.shared_address_accounts {
            return None;
        }
        finding(
            self.id(),
            Severity::Alert,
            format!(
                "{ip}, unknown to all of them, signed in to {accounts} of your accounts at once"
            ),
        )
    }
}
