//! Each detection rule alone: cases that must fire, cases that must not.

use chrono::{DateTime, Duration, TimeZone, Utc};
use rstest::rstest;
use warden_core::rules::{
    Context, Finding, ImpossibleTravel, NewCountry, NewDevice, NewNetwork, OddClient, Profile,
    Rule, RuleId, SharedAddress, Thresholds, TokenHopping, TooManySessions, UnusualHour,
};
use warden_core::{AccountId, Device, Secret, Session, SessionId, Snapshot};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";

fn at(hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, hour, minute, 0)
        .single()
        .expect("a time")
}

fn session(id: &str, agent: Option<&str>, ip: &str, location: Option<&str>) -> Session {
    let account = AccountId::from_stored("acc".into());
    let server_id = Secret::new(id);
    Session {
        id: SessionId::derive(&account, &server_id),
        account,
        server_id,
        device: agent
            .map_or_else(
                || Device::from_label("Chrome on Windows"),
                Device::from_user_agent,
            )
            .into(),
        user_agent: agent.map(Into::into),
        ip: Some(ip.into()),
        location: location.map(str::to_owned),
        label: None,
        created_at: Some(at(14, 0)),
        last_active_at: Some(at(14, 0)),
        expires_at: None,
        is_current: false,
    }
}

fn snapshot(n: usize) -> Snapshot {
    Snapshot {
        account: AccountId::from_stored("acc".into()),
        sessions: (0..n)
            .map(|i| session(&format!("s{i}"), Some(FIREFOX), "198.51.100.1", None))
            .collect(),
        fetched_at: at(14, 0),
    }
}

/// An account used for a while from a Firefox and an iPhone in Berlin, mostly by day.
fn profile() -> Profile {
    let mut profile = Profile::default();
    for (id, agent) in [("old-1", FIREFOX), ("old-2", IPHONE)] {
        let mut s = session(id, Some(agent), "198.51.100.20", Some("Berlin, DE"));
        s.last_active_at = Some(at(13, 0));
        profile.learn(&s, false);
    }
    for hour in 8..20 {
        profile.sign_in_hours[hour] = 5;
    }
    profile
}

fn check(
    rule: &dyn Rule,
    subject: &Session,
    previous: Option<&Session>,
    live: usize,
    elsewhere: usize,
    thresholds: &Thresholds,
) -> Option<Finding> {
    let profile = profile();
    let snapshot = snapshot(live);
    let ctx = Context {
        profile: &profile,
        snapshot: &snapshot,
        previous,
        elsewhere,
        thresholds,
        now: at(14, 0),
    };
    let found = rule.check(subject, &ctx);
    if let Some(f) = &found {
        assert_eq!(f.rule, rule.id());
        assert!(
            !f.reason.is_empty() && !f.reason.contains('\n'),
            "one line: {f:?}"
        );
    }
    found
}

fn fires(rule: &dyn Rule, subject: &Session) -> bool {
    check(rule, subject, None, 3, 0, &Thresholds::default()).is_some()
}

#[rstest]
#[case::a_known_browser(FIREFOX, false)]
#[case::a_known_phone(IPHONE, false)]
#[case::curl("curl/8.5.0", true)]
#[case::a_new_browser(
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0.0.0 Safari/537.36",
    true
)]
fn new_device(#[case] agent: &str, #[case] expected: bool) {
    let s = session("n", Some(agent), "198.51.100.20", None);
    assert_eq!(fires(&NewDevice, &s), expected);
}

#[rstest]
#[case::the_same_24("198.51.100.77", false)]
#[case::another_network("203.0.113.7", true)]
#[case::ipv6("2001:db8:1::7", true)]
fn new_network(#[case] ip: &str, #[case] expected: bool) {
    let s = session("n", Some(FIREFOX), ip, None);
    assert_eq!(fires(&NewNetwork, &s), expected);
}

#[rstest]
#[case::home(Some("Potsdam, DE"), false)]
#[case::abroad(Some("São Paulo, BR"), true)]
#[case::no_location(None, false)]
#[case::garbled(Some("somewhere"), false)]
fn new_country(#[case] location: Option<&str>, #[case] expected: bool) {
    let s = session("n", Some(FIREFOX), "203.0.113.7", location);
    assert_eq!(fires(&NewCountry, &s), expected);
}

#[test]
fn new_country_respects_home_countries() {
    let s = session("n", Some(FIREFOX), "203.0.113.7", Some("São Paulo, BR"));
    let thresholds = Thresholds {
        home_countries: vec!["BR".into()],
        ..Thresholds::default()
    };
    assert!(check(&NewCountry, &s, None, 3, 0, &thresholds).is_none());
}

#[rstest]
// Berlin at 13:00; these are seen at 14:00.
#[case::sydney_an_hour_later("Sydney, AU", 14, true)]
#[case::potsdam_nearby("Potsdam, DE", 14, false)]
#[case::london_by_plane("London, GB", 14, false)]
#[case::new_york_an_hour_later("New York, US", 14, true)]
#[case::unknown_city("Atlantis, XX", 14, false)]
fn impossible_travel(#[case] location: &str, #[case] hour: u32, #[case] expected: bool) {
    let mut s = session("n", Some(FIREFOX), "203.0.113.7", Some(location));
    s.last_active_at = Some(at(hour, 0));
    assert_eq!(fires(&ImpossibleTravel, &s), expected, "{location}");
}

#[test]
fn impossible_travel_a_day_later_is_a_trip() {
    let mut s = session("n", Some(FIREFOX), "203.0.113.7", Some("Sydney, AU"));
    s.last_active_at = Some(at(13, 0) + Duration::hours(30));
    assert!(!fires(&ImpossibleTravel, &s));
}

#[test]
fn impossible_travel_says_where_and_how_far() {
    let s = session("n", Some(FIREFOX), "203.0.113.7", Some("Sydney, AU"));
    let f = check(&ImpossibleTravel, &s, None, 3, 0, &Thresholds::default()).expect("fires");
    assert!(
        f.reason.contains("Berlin, DE") && f.reason.contains("Sydney, AU"),
        "{}",
        f.reason
    );
    assert!(f.reason.contains("km"), "{}", f.reason);
}

#[rstest]
#[case::few(3, false)]
#[case::at_the_limit(10, false)]
#[case::over(11, true)]
fn too_many_sessions(#[case] live: usize, #[case] expected: bool) {
    let s = session("n", Some(FIREFOX), "198.51.100.20", None);
    let found = check(&TooManySessions, &s, None, live, 0, &Thresholds::default());
    assert_eq!(found.is_some(), expected);
}

#[rstest]
#[case::firefox(Some(FIREFOX), false)]
#[case::curl(Some("curl/8.5.0"), true)]
#[case::requests(Some("python-requests/2.31.0"), true)]
#[case::headless(
    Some("Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/120.0 Safari/537.36"),
    true
)]
#[case::go(Some("Go-http-client/1.1"), true)]
#[case::empty(Some(""), true)]
#[case::server_gives_no_agent(None, false)]
fn odd_client(#[case] agent: Option<&str>, #[case] expected: bool) {
    let s = session("n", agent, "198.51.100.20", None);
    assert_eq!(fires(&OddClient, &s), expected, "{agent:?}");
}

#[rstest]
#[case::afternoon(14, false)]
#[case::three_am(3, true)]
fn unusual_hour(#[case] hour: u32, #[case] expected: bool) {
    let mut s = session("n", Some(FIREFOX), "198.51.100.20", None);
    s.created_at = Some(at(hour, 12));
    assert_eq!(fires(&UnusualHour, &s), expected);
}

#[test]
fn unusual_hour_needs_a_history_first() {
    let mut s = session("n", Some(FIREFOX), "198.51.100.20", None);
    s.created_at = Some(at(3, 0));
    let thresholds = Thresholds {
        hour_min_history: 1000,
        ..Thresholds::default()
    };
    assert!(check(&UnusualHour, &s, None, 3, 0, &thresholds).is_none());
}

#[rstest]
#[case::same_network("198.51.100.20", "198.51.100.99", false)]
#[case::known_other_network("203.0.113.5", "198.51.100.20", false)]
#[case::unknown_network("198.51.100.20", "203.0.113.45", true)]
fn token_hopping(#[case] before: &str, #[case] after: &str, #[case] expected: bool) {
    let was = session("same", Some(FIREFOX), before, None);
    let now = session("same", Some(FIREFOX), after, None);
    let found = check(
        &TokenHopping,
        &now,
        Some(&was),
        3,
        0,
        &Thresholds::default(),
    );
    assert_eq!(found.is_some(), expected);
}

#[rstest]
#[case::only_here(0, false)]
#[case::on_another_account(1, true)]
fn shared_address(#[case] elsewhere: usize, #[case] expected: bool) {
    let s = session("n", Some(FIREFOX), "203.0.113.9", None);
    let found = check(
        &SharedAddress,
        &s,
        None,
        3,
        elsewhere,
        &Thresholds::default(),
    );
    assert_eq!(found.is_some(), expected);
}

#[test]
fn a_known_network_on_two_accounts_is_not_shared_intrusion() {
    let s = session("n", Some(FIREFOX), "198.51.100.9", None);
    assert!(check(&SharedAddress, &s, None, 3, 3, &Thresholds::default()).is_none());
}

#[test]
fn a_trusted_device_raises_nothing_but_token_theft() {
    let mut profile = profile();
    let curl = session("n", Some("curl/8.5.0"), "203.0.113.7", None);
    profile.trust(&curl);
    let snapshot = snapshot(3);
    let thresholds = Thresholds::default();
    let ctx = Context {
        profile: &profile,
        snapshot: &snapshot,
        previous: None,
        elsewhere: 0,
        thresholds: &thresholds,
        now: at(14, 0),
    };
    let rules = warden_core::rules::all();
    assert!(warden_core::rules::evaluate(&rules, &curl, &ctx).is_empty());
    let moved = session("n", Some("curl/8.5.0"), "192.0.2.200", None);
    let ctx = Context {
        previous: Some(&curl),
        ..ctx
    };
    let found = warden_core::rules::evaluate(&rules, &moved, &ctx);
    assert_eq!(
        found.iter().map(|f| f.rule).collect::<Vec<_>>(),
        vec![RuleId::TokenHopping]
    );
}

#[test]
fn thresholds_load_from_toml_with_defaults_for_the_rest() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("rules.toml");
    assert_eq!(
        Thresholds::load(&path).expect("no file"),
        Thresholds::default()
    );
    std::fs::write(
        &path,
        "maxSessions = 20\nhomeCountries = [\"DE\", \"BR\"]\n",
    )
    .expect("written");
    let loaded = Thresholds::load(&path).expect("loads");
    assert_eq!(loaded.max_sessions, 20);
    assert_eq!(loaded.home_countries, ["DE", "BR"]);
    assert_eq!(loaded.max_speed_kmh, Thresholds::default().max_speed_kmh);
    std::fs::write(&path, "maxSesions = 20\n").expect("written");
    let err = Thresholds::load(&path).expect_err("a typo is refused");
    assert!(err.to_string().contains("is not valid"), "{err}");
}

#[test]
fn saved_thresholds_load_back_as_they_were() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("rules.toml");
    let changed = Thresholds {
        max_sessions: 3,
        max_speed_kmh: 750.5,
        home_countries: vec!["PT".into()],
        ..Thresholds::default()
    };
    changed.save(&path).expect("saves");
    assert_eq!(Thresholds::load(&path).expect("loads"), changed);
}
