//! Each detection rule alone, and the judge that runs them: cases that must fire, cases
//! that must not. Addresses are placed by small IP databases the tests write (MaxMind's
//! GeoLite2 shapes), so no case depends on a data update.

mod common;

use std::sync::OnceLock;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rstest::rstest;
use warden_core::rules::{
    Context, Finding, HostingNetwork, ImpossibleTravel, Judge, NewCity, NewCountry, NewDevice,
    NewNetwork, OddClient, Profile, Rule, RuleId, Severity, SharedAddress, Thresholds,
    TokenHopping, TooManySessions, UnusualHour, all, evaluate,
};
use warden_core::{AccountId, GeoIp, Session, Snapshot};
use warden_mock::scenario::Network;

const FIREFOX: &str = warden_mock::agents::FIREFOX_LINUX;
const FIREFOX_UPDATED: &str = warden_mock::agents::FIREFOX_LINUX_UPDATED;
const IPHONE: &str = warden_mock::agents::SAFARI_IPHONE;
const IPHONE_UPDATED: &str = warden_mock::agents::SAFARI_IPHONE_UPDATED;
const CHROME_WINDOWS: &str = warden_mock::agents::CHROME_WINDOWS;

/// Home: Telekom in Berlin. The other networks are where the cases come from.
const HOME: &str = "93.200.17.45";
const HOME_RENUMBERED: &str = "87.150.33.12";
const CARRIER: &str = "89.204.137.20";
const MUNICH: &str = "94.134.81.17";
const LISBON: &str = "188.81.40.9";
const LINODE: &str = "172.105.8.9";
const UNKNOWN_TO_THE_DATABASE: &str = "203.0.113.7";

fn network(
    prefix: &str,
    city: &str,
    country: &str,
    at: (f64, f64),
    asn: u32,
    org: &str,
) -> Network {
    Network {
        prefix: prefix.parse().expect("a prefix"),
        city: city.into(),
        country: country.into(),
        lat: at.0,
        lon: at.1,
        asn,
        org: org.into(),
    }
}

/// The test databases, written once for all cases.
fn geoip() -> &'static GeoIp {
    static GEOIP: OnceLock<(tempfile::TempDir, GeoIp)> = OnceLock::new();
    &GEOIP
        .get_or_init(|| {
            let berlin = (52.52, 13.40);
            let networks = [
                network(
                    "93.200.17.0/24",
                    "Berlin",
                    "DE",
                    berlin,
                    3320,
                    "Deutsche Telekom AG",
                ),
                network(
                    "87.150.33.0/24",
                    "Berlin",
                    "DE",
                    berlin,
                    3320,
                    "Deutsche Telekom AG",
                ),
                network(
                    "89.204.128.0/18",
                    "Berlin",
                    "DE",
                    berlin,
                    6805,
                    "Telefonica Germany",
                ),
                network(
                    "94.134.80.0/22",
                    "Munich",
                    "DE",
                    (48.14, 11.58),
                    3209,
                    "Vodafone GmbH",
                ),
                network(
                    "188.81.40.0/24",
                    "Lisbon",
                    "PT",
                    (38.72, -9.14),
                    2860,
                    "NOS",
                ),
                network(
                    "172.105.0.0/16",
                    "Frankfurt am Main",
                    "DE",
                    (50.11, 8.68),
                    63949,
                    "Akamai Connected Cloud",
                ),
            ];
            let dir = tempfile::tempdir().expect("temp dir");
            common::write_geoip(dir.path(), &networks);
            let geoip = GeoIp::in_dir(dir.path());
            (dir, geoip)
        })
        .1
}

fn at(hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, hour, minute, 0)
        .single()
        .expect("a time")
}

/// A session as the engine sees it: named from its agent (or RTC's coarse label), placed
/// by the test databases.
fn session(id: &str, agent: Option<&str>, ip: &str) -> Session {
    let mut session = common::listed_session(id, agent, ip, at(14, 0), at(14, 0));
    geoip().enrich(std::slice::from_mut(&mut session));
    session
}

fn snapshot(sessions: Vec<Session>) -> Snapshot {
    Snapshot {
        account: AccountId::from_stored("acc".into()),
        sessions,
        fetched_at: at(14, 0),
    }
}

/// An account used for weeks from a Firefox and an iPhone at home, and from RTC's "Chrome
/// on a computer" there too, mostly by day.
fn profile() -> Profile {
    let mut profile = Profile::default();
    for (id, agent) in [
        ("old-1", Some(FIREFOX)),
        ("old-2", Some(IPHONE)),
        ("old-3", None),
    ] {
        let mut s = session(id, agent, HOME);
        s.last_active_at = Some(at(13, 0));
        profile.learn(&s, false);
    }
    for hour in 8..20 {
        profile.sign_in_hours[hour] = 5;
    }
    profile.hours_since = Some(at(0, 0) - Duration::days(30));
    profile
}

#[derive(Default)]
struct Case<'a> {
    previous: Option<&'a Session>,
    others: Vec<Session>,
    elsewhere: usize,
    crowd: Option<(usize, usize)>,
    thresholds: Thresholds,
}

/// A sign-in's context at 14:00: nothing before it, nowhere else, no crowd.
fn context<'a>(
    profile: &'a Profile,
    snapshot: &'a Snapshot,
    thresholds: &'a Thresholds,
) -> Context<'a> {
    Context {
        profile,
        snapshot,
        previous: None,
        elsewhere: 0,
        thresholds,
        now: at(14, 0),
        crowd: None,
        activity_slack: Duration::zero(),
    }
}

fn judge(rule: &dyn Rule, subject: &Session, case: Case<'_>) -> Option<Finding> {
    let profile = profile();
    let mut sessions = case.others;
    sessions.push(subject.clone());
    let snapshot = snapshot(sessions);
    let ctx = Context {
        previous: case.previous,
        elsewhere: case.elsewhere,
        crowd: case.crowd,
        ..context(&profile, &snapshot, &case.thresholds)
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
    judge(rule, subject, Case::default()).is_some()
}

/// Every rule on one sign-in, as the judge runs them.
fn evaluate_all(subject: &Session, others: Vec<Session>) -> Vec<Finding> {
    let profile = profile();
    let mut sessions = others;
    sessions.push(subject.clone());
    let snapshot = snapshot(sessions);
    let thresholds = Thresholds::default();
    let ctx = context(&profile, &snapshot, &thresholds);
    evaluate(&all(), subject, &ctx)
}

#[test]
fn the_databases_say_where_and_whose() {
    let facts = geoip().lookup(HOME);
    assert_eq!(facts.place.as_deref(), Some("Berlin, DE"));
    let operator = facts.operator.expect("an operator");
    assert_eq!(
        (operator.asn, operator.name.as_str()),
        (Some(3320), "Deutsche Telekom AG")
    );
    assert!(!operator.hosting, "a home ISP");
    let linode = geoip().lookup(LINODE).operator.expect("an operator");
    assert!(linode.hosting, "Akamai's cloud (Linode) hosts servers");
    assert_eq!(geoip().lookup(UNKNOWN_TO_THE_DATABASE), Default::default());
    assert_eq!(geoip().lookup("not an address"), Default::default());
    let s = session("n", Some(FIREFOX), HOME);
    assert_eq!(
        s.whereabouts().as_deref(),
        Some("Berlin, DE · Deutsche Telekom AG")
    );
}

#[test]
fn a_damaged_database_file_is_left_out_not_a_crash() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("GeoLite2-City.mmdb"), b"not a database").expect("written");
    let geoip = GeoIp::in_dir(dir.path());
    assert!(geoip.is_empty());
    assert_eq!(geoip.lookup(HOME), Default::default());
}

#[test]
fn the_servers_own_place_is_kept() {
    let mut s = session("n", None, HOME);
    s.location = Some("Potsdam, DE".into());
    s.coordinates = None;
    geoip().enrich(std::slice::from_mut(&mut s));
    assert_eq!(
        s.location.as_deref(),
        Some("Potsdam, DE"),
        "RTC's word stands"
    );
    assert!(
        s.operator.is_some(),
        "the operator still comes from the database"
    );
}

#[rstest]
#[case::a_known_browser(FIREFOX, false)]
#[case::the_same_browser_updated(FIREFOX_UPDATED, false)]
#[case::a_known_phone_updated(IPHONE_UPDATED, false)]
#[case::curl("curl/8.5.0", true)]
#[case::a_new_browser(CHROME_WINDOWS, true)]
fn new_device(#[case] agent: &str, #[case] expected: bool) {
    let s = session("n", Some(agent), HOME);
    assert_eq!(fires(&NewDevice, &s), expected);
}

#[rstest]
#[case::her_chrome_at_home(HOME, false)]
#[case::her_chrome_after_the_isp_renumbered(HOME_RENUMBERED, false)]
#[case::a_chrome_elsewhere(MUNICH, true)]
fn a_coarsely_named_device_is_known_by_where_it_is_too(#[case] ip: &str, #[case] expected: bool) {
    // RTC says only "Chrome on a computer": a stranger's Chrome is not hers.
    let s = session("n", None, ip);
    assert_eq!(fires(&NewDevice, &s), expected, "{ip}");
}

#[rstest]
#[case::the_same_operator_renumbered(HOME_RENUMBERED, false)]
#[case::another_operator(CARRIER, true)]
#[case::unknown_to_the_database(UNKNOWN_TO_THE_DATABASE, true)]
fn new_network(#[case] ip: &str, #[case] expected: bool) {
    let s = session("n", Some(FIREFOX), ip);
    assert_eq!(fires(&NewNetwork, &s), expected);
    if let Some(f) = judge(&NewNetwork, &s, Case::default()) {
        assert_eq!(
            f.severity,
            Severity::Notice,
            "alone it is a line in the history"
        );
    }
}

#[test]
fn a_new_network_is_named_by_its_operator() {
    let s = session("n", Some(FIREFOX), MUNICH);
    let f = judge(&NewNetwork, &s, Case::default()).expect("fires");
    assert!(f.reason.contains("Vodafone GmbH (AS3209)"), "{}", f.reason);
}

#[rstest]
#[case::home(HOME, false)]
#[case::another_city_at_home(MUNICH, true)]
#[case::abroad_is_the_country_rule(LISBON, false)]
fn new_city(#[case] ip: &str, #[case] expected: bool) {
    let s = session("n", Some(FIREFOX), ip);
    assert_eq!(fires(&NewCity, &s), expected);
}

#[rstest]
#[case::home_isp(HOME, false)]
#[case::a_mobile_carrier(CARRIER, false)]
#[case::a_cloud(LINODE, true)]
fn hosting_network(#[case] ip: &str, #[case] expected: bool) {
    let s = session("n", Some(FIREFOX), ip);
    assert_eq!(fires(&HostingNetwork, &s), expected);
}

#[test]
fn a_sign_in_from_a_server_says_whose_and_why() {
    let s = session("n", Some(FIREFOX), LINODE);
    let f = judge(&HostingNetwork, &s, Case::default()).expect("fires");
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(
        f.reason,
        "From Akamai Connected Cloud (AS63949), a hosting provider: sign-ins from servers are \
         scripts or VPNs"
    );
}

#[test]
fn small_signs_together_are_one_warning_naming_each() {
    // Her own kind of browser, from another city and operator, at 03:00.
    let mut s = session("n", Some(FIREFOX_UPDATED), MUNICH);
    s.created_at = Some(at(3, 10));
    let found = evaluate_all(&s, Vec::new());
    let several = found
        .iter()
        .find(|f| f.rule == RuleId::SeveralSigns)
        .expect("they add up");
    assert_eq!(several.severity, Severity::Warning);
    for part in ["network never seen", "Vodafone", "Munich, DE", "03:00"] {
        assert!(several.reason.contains(part), "{part}: {}", several.reason);
    }
    assert!(
        !found.iter().any(|f| matches!(
            f.rule,
            RuleId::NewNetwork | RuleId::NewCity | RuleId::UnusualHour
        )),
        "named once, inside the warning: {found:?}"
    );
}

#[test]
fn one_small_sign_alone_is_history_only() {
    let s = session("n", Some(FIREFOX), CARRIER);
    let found = evaluate_all(&s, Vec::new());
    assert!(
        found.iter().all(|f| f.severity == Severity::Notice),
        "{found:?}"
    );
}

#[test]
fn a_known_device_signing_in_from_a_known_network_raises_nothing() {
    assert!(
        evaluate_all(
            &session("n", Some(IPHONE_UPDATED), HOME_RENUMBERED),
            Vec::new()
        )
        .is_empty()
    );
}

/// Her laptop at home, in use a few minutes ago.
fn laptop_in_use_at_home() -> Session {
    let mut laptop = session("laptop", Some(FIREFOX), HOME);
    laptop.last_active_at = Some(at(13, 55));
    laptop
}

#[test]
fn a_known_device_abroad_while_nothing_is_used_at_home_is_travel() {
    // Eight hours after the last sighting at home: a flight.
    let mut phone = session("n", Some(IPHONE_UPDATED), LISBON);
    phone.last_active_at = Some(at(21, 0));
    let found = evaluate_all(&phone, Vec::new());
    let travel = found
        .iter()
        .find(|f| f.rule == RuleId::NewCountry)
        .expect("worth a line");
    assert_eq!(travel.severity, Severity::Notice);
    assert_eq!(travel.reason, "Your Safari on iOS is in Lisbon, PT now");
    assert!(
        found.iter().all(|f| f.severity == Severity::Notice),
        "a trip explains the new network and city: {found:?}"
    );
}

#[test]
fn the_same_session_abroad_while_her_devices_are_in_use_at_home_is_a_copied_cookie() {
    let was = session("same", Some(IPHONE), HOME);
    let now = session("same", Some(IPHONE), LISBON);
    let found = judge(
        &NewCountry,
        &now,
        Case {
            previous: Some(&was),
            others: vec![laptop_in_use_at_home()],
            ..Case::default()
        },
    )
    .expect("fires");
    assert_eq!(found.severity, Severity::Alert);
    assert!(found.reason.contains("copied"), "{}", found.reason);
}

#[rstest]
#[case::a_new_device(CHROME_WINDOWS, false, Severity::Warning)]
#[case::her_browser_while_she_is_home(FIREFOX, true, Severity::Warning)]
fn a_sign_in_from_a_new_country_that_is_not_travel_is_a_warning(
    #[case] agent: &str,
    #[case] home_in_use: bool,
    #[case] severity: Severity,
) {
    let s = session("n", Some(agent), LISBON);
    let others = if home_in_use {
        vec![laptop_in_use_at_home()]
    } else {
        Vec::new()
    };
    let found = judge(
        &NewCountry,
        &s,
        Case {
            others,
            ..Case::default()
        },
    )
    .expect("fires");
    assert_eq!(found.severity, severity, "{}", found.reason);
}

#[test]
fn home_countries_are_never_new() {
    let s = session("n", Some(CHROME_WINDOWS), LISBON);
    let thresholds = Thresholds {
        home_countries: vec!["PT".into()],
        ..Thresholds::default()
    };
    assert!(
        judge(
            &NewCountry,
            &s,
            Case {
                thresholds,
                ..Case::default()
            }
        )
        .is_none()
    );
}

#[rstest]
// Berlin at 13:00 and 13:55; these are seen at 14:00.
#[case::lisbon_an_hour_after_berlin(LISBON, true)]
#[case::munich_by_plane(MUNICH, false)]
#[case::nowhere_known(UNKNOWN_TO_THE_DATABASE, false)]
fn impossible_travel(#[case] ip: &str, #[case] expected: bool) {
    let s = session("n", Some(FIREFOX), ip);
    assert_eq!(fires(&ImpossibleTravel, &s), expected, "{ip}");
}

#[test]
fn impossible_travel_compares_with_the_most_recent_sighting() {
    let mut profile = profile();
    let mut laptop = session("laptop", Some(FIREFOX), HOME);
    laptop.last_active_at = Some(at(13, 58));
    profile.learn(&laptop, false);
    let s = session("n", Some(FIREFOX), LISBON);
    let snapshot = snapshot(vec![s.clone()]);
    let thresholds = Thresholds::default();
    let ctx = context(&profile, &snapshot, &thresholds);
    let f = ImpossibleTravel.check(&s, &ctx).expect("fires");
    assert!(
        f.reason
            .contains("from Berlin, DE, where this account was 2 minutes before"),
        "not an older sighting: {}",
        f.reason
    );
}

#[test]
fn impossible_travel_allows_for_activity_known_only_to_the_day() {
    // Lisbon an hour after Berlin, on an API whose "last active" may be a day behind.
    let s = session("n", Some(FIREFOX), LISBON);
    let profile = profile();
    let snapshot = snapshot(vec![s.clone()]);
    let thresholds = Thresholds::default();
    let ctx = context(&profile, &snapshot, &thresholds);
    assert!(
        ImpossibleTravel.check(&s, &ctx).is_some(),
        "precise: impossible"
    );
    let ctx = Context {
        activity_slack: Duration::days(1),
        ..ctx
    };
    assert!(
        ImpossibleTravel.check(&s, &ctx).is_none(),
        "to the day: a trip"
    );
}

#[test]
fn impossible_travel_a_day_later_is_a_trip() {
    let mut s = session("n", Some(FIREFOX), LISBON);
    s.last_active_at = Some(at(13, 0) + Duration::hours(30));
    assert!(!fires(&ImpossibleTravel, &s));
}

#[rstest]
#[case::within_one_operator(HOME, HOME_RENUMBERED, None)]
#[case::to_another_operator_in_the_same_city(HOME, CARRIER, None)]
#[case::to_another_operator_in_the_country(HOME, MUNICH, Some(Severity::Notice))]
#[case::to_a_cloud(HOME, LINODE, Some(Severity::Alert))]
#[case::abroad_is_for_the_travel_rules(HOME, LISBON, None)]
fn a_session_changing_address(
    #[case] before: &str,
    #[case] after: &str,
    #[case] expected: Option<Severity>,
) {
    let was = session("same", Some(IPHONE), before);
    let now = session("same", Some(IPHONE), after);
    let found = judge(
        &TokenHopping,
        &now,
        Case {
            previous: Some(&was),
            ..Case::default()
        },
    );
    assert_eq!(found.map(|f| f.severity), expected, "{before} → {after}");
}

#[rstest]
#[case::crossing(Some((11, 10)), true)]
#[case::not_crossing(None, false)]
fn too_many_sessions(#[case] crowd: Option<(usize, usize)>, #[case] expected: bool) {
    let s = session("n", Some(FIREFOX), HOME);
    let found = judge(
        &TooManySessions,
        &s,
        Case {
            crowd,
            ..Case::default()
        },
    );
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
    let s = session("n", agent, HOME);
    assert_eq!(fires(&OddClient, &s), expected, "{agent:?}");
}

#[rstest]
#[case::afternoon(14, false)]
#[case::three_am(3, true)]
fn unusual_hour(#[case] hour: u32, #[case] expected: bool) {
    let mut s = session("n", Some(FIREFOX), HOME);
    s.created_at = Some(at(hour, 12));
    assert_eq!(fires(&UnusualHour, &s), expected);
}

#[rstest]
#[case::too_few_sign_ins(1000, 7)]
#[case::too_few_days(20, 60)]
fn unusual_hour_needs_a_history_first(#[case] sign_ins: u32, #[case] days: u32) {
    let mut s = session("n", Some(FIREFOX), HOME);
    s.created_at = Some(at(3, 0));
    let thresholds = Thresholds {
        hour_min_history: sign_ins,
        hour_min_days: days,
        ..Thresholds::default()
    };
    assert!(
        judge(
            &UnusualHour,
            &s,
            Case {
                thresholds,
                ..Case::default()
            }
        )
        .is_none()
    );
}

#[rstest]
#[case::only_here(0, false)]
#[case::on_another_account(1, true)]
fn shared_address(#[case] elsewhere: usize, #[case] expected: bool) {
    let s = session("n", Some(FIREFOX), MUNICH);
    let found = judge(
        &SharedAddress,
        &s,
        Case {
            elsewhere,
            ..Case::default()
        },
    );
    assert_eq!(found.is_some(), expected);
}

#[test]
fn a_known_network_on_two_accounts_is_not_shared_intrusion() {
    let s = session("n", Some(FIREFOX), HOME_RENUMBERED);
    assert!(
        judge(
            &SharedAddress,
            &s,
            Case {
                elsewhere: 3,
                ..Case::default()
            }
        )
        .is_none()
    );
}

#[test]
fn a_trusted_device_raises_nothing_but_token_theft() {
    let mut profile = profile();
    let curl = session("n", Some("curl/8.5.0"), MUNICH);
    profile.trust(&curl);
    let snapshot = snapshot(vec![curl.clone()]);
    let thresholds = Thresholds::default();
    let ctx = context(&profile, &snapshot, &thresholds);
    let rules = all();
    assert!(evaluate(&rules, &curl, &ctx).is_empty());
    let moved = session("n", Some("curl/8.5.0"), LINODE);
    let ctx = Context {
        previous: Some(&curl),
        ..ctx
    };
    let found: Vec<RuleId> = evaluate(&rules, &moved, &ctx)
        .iter()
        .map(|f| f.rule)
        .collect();
    assert!(found.contains(&RuleId::TokenHopping), "{found:?}");
    assert!(
        found
            .iter()
            .all(|r| matches!(r, RuleId::TokenHopping | RuleId::ImpossibleTravel)),
        "{found:?}"
    );
}

// --- the judge: what it learns, what it tells once

fn detector_with_home() -> (Judge, Snapshot) {
    let judge = Judge::default();
    let home = snapshot(vec![session("laptop", Some(FIREFOX), HOME)]);
    judge.baseline(&home, &[]);
    (judge, home)
}

#[test]
fn a_flagged_sign_in_does_not_teach_the_account_and_is_not_told_twice() {
    let (judge, _) = detector_with_home();
    let first = session("intruder-1", Some(CHROME_WINDOWS), MUNICH);
    let now = snapshot(vec![first.clone()]);
    let found = judge.appeared(&first, &now, at(14, 0));
    assert!(
        found
            .iter()
            .any(|f| f.rule == RuleId::NewDevice && !f.repeat),
        "{found:?}"
    );
    judge.learn(&now, &[&first]);
    // The same intruder signs in again the next day: still flagged, never told again.
    let again = session("intruder-2", Some(CHROME_WINDOWS), MUNICH);
    let later = snapshot(vec![again.clone()]);
    let found = judge.appeared(&again, &later, at(14, 0) + Duration::days(1));
    let new_device = found
        .iter()
        .find(|f| f.rule == RuleId::NewDevice)
        .expect("still flagged: the account did not learn it");
    assert!(new_device.repeat, "told once: {found:?}");
    // From a cloud now: something new is wrong, and that is told.
    let cloud = session("intruder-3", Some(CHROME_WINDOWS), LINODE);
    let found = judge.appeared(&cloud, &snapshot(vec![cloud.clone()]), at(15, 0));
    assert!(
        found
            .iter()
            .any(|f| f.rule == RuleId::HostingNetwork && !f.repeat),
        "{found:?}"
    );
}

#[test]
fn a_flagged_session_is_learned_once_trusted_or_after_a_week() {
    for trusted in [true, false] {
        let (judge, _) = detector_with_home();
        let tablet = session("tablet", Some(CHROME_WINDOWS), HOME);
        let now = snapshot(vec![tablet.clone()]);
        assert!(!judge.appeared(&tablet, &now, at(14, 0)).is_empty());
        let later = if trusted {
            judge.trust(&now.account, &tablet);
            at(14, 0)
        } else {
            at(14, 0) + Duration::days(8)
        };
        let week_on = Snapshot {
            fetched_at: later,
            ..now.clone()
        };
        judge.learn(&week_on, &[]);
        let next = session("tablet-2", Some(CHROME_WINDOWS), HOME);
        let found = judge.appeared(&next, &snapshot(vec![next.clone()]), later);
        assert!(
            found.is_empty(),
            "trusted {trusted}: now it is hers: {found:?}"
        );
    }
}

#[test]
fn too_many_sessions_is_told_once_per_crossing_and_ours_and_expired_ones_never_count() {
    let (judge, _) = detector_with_home();
    let mut sessions: Vec<Session> = (0..10)
        .map(|i| session(&format!("s{i}"), Some(FIREFOX), HOME))
        .collect();
    let mut ours = session("ours", None, HOME);
    ours.is_current = true;
    let mut expired = session("expired", Some(FIREFOX), HOME);
    expired.expires_at = Some(at(13, 0));
    sessions.extend([ours, expired]);
    let crowd = |found: &[Finding]| found.iter().any(|f| f.rule == RuleId::TooManySessions);
    let at_limit = snapshot(sessions.clone());
    let probe = sessions[0].clone();
    assert!(
        !crowd(&judge.appeared(&probe, &at_limit, at(14, 0))),
        "ten, ours and an expired one"
    );
    let eleventh = session("s10", Some(FIREFOX), HOME);
    sessions.push(eleventh.clone());
    let over = snapshot(sessions.clone());
    assert!(
        crowd(&judge.appeared(&eleventh, &over, at(14, 0))),
        "the crossing is told"
    );
    let twelfth = session("s11", Some(FIREFOX), HOME);
    sessions.push(twelfth.clone());
    let more = snapshot(sessions);
    assert!(
        !crowd(&judge.appeared(&twelfth, &more, at(14, 0))),
        "once per crossing"
    );
}

#[test]
fn the_accounts_own_normal_raises_the_limit() {
    let (judge, _) = detector_with_home();
    let day = |n: i64| at(14, 0) + Duration::days(n);
    // Three weeks with twelve sessions every day: that is this account's normal.
    let usual: Vec<Session> = (0..12)
        .map(|i| session(&format!("s{i}"), Some(FIREFOX), HOME))
        .collect();
    for n in 0..21 {
        judge.learn(
            &Snapshot {
                fetched_at: day(n),
                ..snapshot(usual.clone())
            },
            &[],
        );
    }
    let mut sessions = usual.clone();
    let thirteenth = session("s12", Some(FIREFOX), HOME);
    sessions.push(thirteenth.clone());
    let found = judge.appeared(&thirteenth, &snapshot(sessions), day(21));
    assert!(
        !found.iter().any(|f| f.rule == RuleId::TooManySessions),
        "{found:?}"
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

#[test]
fn a_device_trusted_before_devices_were_known_by_what_they_are_stays_trusted() {
    // The ledger kept the raw user agent then; an update later, it is still hers.
    let (judge, home) = detector_with_home();
    judge.trust_device(&home.account, CHROME_WINDOWS);
    let updated = session(
        "work",
        Some(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        ),
        HOME,
    );
    let found = judge.appeared(&updated, &snapshot(vec![updated.clone()]), at(14, 0));
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn an_address_learnt_after_the_sign_in_is_judged_as_the_sign_in_would_have_been() {
    // Matrix lists a new device with no address until its first request.
    let (judge, _) = detector_with_home();
    let mut before = session("matrix-device", Some(FIREFOX), LINODE);
    before.ip = None;
    before.location = None;
    before.operator = None;
    assert!(
        judge
            .appeared(&before, &snapshot(vec![before.clone()]), at(14, 0))
            .iter()
            .all(|f| f.rule != RuleId::HostingNetwork),
        "nothing to say of a network yet"
    );
    judge.learn(&snapshot(vec![before.clone()]), &[&before]);
    let after = session("matrix-device", Some(FIREFOX), LINODE);
    let found = judge.seen_again(&before, &after, &snapshot(vec![after.clone()]), at(14, 10));
    assert!(
        found.iter().any(|f| f.rule == RuleId::HostingNetwork),
        "the cloud it came from, once known: {found:?}"
    );
    // Once the address is known, a move is judged as a move: a known network says nothing.
    let moved = session("matrix-device", Some(FIREFOX), HOME);
    let found = judge.seen_again(&after, &moved, &snapshot(vec![moved.clone()]), at(14, 20));
    assert!(
        found.iter().all(|f| f.rule != RuleId::HostingNetwork),
        "{found:?}"
    );
}
