//! What enters the engine from a listing, whatever the API: the server's text cleaned, its
//! times checked, no id listed twice.

use super::{server_text, wire_time};
use crate::error::Result;
use crate::session::{Session, SessionId};

/// Whatever the API, what its server says is a stranger's word: its text is cleaned
/// (`server_text`), its times must be ones a calendar and the ledger can hold, and two
/// listed sessions never share one id.
pub(crate) fn admitted(mut sessions: Vec<Session>) -> Result<Vec<Session>> {
    for session in &mut sessions {
        check_times(session);
    }
    server_text::clean_sessions(&mut sessions);
    mark_non_addresses(&mut sessions);
    unique_ids(&mut sessions);
    Ok(sessions)
}

/// An `ip` that is not an IP address stays the server's text, marked as such
/// (`session::NOT_AN_ADDRESS`): no front end shows a claim as an address, and no rule reads
/// a network into it (`network_of` is `None` for it).
fn mark_non_addresses(sessions: &mut [Session]) {
    for session in sessions {
        if let Some(ip) = &mut session.ip
            && ip.parse::<std::net::IpAddr>().is_err()
        {
            ip.push_str(crate::session::NOT_AN_ADDRESS);
        }
    }
}

/// The years a server's time may fall in: from the Unix epoch to the last year RFC 3339
/// (and so the ledger) can write. A `lastActiveAt` in the year 262142 is a broken or
/// hostile server: never carried into arithmetic.
const PLAUSIBLE_YEARS: std::ops::RangeInclusive<i32> = 1970..=9999;

/// Leaves out of the session each time no server means (unreadable, or outside
/// `PLAUSIBLE_YEARS`), and says so in `Session::unreadable`: the session and the rest of the
/// listing are kept, so one broken row never hides the others.
fn check_times(session: &mut Session) {
    use chrono::Datelike;
    let mut said = Vec::new();
    for (what, time) in [
        ("sign-in time", &mut session.created_at),
        ("last activity", &mut session.last_active_at),
        ("expiry", &mut session.expires_at),
    ] {
        let Some(at) = *time else { continue };
        if at == wire_time::UNREADABLE {
            said.push(format!("its {what} is not a time"));
        } else if !PLAUSIBLE_YEARS.contains(&at.year()) {
            said.push(format!("its {what} is in the year {}", at.year()));
        } else {
            continue;
        }
        *time = None;
    }
    if !said.is_empty() {
        session.unreadable = Some(format!(
            "The server sent what no server means: {}; left out",
            said.join(", ")
        ));
    }
}

/// A server that lists one id twice lists two sessions as far as we are concerned: the
/// second and later get an id of their own (so nothing keyed by id mixes them up), and
/// only the first can be ours.
fn unique_ids(sessions: &mut [Session]) {
    // Every poll of every account comes through here, and servers almost never repeat an
    // id: look first, without copying an id, and renumber only when one is repeated.
    let mut ids = foldhash::HashSet::with_capacity_and_hasher(sessions.len(), Default::default());
    if sessions.iter().all(|s| ids.insert(&s.id)) {
        return;
    }
    let mut seen: foldhash::HashMap<SessionId, u32> = foldhash::HashMap::default();
    for session in sessions.iter_mut() {
        let count = seen.entry(session.id.clone()).or_insert(0);
        *count += 1;
        if *count > 1 {
            session.id = SessionId::derive_repeat(&session.account, &session.server_id, *count);
            session.is_current = false;
        }
    }
}
