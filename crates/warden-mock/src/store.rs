//! The one store of users and sessions behind every API the mock speaks.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};

#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub email: String,
    pub password: String,
    pub display_name: String,
}

/// A signed-in device, whatever API it signed in through.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub user_agent: String,
    /// What the server would record: `None` when it could not tell.
    pub ip: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_active_at: DateTime<Utc>,
}

#[derive(Default)]
struct Inner {
    users: Vec<User>,
    sessions: HashMap<String, Session>,
}

#[derive(Default)]
pub struct Store {
    inner: Mutex<Inner>,
}

impl Store {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        // Every method leaves the store consistent before it can panic.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn add_user(&self, email: &str, password: &str, display_name: &str) -> User {
        let mut inner = self.inner();
        let user = User {
            id: (inner.users.len() + 1).to_string(),
            email: email.to_owned(),
            password: password.to_owned(),
            display_name: display_name.to_owned(),
        };
        inner.users.push(user.clone());
        user
    }

    /// Forgets every user and session.
    pub fn clear(&self) {
        let mut inner = self.inner();
        inner.users.clear();
        inner.sessions.clear();
    }

    pub fn user_by_login(&self, login: &str) -> Option<User> {
        self.inner()
            .users
            .iter()
            .find(|u| u.email.eq_ignore_ascii_case(login))
            .cloned()
    }

    pub fn user(&self, id: &str) -> Option<User> {
        self.inner().users.iter().find(|u| u.id == id).cloned()
    }

    pub fn create_session(
        &self,
        user_id: &str,
        user_agent: &str,
        ip: Option<String>,
        now: DateTime<Utc>,
    ) -> Session {
        let session = Session {
            id: uuid::Uuid::new_v4().to_string(),
            user_id: user_id.to_owned(),
            user_agent: user_agent.to_owned(),
            ip,
            created_at: now,
            last_active_at: now,
        };
        self.inner()
            .sessions
            .insert(session.id.clone(), session.clone());
        session
    }

    pub fn session(&self, id: &str) -> Option<Session> {
        self.inner().sessions.get(id).cloned()
    }

    /// Records activity; returns the updated session, if it exists.
    pub fn touch(&self, id: &str, now: DateTime<Utc>) -> Option<Session> {
        let mut inner = self.inner();
        let session = inner.sessions.get_mut(id)?;
        session.last_active_at = now;
        Some(session.clone())
    }

    /// The device moved: its next request comes from `ip`.
    pub fn move_to(&self, id: &str, ip: String) {
        if let Some(s) = self.inner().sessions.get_mut(id) {
            s.ip = Some(ip);
        }
    }

    /// The user's sessions, newest activity first.
    pub fn sessions_of(&self, user_id: &str) -> Vec<Session> {
        let mut sessions: Vec<Session> = self
            .inner()
            .sessions
            .values()
            .filter(|s| s.user_id == user_id)
            .cloned()
            .collect();
        sessions.sort_by(|a, b| {
            (b.last_active_at, b.created_at, &b.id).cmp(&(a.last_active_at, a.created_at, &a.id))
        });
        sessions
    }

    pub fn remove_session(&self, id: &str) -> Option<Session> {
        self.inner().sessions.remove(id)
    }

    /// Removes the user's sessions for which `doomed` holds; returns how many.
    pub fn remove_sessions_where(&self, user_id: &str, doomed: impl Fn(&Session) -> bool) -> usize {
        let mut inner = self.inner();
        let before = inner.sessions.len();
        inner
            .sessions
            .retain(|_, s| s.user_id != user_id || !doomed(s));
        before - inner.sessions.len()
    }
}
