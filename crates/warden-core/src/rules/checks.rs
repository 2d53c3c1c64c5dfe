//! The rules, one type each. Each is a pure function of the session and its context, so
//! each is tested alone with cases that must fire and cases that must not. They judge as a
//! person would: what a device is, not its version; a network by its operator; travel at a
//! plausible speed is travel.

use chrono::{Duration, Timelike};

use super::geo::Place;
use super::geo::margin;
use super::profile::{Whereabouts, coarse, device_identity};
use super::{Context, Finding, Rule, RuleId, Severity};
use crate::session::{DeviceKind, Session};

/// Another session active this recently is "in use".
const IN_USE: Duration = Duration::minutes(30);

fn finding(rule: RuleId, severity: Severity, reason: String) -> Option<Finding> {
    Some(Finding {
        rule,
        severity,
        reason,
        repeat: false,
        act: false,
    })
}

/// An alert the defence may act on (`Finding::act`): what it says cannot be the person,
/// whichever device they trust — a session's cookie used abroad while their devices are in
/// use at home, one session in two places no one travels between, a session moved to a
/// server's network.
fn alert_to_act_on(rule: RuleId, reason: String) -> Option<Finding> {
    Some(Finding {
        rule,
        severity: Severity::Alert,
        reason,
        repeat: false,
        act: true,
    })
}

/// "Vodafone GmbH (AS3209), 94.134.81.17", or the address alone.
fn network_words(session: &Session) -> String {
    let ip = session.ip.as_deref().unwrap_or("no address");
    match &session.operator {
        Some(operator) => format!("{}, {ip}", operator.describe()),
        None => ip.to_owned(),
    }
}

/// A device this account has never been used from.
pub struct NewDevice;

/// A long-lived token made on the account: the person makes one for an integration now and
/// then, and knows it; an intruder makes one to keep their access after every sign-in of
/// theirs is gone.
pub struct NewToken;

impl Rule for NewToken {
    fn id(&self) -> RuleId {
        RuleId::NewToken
    }

    fn check(&self, session: &Session, ctx: &Context<'_>) -> Option<Finding> {
        if ctx.previous.is_some() || session.device.kind != DeviceKind::Token {
            return None;
        }
        finding(
            self.id(),
            Severity::Warning,
            format!(
                "A new {}: full access to this account until it is deleted; if you did not \
                 make it, delete it",
                session
                    .device
                    .label
                    .replacen("Long-lived token", "long-lived token", 1)
            ),
        )
    }
}

impl Rule for NewDevice {
    fn id(&self) -> RuleId {
        RuleId::NewDevice
    }

    fn check(&self, session: &Session, ctx: &Context<'_>) -> Option<Finding> {
        // A token is not a device (`NewToken` tells of it).
        if ctx.previous.is_some()
            || session.device.kind == DeviceKind::Token
            || ctx.profile.knows_device(session)
        {
            return None;
        }
        let seen_elsewhere =
            coarse(session) && ctx.profile.devices.contains(&device_identity(session));
        let reason = if seen_elsewhere {
            // The API says only "Chrome on a computer": the person's is never here.
            format!(
                "A {} never seen on this network or in this place: not the one this account knows",
                session.device.label
            )
        } else {
            format!(
                "A device never seen on this account: {}",
                session.device.label
            )
        };
        finding(self.id(), Severity::Warning, reason)
    }
}

/// Where a session is, as the person is shown it: "in Lisbon, PT", "near Lisbon, PT", "in
/// Portugal" — a database's guess said as one.
fn whereabouts_words(session: &Session, place: &Place) -> String {
    match session.location_shown.as_deref() {
        Some(near) if near.starts_with("near ") => near.to_owned(),
        Some(shown) => format!("in {shown}"),
        None => format!("in {place}"),
    }
}

/// A network this account has never been used from.
pub struct NewNetwork;

impl Rule for NewNetwork {
    fn id(&self) -> RuleId {
        RuleId::NewNetwork
    }

    fn check(&self, session: &Session, ctx: &Context<'_>) -> Option<Finding> {
        session.ip.as_deref()?;
        if ctx.previous.is_some() || ctx.profile.knows_network(session) {
            return None;
        }
        finding(
            self.id(),
            Severity::Notice,
            format!(
                "From a network never seen on this account ({})",
                network_words(session)
            ),
        )
    }
}

/// A city this account has never been used from, in a country it has (another country is
/// `NewCountry`'s).
pub struct NewCity;

impl Rule for NewCity {
    fn id(&self) -> RuleId {
        RuleId::NewCity
    }

    fn check(&self, session: &Session, ctx: &Context<'_>) -> Option<Finding> {
        let place = Place::parse(session.location.as_deref()?)?;
        let city = place.to_string();
        // A city a database guessed is no sign (the next address of the same line sits in
        // another town), nor a new town on a network the account knows.
        let guessed = session
            .location_margin_km
            .is_some_and(|m| m > margin::CITY_SHOWN);
        if guessed || ctx.profile.knows_network(session) {
            return None;
        }
        if ctx.previous.is_some()
            || ctx.profile.cities.is_empty()
            || ctx.profile.cities.contains(&city)
            || !ctx.profile.countries.contains(&place.country)
        {
            return None;
        }
        finding(
            self.id(),
            Severity::Notice,
            format!("From a city never seen on this account: {city}"),
        )
    }
}

/// The country of another session of the account in use right now, other than `country`
/// and one the account knows: "the person is at home, using it".
fn in_use_elsewhere(session: &Session, country: &str, ctx: &Context<'_>) -> Option<String> {
    ctx.snapshot
        .sessions
        .iter()
        .filter(|s| s.id != session.id && !s.is_ours())
        .filter(|s| s.last_active_at.is_some_and(|t| ctx.now - t <= IN_USE))
        .filter_map(|s| Place::parse(s.location.as_deref()?))
        .map(|p| p.country)
        .find(|c| c != country && ctx.profile.countries.contains(c))
}

/// A country this account has never been used from. A known device travelling there is
/// travel (a line in the history); a device used there while the person's other devices
/// are in use at home is someone else (an alert for a session that moved there: a copied
/// cookie); a new device there is a warning.
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
        // The country holds; the town may be a database's guess, and is said as one.
        let here = whereabouts_words(session, &place);
        let moved = ctx.previous.is_some();
        if let Some(home) = in_use_elsewhere(session, &place.country, ctx) {
            return if moved {
                alert_to_act_on(
                    self.id(),
                    format!(
                        "This session is in use {here} while your other devices are in use in \
                         {home}: its cookie may have been copied"
                    ),
                )
            } else {
                finding(
                    self.id(),
                    Severity::Warning,
                    format!(
                        "Signed in {here}, a country never seen on this account, while your \
                         other devices are in use in {home}"
                    ),
                )
            };
        }
        if moved || ctx.profile.knows_device(session) {
            return finding(
                self.id(),
                Severity::Notice,
                format!("Your {} is {here} now", session.device.label),
            );
        }
        finding(
            self.id(),
            Severity::Warning,
            format!("Signed in {here}, a country never seen on this account"),
        )
    }
}

/// Two places farther apart than anyone travels in the time between, compared with the
/// account's most recent sighting elsewhere.
pub struct ImpossibleTravel;

impl Rule for ImpossibleTravel {
    fn id(&self) -> RuleId {
        RuleId::ImpossibleTravel
    }

    fn check(&self, session: &Session, ctx: &Context<'_>) -> Option<Finding> {
        let here = Place::parse(session.location.as_deref()?)?;
        let here_at = session.last_active_at.or(session.created_at)?;
        let network = session.network_key();
        let whereabouts = Whereabouts {
            coordinates: session.coordinates.or_else(|| here.coordinates())?,
            country: &here.country,
            margin_km: session.location_margin_km.unwrap_or(0),
            network: network.as_deref(),
            at: here_at,
        };
        let (from, km, least) = ctx
            .profile
            .last_seen_elsewhere(whereabouts, ctx.thresholds.min_travel_km)?;
        // The most time there may have been between the two: an API that records activity
        // once a day may list a session as last used up to a day before it was.
        let apart = (here_at - from.at).abs() + ctx.activity_slack;
        let hours = apart.num_seconds().unsigned_abs() as f64 / 3600.0;
        // Judged on the least distance the two places' errors allow, never on the guesses.
        let speed = least / hours.max(1.0 / 60.0);
        if speed <= ctx.thresholds.max_speed_kmh {
            return None;
        }
        let who = if from.session == session.id.as_str() {
            "this session"
        } else {
            "this account"
        };
        let here_shown = session
            .location_shown
            .clone()
            .unwrap_or_else(|| here.to_string());
        // Where a place is a guess, the distance is said as the least it can be.
        let distance = if km - least > 100.0 {
            format!("at least {}", thousands(least))
        } else {
            thousands(km)
        };
        let reason = format!(
            "Impossible travel: {here_shown} — {distance} km from {}, where {who} was {} before",
            from.shown(),
            human_hours(hours),
        );
        // One session in both places is a copied cookie: acted on. The account's other
        // session far away may be the person's own phone placed by a database's guess: told.
        if from.session == session.id.as_str() {
            alert_to_act_on(self.id(), reason)
        } else {
            finding(self.id(), Severity::Alert, reason)
        }
    }
}

/// "10,000": whole kilometres, grouped as people read them.
fn thousands(km: f64) -> String {
    let digits = format!("{:.0}", km.max(0.0));
    let mut grouped = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

fn human_hours(hours: f64) -> String {
    let minutes = (hours * 60.0).round() as i64;
    match minutes {
        0..=1 => "a minute".into(),
        2..=90 => format!("{minutes} minutes"),
        _ => format!("{:.0} hours", hours),
    }
}

/// More live sessions than the account's own normal (learned from its history, the
/// configured limit as a floor), told once when the count crosses it.
pub struct TooManySessions;

impl Rule for TooManySessions {
    fn id(&self) -> RuleId {
        RuleId::TooManySessions
    }

    fn check(&self, _session: &Session, ctx: &Context<'_>) -> Option<Finding> {
        let (live, normal) = ctx.crowd?;
        finding(
            self.id(),
            Severity::Warning,
            format!(
                "{live} sessions are signed in at once, more than this account has had ({normal})"
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

/// A sign-in from a hosting, cloud or VPN provider's network: people's homes, phones and
/// offices are not there.
pub struct HostingNetwork;

impl Rule for HostingNetwork {
    fn id(&self) -> RuleId {
        RuleId::HostingNetwork
    }

    fn check(&self, session: &Session, ctx: &Context<'_>) -> Option<Finding> {
        let operator = session.operator.as_deref().filter(|o| o.hosting)?;
        if ctx.previous.is_some() || ctx.profile.knows_network(session) {
            return None;
        }
        finding(
            self.id(),
            Severity::Warning,
            format!(
                "From {}, a hosting provider: sign-ins from servers are scripts or VPNs",
                operator.describe()
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
        let hour = session.created_at.unwrap_or(ctx.now).hour();
        // Sign-ins and uses alike: when the person is awake and using the account.
        let (here, total) = ctx.profile.hour_share(hour as usize);
        let days = ctx
            .profile
            .hours_since
            .map_or(0, |since| (ctx.now - since).num_days());
        if total < ctx.thresholds.hour_min_history || days < i64::from(ctx.thresholds.hour_min_days)
        {
            return None;
        }
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

/// One session, another network. Within one operator or one city that is ordinary (phones
/// move between cells and Wi-Fi, ISPs renumber lines); to another operator in the same
/// country, a line in the history; to a hosting provider, an alert: a copied token used by
/// a script or through a VPN. Abroad is `NewCountry`'s and `ImpossibleTravel`'s.
pub struct TokenHopping;

impl Rule for TokenHopping {
    fn id(&self) -> RuleId {
        RuleId::TokenHopping
    }

    fn check(&self, session: &Session, ctx: &Context<'_>) -> Option<Finding> {
        let before = ctx.previous?;
        let (Some(from), Some(to)) = (before.network_key(), session.network_key()) else {
            return None;
        };
        if from == to {
            return None;
        }
        let place = |s: &Session| s.location.as_deref().and_then(Place::parse);
        let (was, is) = (place(before), place(session));
        if let Some(operator) = session.operator.as_deref().filter(|o| o.hosting) {
            return alert_to_act_on(
                self.id(),
                format!(
                    "The same session moved to {}, a hosting provider: its token may have been \
                     copied",
                    operator.describe()
                ),
            );
        }
        match (&was, &is) {
            (Some(a), Some(b)) if a == b => None,
            (Some(a), Some(b)) if a.country == b.country => finding(
                self.id(),
                Severity::Notice,
                format!(
                    "Moved from {} to {}",
                    network_words(before),
                    network_words(session)
                ),
            ),
            // Abroad, or back home: the travel rules judge it.
            (Some(_), Some(_)) => None,
            // Nowhere known: a new network for a known session is worth a line.
            _ if ctx.profile.knows_network(session) => None,
            _ => finding(
                self.id(),
                Severity::Notice,
                format!(
                    "The same session moved from {} to {}, a network never seen on this account",
                    before.ip.as_deref().unwrap_or("?"),
                    network_words(session)
                ),
            ),
        }
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
        if ctx.previous.is_some() || ctx.profile.knows_network(session) {
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
