//! Places: the servers that say where a sign-in came from give a "City, CC" string (RTC),
//! never coordinates, so a small gazetteer of the world's larger cities gives distances for
//! the impossible-travel rule where no IP database gives them. An unknown city means no
//! distance, never a guess.

use crate::session::Coordinates;

/// (city, country code, latitude, longitude).
const CITIES: &[(&str, &str, f64, f64)] = &[
    ("Amsterdam", "NL", 52.37, 4.90),
    ("Ashburn", "US", 39.04, -77.49),
    ("Athens", "GR", 37.98, 23.73),
    ("Atlanta", "US", 33.75, -84.39),
    ("Bangalore", "IN", 12.97, 77.59),
    ("Bangkok", "TH", 13.76, 100.50),
    ("Barcelona", "ES", 41.39, 2.17),
    ("Beijing", "CN", 39.90, 116.41),
    ("Berlin", "DE", 52.52, 13.405),
    ("Bogotá", "CO", 4.71, -74.07),
    ("Boston", "US", 42.36, -71.06),
    ("Brussels", "BE", 50.85, 4.35),
    ("Bucharest", "RO", 44.43, 26.10),
    ("Budapest", "HU", 47.50, 19.04),
    ("Buenos Aires", "AR", -34.60, -58.38),
    ("Cairo", "EG", 30.04, 31.24),
    ("Cape Town", "ZA", -33.92, 18.42),
    ("Chicago", "US", 41.88, -87.63),
    ("Copenhagen", "DK", 55.68, 12.57),
    ("Dallas", "US", 32.78, -96.80),
    ("Delhi", "IN", 28.70, 77.10),
    ("Dubai", "AE", 25.20, 55.27),
    ("Dublin", "IE", 53.35, -6.26),
    ("Frankfurt", "DE", 50.11, 8.68),
    ("Hamburg", "DE", 53.55, 9.99),
    ("Helsinki", "FI", 60.17, 24.94),
    ("Hong Kong", "HK", 22.32, 114.17),
    ("Istanbul", "TR", 41.01, 28.98),
    ("Jakarta", "ID", -6.21, 106.85),
    ("Johannesburg", "ZA", -26.20, 28.05),
    ("Kyiv", "UA", 50.45, 30.52),
    ("Lagos", "NG", 6.52, 3.38),
    ("Lisbon", "PT", 38.72, -9.14),
    ("London", "GB", 51.51, -0.13),
    ("Los Angeles", "US", 34.05, -118.24),
    ("Madrid", "ES", 40.42, -3.70),
    ("Manila", "PH", 14.60, 120.98),
    ("Melbourne", "AU", -37.81, 144.96),
    ("Mexico City", "MX", 19.43, -99.13),
    ("Miami", "US", 25.76, -80.19),
    ("Milan", "IT", 45.46, 9.19),
    ("Montreal", "CA", 45.50, -73.57),
    ("Moscow", "RU", 55.76, 37.62),
    ("Mumbai", "IN", 19.08, 72.88),
    ("Munich", "DE", 48.14, 11.58),
    ("Nairobi", "KE", -1.29, 36.82),
    ("New York", "US", 40.71, -74.01),
    ("Osaka", "JP", 34.69, 135.50),
    ("Oslo", "NO", 59.91, 10.75),
    ("Paris", "FR", 48.86, 2.35),
    ("Potsdam", "DE", 52.39, 13.06),
    ("Prague", "CZ", 50.08, 14.44),
    ("Rome", "IT", 41.90, 12.50),
    ("Roubaix", "FR", 50.69, 3.17),
    ("San Francisco", "US", 37.77, -122.42),
    ("Santiago", "CL", -33.45, -70.67),
    ("São Paulo", "BR", -23.55, -46.63),
    ("Seattle", "US", 47.61, -122.33),
    ("Seoul", "KR", 37.57, 126.98),
    ("Shanghai", "CN", 31.23, 121.47),
    ("Singapore", "SG", 1.35, 103.82),
    ("Stockholm", "SE", 59.33, 18.07),
    ("Sydney", "AU", -33.87, 151.21),
    ("Taipei", "TW", 25.03, 121.57),
    ("Tokyo", "JP", 35.68, 139.69),
    ("Toronto", "CA", 43.65, -79.38),
    ("Vancouver", "CA", 49.28, -123.12),
    ("Vienna", "AT", 48.21, 16.37),
    ("Warsaw", "PL", 52.23, 21.01),
    ("Zurich", "CH", 47.38, 8.54),
];

/// A "City, CC" location, split.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    pub city: String,
    pub country: String,
}

impl Place {
    pub fn parse(text: &str) -> Option<Place> {
        let (city, country) = text.rsplit_once(',')?;
        let (city, country) = (city.trim(), country.trim());
        (!city.is_empty() && country.len() == 2).then(|| Place {
            city: city.to_owned(),
            country: country.to_ascii_uppercase(),
        })
    }

    /// Where the gazetteer puts it (for a server's "City, CC" when no database knows better).
    pub fn coordinates(&self) -> Option<Coordinates> {
        CITIES
            .iter()
            .find(|(city, country, _, _)| {
                city.eq_ignore_ascii_case(&self.city) && *country == self.country
            })
            .map(|&(_, _, lat, lon)| Coordinates { lat, lon })
    }
}

/// "Berlin, DE", as servers and the IP database write it.
impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}, {}", self.city, self.country)
    }
}

/// How far from its named place a device may be, in km, by where the place comes from.
pub mod margin {
    /// A server's own place for a session (RTC), taken as it comes: a city's extent.
    pub const SERVER: u32 = 25;
    /// A city from a free database that gives no radius (DB-IP Lite): right about the
    /// country, often wrong by hundreds of kilometres about the town of a home line (one
    /// operator's pools sit on towns all over a country).
    pub const CITY_DATA: u32 = 250;
    /// A mobile carrier's address, in any database: placed where the carrier's records
    /// say, not where the phone is. Only the country holds.
    pub const MOBILE: u32 = 1000;
    /// Up to this, the city is named as the data gives it.
    pub const CITY_SHOWN: u32 = 50;
    /// Up to this, it is "near" the city; past it, only the country is named.
    pub const NEAR_SHOWN: u32 = 300;
}

/// Where a session is, in the words the person is shown: "Berlin, DE" where the place is
/// sure to a city, "near Berlin, DE" where it is a guess within a region, the country's name
/// ("Germany") where only the country holds. `location` is "City, CC" or "CC".
pub fn shown(location: &str, margin_km: Option<u32>) -> String {
    let margin = margin_km.unwrap_or(0);
    match Place::parse(location) {
        Some(place) if margin <= margin::CITY_SHOWN => place.to_string(),
        Some(place) if margin <= margin::NEAR_SHOWN => format!("near {place}"),
        Some(place) => country_name(&place.country),
        None if location.len() == 2 => country_name(location),
        None => location.to_owned(),
    }
}

/// "Germany" for "DE": the name people use, where ISO's differs ("United States", not
/// "United States of America"); the code itself for a code ISO does not know.
pub fn country_name(code: &str) -> String {
    const EVERYDAY: &[(&str, &str)] = &[
        ("US", "United States"),
        ("GB", "United Kingdom"),
        ("RU", "Russia"),
        ("KR", "South Korea"),
        ("KP", "North Korea"),
        ("TW", "Taiwan"),
        ("VN", "Vietnam"),
        ("LA", "Laos"),
        ("SY", "Syria"),
        ("CZ", "Czechia"),
        ("MD", "Moldova"),
        ("TZ", "Tanzania"),
    ];
    let code = code.trim().to_ascii_uppercase();
    if let Some((_, name)) = EVERYDAY.iter().find(|(c, _)| *c == code) {
        return (*name).to_owned();
    }
    match isocountry::CountryCode::for_alpha2(&code) {
        // "Iran (Islamic Republic of)" → "Iran".
        Ok(country) => country
            .name()
            .split(" (")
            .next()
            .unwrap_or(country.name())
            .to_owned(),
        Err(_) => code,
    }
}

/// Great-circle distance in kilometres.
pub fn distance_km(a: Coordinates, b: Coordinates) -> f64 {
    const EARTH_RADIUS_KM: f64 = 6371.0;
    let (lat1, lon1) = (a.lat.to_radians(), a.lon.to_radians());
    let (lat2, lon2) = (b.lat.to_radians(), b.lon.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn berlin_to_sydney_is_about_16000_km() {
        let berlin = Place::parse("Berlin, DE").and_then(|p| p.coordinates());
        let sydney = Place::parse("Sydney, AU").and_then(|p| p.coordinates());
        let km = distance_km(berlin.expect("known"), sydney.expect("known"));
        assert!((15_900.0..16_200.0).contains(&km), "{km}");
    }

    #[test]
    fn a_place_is_named_as_surely_as_the_data_allows() {
        assert_eq!(shown("Berlin, DE", Some(margin::SERVER)), "Berlin, DE");
        assert_eq!(
            shown("Werdau, DE", Some(margin::CITY_DATA)),
            "near Werdau, DE"
        );
        assert_eq!(shown("Munich, DE", Some(margin::MOBILE)), "Germany");
        assert_eq!(shown("US", Some(margin::CITY_DATA)), "United States");
        assert_eq!(shown("Tehran, IR", Some(margin::MOBILE)), "Iran");
        assert_eq!(shown("Atlantis, XX", Some(margin::MOBILE)), "XX");
        assert_eq!(shown("somewhere", None), "somewhere");
    }

    #[test]
    fn odd_locations_are_not_places() {
        assert_eq!(Place::parse("Berlin"), None);
        assert_eq!(Place::parse(", DE"), None);
        assert!(Place::parse("Atlantis, XX").is_some_and(|p| p.coordinates().is_none()));
    }
}
