//! Comparing two snapshots of one account: what appeared, what ended. Sessions are matched
//! by id first, then by device (`Session::device_key`): a device whose session id changed
//! (node-auth rotates the handle on every refresh; a server restart may renumber) is the
//! same device, not a new sign-in and an ended one.

use crate::session::{Session, SessionId, Snapshot};

#[derive(Debug, Default, PartialEq)]
pub struct Changes<'a> {
    pub appeared: Vec<&'a Session>,
    pub ended: Vec<&'a Session>,
    /// Sessions that changed id but not device: (before, after).
    pub renamed: Vec<(&'a Session, &'a Session)>,
    /// Anything differs, activity times included: views must re-render.
    pub any: bool,
}

pub fn diff<'a>(previous: &'a Snapshot, current: &'a Snapshot) -> Changes<'a> {
    // foldhash, not SipHash: the ids are hashes already, and these sets are built on
    // every poll from every session.
    let before: foldhash::HashSet<&SessionId> = previous.sessions.iter().map(|s| &s.id).collect();
    let after: foldhash::HashSet<&SessionId> = current.sessions.iter().map(|s| &s.id).collect();
    let mut gone: foldhash::HashMap<String, Vec<&Session>> = Default::default();
    for session in previous.sessions.iter().filter(|s| !after.contains(&s.id)) {
        gone.entry(session.device_key()).or_default().push(session);
    }
    let mut appeared = Vec::new();
    let mut renamed = Vec::new();
    for session in current.sessions.iter().filter(|s| !before.contains(&s.id)) {
        match gone.get_mut(&session.device_key()).and_then(Vec::pop) {
            Some(was) => renamed.push((was, session)),
            None => appeared.push(session),
        }
    }
    let ended = gone.into_values().flatten().collect();
    let any = previous.sessions != current.sessions;
    Changes {
        appeared,
        ended,
        renamed,
        any,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::account::AccountId;
    use crate::session::Device;

    fn session(server_id: &str, agent: &str, ip: &str) -> Session {
        let mut session = Session::bare(&AccountId::from_stored("acc".into()), server_id, "");
        session.device = Device::from_user_agent(agent).into();
        session.user_agent = Some(agent.into());
        session.ip = Some(ip.into());
        session
    }

    fn snapshot(sessions: Vec<Session>) -> Snapshot {
        Snapshot {
            account: AccountId::from_stored("acc".into()),
            sessions,
            fetched_at: chrono::Utc::now(),
        }
    }

    const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
    const CURL: &str = "curl/8.5.0";

    #[test]
    fn a_new_handle_for_the_same_device_and_network_is_a_rename() {
        let before = snapshot(vec![session("a", FIREFOX, "198.51.100.7")]);
        let after = snapshot(vec![session("b", FIREFOX, "198.51.100.9")]);
        let changes = diff(&before, &after);
        assert!(
            changes.appeared.is_empty() && changes.ended.is_empty(),
            "{changes:?}"
        );
        assert_eq!(changes.renamed.len(), 1);
    }

    #[test]
    fn another_device_or_network_is_news() {
        let before = snapshot(vec![session("a", FIREFOX, "198.51.100.7")]);
        for (agent, ip) in [(CURL, "198.51.100.7"), (FIREFOX, "203.0.113.7")] {
            let after = snapshot(vec![session("b", agent, ip)]);
            let changes = diff(&before, &after);
            assert_eq!(changes.appeared.len(), 1, "{agent} {ip}");
            assert_eq!(changes.ended.len(), 1, "{agent} {ip}");
        }
    }

    #[test]
    fn a_second_session_of_a_known_device_is_still_a_new_session() {
        let before = snapshot(vec![session("a", FIREFOX, "198.51.100.7")]);
        let after = snapshot(vec![
            session("a", FIREFOX, "198.51.100.7"),
            session("b", FIREFOX, "198.51.100.7"),
        ]);
        let changes = diff(&before, &after);
        assert_eq!(changes.appeared.len(), 1);
        assert!(changes.ended.is_empty());
    }
}
