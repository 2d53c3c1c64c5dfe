//! Detection rules: each looks at one session against what the account's past says is
//! normal, and either stays silent or gives a finding with a severity and one line a person
//! understands. `Judge` keeps that past per account and runs the rules for the watcher.

mod checks;
pub mod geo;
mod judge;
mod profile;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::session::{Session, Snapshot};

pub use checks::{
    HostingNetwork, ImpossibleTravel, NewCity, NewCountry, NewDevice, NewNetwork, NewToken,
    OddClient, SharedAddress, TokenHopping, TooManySessions, UnusualHour,
};
pub use judge::Judge;
pub use profile::{Profile, Sighting, Whereabouts, device_identity, stored_identity};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Severity {
    /// Worth a line in the history.
    Notice,
    /// Worth a notification.
    Warning,
    /// Worth a notification even in quiet hours.
    Alert,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Notice => "notice",
            Severity::Warning => "warning",
            Severity::Alert => "alert",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum RuleId {
    NewDevice,
    NewNetwork,
    NewCountry,
    ImpossibleTravel,
    TooManySessions,
    OddClient,
    UnusualHour,
    TokenHopping,
    SharedAddress,
    NewCity,
    HostingNetwork,
    /// Several small signs on one sign-in, which together are worth a warning.
    SeveralSigns,
    /// A token made for a script or an integration (Home Assistant's long-lived tokens): not
    /// a device, but full access for as long as it lives.
    NewToken,
}

impl RuleId {
    /// Its name as serde writes it ("impossible-travel"): what the ledger keeps and the
    /// history says.
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// The rule of that name; `None` for one this version does not know (a newer one wrote
    /// it).
    pub fn from_name(name: &str) -> Option<RuleId> {
        serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
    }
}

/// Why a session looks wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Finding {
    pub rule: RuleId,
    pub severity: Severity,
    /// One line, for a person: "A device never seen on this account: curl".
    pub reason: String,
    /// Already told for this device and network (or this session): shown with the session
    /// and kept in the history, but never notified twice.
    #[serde(default)]
    pub repeat: bool,
    /// An alert the defence may act on: its rule says it cannot be the person (a copied
    /// cookie, one session in two places at once, a session moved to a server's network).
    /// Never a warning or a notice, and never a guess a database could make of their phone.
    #[serde(default)]
    pub act: bool,
}

/// The knobs of the rules, with defaults a person would pick.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Thresholds {
    /// More live sessions than this is worth a warning.
    pub max_sessions: usize,
    /// Faster than an airliner, with some slack.
    pub max_speed_kmh: f64,
    /// Closer than this is the same area, whatever the time.
    pub min_travel_km: f64,
    /// How many sign-ins and uses the account needs before an hour can be called unusual.
    pub hour_min_history: u32,
    /// How many days of watching before an hour can be called unusual (a first day's
    /// sign-ins say nothing of the mornings).
    pub hour_min_days: u32,
    /// An hour with at most this share of the account's sign-ins and uses is unusual.
    pub hour_rare_share: f64,
    /// Countries that are never "new" (ISO codes).
    pub home_countries: Vec<String>,
    /// An unfamiliar address on this many of the user's accounts at once is an alert.
    pub shared_address_accounts: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            max_sessions: 10,
            max_speed_kmh: 1000.0,
            min_travel_km: 300.0,
            hour_min_history: 20,
            hour_min_days: 7,
            hour_rare_share: 0.02,
            home_countries: Vec::new(),
            shared_address_accounts: 2,
        }
    }
}

impl Thresholds {
    /// From a TOML file (`maxSessions = 20`, `homeCountries = ["DE"]`…); defaults for what it
    /// does not set, and the defaults altogether when there is no file.
    pub fn load(path: &std::path::Path) -> crate::error::Result<Thresholds> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Thresholds::default()),
            Err(e) => return Err(crate::error::Error::io("read", path)(e)),
        };
        toml::from_str(&text).map_err(|e| {
            crate::error::Error::InvalidInput(format!("{} is not valid: {e}", path.display()))
        })
    }

    /// Writes them where [`Thresholds::load`] reads them, atomically (a crash mid-write
    /// leaves the old file, never half of one).
    pub fn save(&self, path: &std::path::Path) -> crate::error::Result<()> {
        let text = toml::to_string(self).map_err(|e| {
            crate::error::Error::InvalidInput(format!("cannot write the rules: {e}"))
        })?;
        crate::home::write_atomically(path, text.as_bytes())
    }
}

/// What a rule sees besides the session itself.
pub struct Context<'a> {
    pub profile: &'a Profile,
    /// The account's live sessions now.
    pub snapshot: &'a Snapshot,
    /// The same session (same id) as last seen, when it is not new.
    pub previous: Option<&'a Session>,
    /// How many *other* accounts saw this session's network, unfamiliar there too, lately.
    pub elsewhere: usize,
    pub thresholds: &'a Thresholds,
    pub now: DateTime<Utc>,
    /// The live sessions and the account's normal, when this sign-in takes the count past
    /// it (once per crossing).
    pub crowd: Option<(usize, usize)>,
    /// How much later than its listed last activity a session may really have been used:
    /// zero, but a day on an API that records activity only once a day (Better Auth).
    pub activity_slack: chrono::TimeDelta,
}

pub trait Rule: Send + Sync {
    fn id(&self) -> RuleId;
    fn check(&self, session: &Session, ctx: &Context<'_>) -> Option<Finding>;
}

/// Every rule, in the order their findings read best.
pub fn all() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(ImpossibleTravel),
        Box::new(TokenHopping),
        Box::new(SharedAddress),
        Box::new(OddClient),
        Box::new(HostingNetwork),
        Box::new(NewDevice),
        Box::new(NewToken),
        Box::new(NewCountry),
        Box::new(NewCity),
        Box::new(NewNetwork),
        Box::new(TooManySessions),
        Box::new(UnusualHour),
    ]
}

/// The small signs that add up: one alone is a line in the history.
const SMALL_SIGNS: [RuleId; 3] = [RuleId::NewNetwork, RuleId::NewCity, RuleId::UnusualHour];

/// The findings of every rule for `session`, worst first. A device the person trusted
/// ("It's me") raises nothing, except signs that its token is used by someone else. Small
/// signs that come together on one sign-in (a new network, a new city, an unusual hour) are
/// one warning that names each.
pub fn evaluate(rules: &[Box<dyn Rule>], session: &Session, ctx: &Context<'_>) -> Vec<Finding> {
    let trusted = ctx.profile.trusts(session);
    let mut findings: Vec<Finding> = rules
        .iter()
        .filter(|rule| {
            !trusted || matches!(rule.id(), RuleId::TokenHopping | RuleId::ImpossibleTravel)
        })
        .filter_map(|rule| rule.check(session, ctx))
        .collect();
    let small = |f: &Finding| SMALL_SIGNS.contains(&f.rule) && f.severity == Severity::Notice;
    // A trip explains a new network, a new city and odd hours: they add up to travel.
    let travelling = findings
        .iter()
        .any(|f| f.rule == RuleId::NewCountry && f.severity == Severity::Notice);
    if !travelling && findings.iter().filter(|f| small(f)).count() >= 2 {
        let reasons: Vec<String> = findings
            .iter()
            .filter(|f| small(f))
            .map(|f| lowercase_first(&f.reason))
            .collect();
        findings.retain(|f| !small(f));
        findings.push(Finding {
            rule: RuleId::SeveralSigns,
            severity: Severity::Warning,
            reason: format!("Several things at once: {}", reasons.join("; ")),
            repeat: false,
            act: false,
        });
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    findings
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_lowercase().chain(chars).collect()
    })
}

/// The worst severity among findings.
pub fn worst(findings: &[Finding]) -> Option<Severity> {
    findings.iter().map(|f| f.severity).max()
}
