//! The one store of users and sessions behind every API the mock speaks. A session remembers
//! the API it signed in through (its expiry policy and quirks follow from that), but every
//! API lists every live session of the user, so one demo account can be watched through any.
//!
//! Everything here is plain data that serializes: `--state FILE` and the snapshot routes
//! save and restore exactly this.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::dialect::Dialect;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub email: String,
    /// RTC signs in with an email or a username.
    pub username: String,
    /// SecureAuth signs in with a phone number and a code sent to it.
    #[serde(default)]
    pub phone: Option<String>,
    pub password: String,
    pub display_name: String,
    /// TOTP second factor (node-auth and RTC), when the user turned it on.
    #[serde(default)]
    pub totp: Option<Totp>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Totp {
    /// Base32, as an authenticator app takes it.
    pub secret: String,
    /// RTC's backup codes not used yet; each works once.
    pub backup_codes: Vec<String>,
}

/// Where a sign-in came from, when the scenario or the test says so. Only RTC shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub city: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub lat: f64,
    pub lon: f64,
}

/// A signed-in device, whatever API it signed in through.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub dialect: Dialect,
    pub user_agent: String,
    /// What the server recorded: `None` when it could not tell.
    pub ip: Option<String>,
    #[serde(default)]
    pub location: Option<Location>,
    pub created_at: DateTime<Utc>,
    pub last_active_at: DateTime<Utc>,
    /// A fixed end (RTC, hectoday's absolute timeout, node-auth's refresh lifetime).
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    /// Ends after this long without activity (hectoday).
    #[serde(default)]
    pub idle_timeout_secs: Option<i64>,
    /// Revoked or signed out: kept for a while, since some APIs answer an ended session's
    /// token differently from an unknown one.
    #[serde(default)]
    pub ended_at: Option<DateTime<Utc>>,
    /// The name the device gave itself (Matrix's `display_name`; renamed there too).
    #[serde(default)]
    pub display_name: Option<String>,
    /// A number of its own, in creation order: allauth's integer ids.
    #[serde(default)]
    pub number: u64,
}

impl Session {
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|end| now >= end)
            || self
                .idle_timeout_secs
                .is_some_and(|idle| now - self.last_active_at > Duration::seconds(idle))
    }

    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.ended_at.is_none() && !self.is_expired(now)
    }
}

/// A device signing in: what the server sees of it.
#[derive(Debug, Clone, Default)]
pub struct Device {
    pub user_agent: String,
    pub ip: Option<String>,
    pub location: Option<Location>,
    /// The name it gives itself, where the API lets it (Matrix).
    pub name: Option<String>,
}

/// A one-time code that SecureAuth "sent" by SMS: tests and demos read it here.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxMessage {
    pub to: String,
    pub body: String,
    pub code: String,
    pub verification_id: String,
    pub sent_at: DateTime<Utc>,
}

/// A SecureAuth verification waiting for its code.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    pub phone: String,
    pub code: String,
    pub created_at: DateTime<Utc>,
    pub used: bool,
}

/// Ended sessions are forgotten after this long, so a long-running server stays small.
const ENDED_KEPT: Duration = Duration::days(8);
/// The outbox keeps the most recent messages only.
const OUTBOX_KEPT: usize = 1000;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreData {
    pub users: Vec<User>,
    pub sessions: HashMap<String, Session>,
    /// node-auth keeps one refresh token per user (quirk 1): the id of the valid one.
    #[serde(default)]
    pub refresh_tokens: HashMap<String, String>,
    #[serde(default)]
    pub verifications: HashMap<String, Verification>,
    #[serde(default)]
    pub outbox: Vec<OutboxMessage>,
    /// Signs every JWT the mock issues; kept with the state so tokens survive a restart.
    #[serde(default)]
    pub jwt_secret: String,
    /// The last session number given (`Session::number`).
    #[serde(default)]
    pub last_number: u64,
}

#[derive(Default)]
struct Inner {
    data: StoreData,
    /// user id → ids of that user's sessions, so a listing never scans everyone's.
    by_user: HashMap<String, HashSet<String>>,
}

impl Inner {
    fn insert_session(&mut self, session: Session) {
        self.by_user
            .entry(session.user_id.clone())
            .or_default()
            .insert(session.id.clone());
        self.data.sessions.insert(session.id.clone(), session);
    }

    fn delete_session(&mut self, id: &str) -> Option<Session> {
        let session = self.data.sessions.remove(id)?;
        if let Some(ids) = self.by_user.get_mut(&session.user_id) {
            ids.remove(id);
        }
        Some(session)
    }

    fn ids_of(&self, user_id: &str) -> Vec<String> {
        self.by_user
            .get(user_id)
            .map(|ids| ids.iter().cloned().collect())
            .unwrap_or_default()
    }
}

#[derive(Default)]
pub struct Store {
    inner: Mutex<Inner>,
    /// Bumped by every change, so `--state` knows when to write.
    generation: AtomicU64,
}

impl Store {
    fn read(&self) -> MutexGuard<'_, Inner> {
        // Every method leaves the store consistent before it can panic.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> MutexGuard<'_, Inner> {
        self.generation.fetch_add(1, Ordering::Relaxed);
        self.read()
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }

    /// Everything, as `--state` and `GET /__mock/snapshot` save it.
    pub fn snapshot(&self) -> StoreData {
        self.read().data.clone()
    }

    /// Replaces everything with `data`.
    pub fn restore(&self, mut data: StoreData) {
        if data.jwt_secret.is_empty() {
            data.jwt_secret = new_secret();
        }
        let mut inner = self.write();
        inner.by_user.clear();
        let sessions = std::mem::take(&mut data.sessions);
        inner.data = data;
        for session in sessions.into_values() {
            inner.insert_session(session);
        }
    }

    /// Forgets every user and session; a new JWT secret invalidates every token issued.
    pub fn clear(&self) {
        self.restore(StoreData::default());
    }

    pub fn jwt_secret(&self) -> String {
        self.read().data.jwt_secret.clone()
    }

    pub fn add_user(&self, new: NewUser) -> User {
        let mut inner = self.write();
        let id = (inner.data.users.len() + 1).to_string();
        let username = new
            .username
            .unwrap_or_else(|| new.email.split('@').next().unwrap_or(&new.email).to_owned());
        let user = User {
            id,
            email: new.email,
            username,
            phone: new.phone,
            password: new.password,
            display_name: new.display_name,
            totp: new.totp,
        };
        inner.data.users.push(user.clone());
        user
    }

    fn find_user(&self, matches: impl Fn(&User) -> bool) -> Option<User> {
        self.read().data.users.iter().find(|u| matches(u)).cloned()
    }

    /// A user by email, username or phone number, as the control API and scenarios name them.
    pub fn user_by_login(&self, login: &str) -> Option<User> {
        self.find_user(|u| {
            u.email.eq_ignore_ascii_case(login)
                || u.username.eq_ignore_ascii_case(login)
                || u.phone.as_deref() == Some(login)
        })
    }

    pub fn user_by_email(&self, email: &str) -> Option<User> {
        self.find_user(|u| u.email.eq_ignore_ascii_case(email))
    }

    /// RTC's `identifier`: an email or a username.
    pub fn user_by_identifier(&self, identifier: &str) -> Option<User> {
        self.find_user(|u| {
            u.email.eq_ignore_ascii_case(identifier) || u.username.eq_ignore_ascii_case(identifier)
        })
    }

    pub fn user_by_phone(&self, phone: &str) -> Option<User> {
        self.find_user(|u| u.phone.as_deref() == Some(phone))
    }

    pub fn user(&self, id: &str) -> Option<User> {
        self.find_user(|u| u.id == id)
    }

    pub fn set_display_name(&self, user_id: &str, name: &str) -> Option<User> {
        let mut inner = self.write();
        let user = inner.data.users.iter_mut().find(|u| u.id == user_id)?;
        user.display_name = name.to_owned();
        Some(user.clone())
    }

    /// Uses up one of the user's backup codes; false if it is not one (any more).
    pub fn use_backup_code(&self, user_id: &str, code: &str) -> bool {
        let mut inner = self.write();
        let Some(totp) = inner
            .data
            .users
            .iter_mut()
            .find(|u| u.id == user_id)
            .and_then(|u| u.totp.as_mut())
        else {
            return false;
        };
        let before = totp.backup_codes.len();
        totp.backup_codes.retain(|c| c != code);
        totp.backup_codes.len() < before
    }

    pub fn create_session(
        &self,
        user_id: &str,
        dialect: Dialect,
        device: Device,
        now: DateTime<Utc>,
    ) -> Session {
        let mut inner = self.write();
        inner.data.last_number += 1;
        let session = Session {
            id: uuid::Uuid::new_v4().to_string(),
            user_id: user_id.to_owned(),
            dialect,
            user_agent: device.user_agent,
            ip: device.ip,
            location: device.location,
            created_at: now,
            last_active_at: now,
            expires_at: None,
            idle_timeout_secs: None,
            ended_at: None,
            display_name: device.name,
            number: inner.data.last_number,
        };
        inner.insert_session(session.clone());
        session
    }

    /// Sets a session's expiry policy (each dialect's sign-in does, right after creating it).
    pub fn set_policy(
        &self,
        id: &str,
        expires_at: Option<DateTime<Utc>>,
        idle_timeout: Option<Duration>,
    ) -> Option<Session> {
        let mut inner = self.write();
        let session = inner.data.sessions.get_mut(id)?;
        session.expires_at = expires_at;
        session.idle_timeout_secs = idle_timeout.map(|d| d.num_seconds());
        Some(session.clone())
    }

    /// The session, live or ended (not yet forgotten).
    pub fn session(&self, id: &str) -> Option<Session> {
        self.read().data.sessions.get(id).cloned()
    }

    /// Records activity at `now`; returns the updated session, if it exists.
    pub fn touch(&self, id: &str, now: DateTime<Utc>) -> Option<Session> {
        let mut inner = self.write();
        let session = inner.data.sessions.get_mut(id)?;
        session.last_active_at = now;
        Some(session.clone())
    }

    /// The device renamed itself (Matrix's `display_name`).
    pub fn rename(&self, id: &str, name: &str) -> bool {
        match self.write().data.sessions.get_mut(id) {
            Some(s) => {
                s.display_name = Some(name.to_owned());
                true
            }
            None => false,
        }
    }

    /// Where a request just came from, recorded as the session's (allauth's activity
    /// tracking rewrites both on every request).
    pub fn seen(&self, id: &str, ip: Option<String>, user_agent: String) {
        if let Some(s) = self.write().data.sessions.get_mut(id) {
            if ip.is_some() {
                s.ip = ip;
            }
            s.user_agent = user_agent;
        }
    }

    /// The first live session for which `found` holds (the APIs whose credentials are not
    /// the session id look them up so).
    /// `found` runs with the store unlocked: it may read the store (a token is derived from
    /// the store's secret).
    pub fn find_live(
        &self,
        now: DateTime<Utc>,
        found: impl Fn(&Session) -> bool,
    ) -> Option<Session> {
        let live: Vec<Session> = self
            .read()
            .data
            .sessions
            .values()
            .filter(|s| s.is_live(now))
            .cloned()
            .collect();
        live.into_iter().find(|s| found(s))
    }

    /// The device moved: its next request comes from `ip` (and `location`, when known).
    pub fn move_to(&self, id: &str, ip: String, location: Option<Location>) {
        if let Some(s) = self.write().data.sessions.get_mut(id) {
            s.ip = Some(ip);
            if location.is_some() {
                s.location = location;
            }
        }
    }

    /// The user's live sessions on the web service every API but Home Assistant speaks,
    /// newest activity first. Home Assistant is a server of its own: its tokens are listed by
    /// it alone ([`Store::every_session_of`]).
    pub fn sessions_of(&self, user_id: &str, now: DateTime<Utc>) -> Vec<Session> {
        let mut sessions = self.every_session_of(user_id, now);
        sessions.retain(|s| s.dialect != Dialect::HomeAssistant);
        sessions
    }

    /// Every live session and token of the user, whatever the API, newest activity first.
    /// Forgets long-ended ones on the way.
    pub fn every_session_of(&self, user_id: &str, now: DateTime<Utc>) -> Vec<Session> {
        let mut inner = self.read();
        let mut live = Vec::new();
        let mut forgotten = Vec::new();
        for id in inner.ids_of(user_id) {
            let Some(session) = inner.data.sessions.get(&id) else {
                continue;
            };
            if session.is_live(now) {
                live.push(session.clone());
            } else if session
                .ended_at
                .is_some_and(|ended| now - ended > ENDED_KEPT)
            {
                forgotten.push(id);
            }
        }
        for id in forgotten {
            inner.delete_session(&id);
        }
        live.sort_by(|a, b| {
            (b.last_active_at, b.created_at, &b.id).cmp(&(a.last_active_at, a.created_at, &a.id))
        });
        live
    }

    /// Every live session of every user on the web service, newest sign-in first (node-auth's
    /// admin listing).
    pub fn all_live_sessions(&self, now: DateTime<Utc>) -> Vec<Session> {
        let mut live: Vec<Session> = self
            .read()
            .data
            .sessions
            .values()
            .filter(|s| s.is_live(now) && s.dialect != Dialect::HomeAssistant)
            .cloned()
            .collect();
        live.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        live
    }

    /// Ends a live session (revoked, signed out); false if there was none.
    pub fn end_session(&self, id: &str, now: DateTime<Utc>) -> bool {
        let mut inner = self.write();
        match inner.data.sessions.get_mut(id) {
            Some(s) if s.ended_at.is_none() => {
                s.ended_at = Some(now);
                true
            }
            _ => false,
        }
    }

    /// Ends the user's live sessions for which `doomed` holds; returns how many.
    pub fn end_sessions_where(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
        doomed: impl Fn(&Session) -> bool,
    ) -> usize {
        let mut inner = self.write();
        let mut ended = 0;
        for id in inner.ids_of(user_id) {
            if let Some(s) = inner.data.sessions.get_mut(&id)
                && s.is_live(now)
                && doomed(s)
            {
                s.ended_at = Some(now);
                ended += 1;
            }
        }
        ended
    }

    /// Deletes expired sessions (node-auth's cleanup route); returns how many.
    pub fn delete_expired(&self, now: DateTime<Utc>) -> usize {
        let mut inner = self.write();
        let doomed: Vec<String> = inner
            .data
            .sessions
            .values()
            .filter(|s| s.ended_at.is_none() && s.is_expired(now))
            .map(|s| s.id.clone())
            .collect();
        for id in &doomed {
            inner.delete_session(id);
        }
        doomed.len()
    }

    /// node-auth's refresh: the device gets a new session handle with a fresh `createdAt`,
    /// and the old handle is gone (quirk 2). Returns the new session.
    pub fn rotate_session(
        &self,
        id: &str,
        device: Device,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<Session> {
        let mut inner = self.write();
        let old = inner.delete_session(id)?;
        let session = Session {
            id: uuid::Uuid::new_v4().to_string(),
            user_agent: device.user_agent,
            ip: device.ip.or(old.ip),
            location: device.location.or(old.location),
            created_at: now,
            last_active_at: now,
            expires_at,
            ended_at: None,
            ..old
        };
        inner.insert_session(session.clone());
        Some(session)
    }

    /// node-auth quirk 1: the user's one valid refresh token is now `token_id`.
    pub fn set_refresh_token(&self, user_id: &str, token_id: &str) {
        self.write()
            .data
            .refresh_tokens
            .insert(user_id.to_owned(), token_id.to_owned());
    }

    pub fn refresh_token(&self, user_id: &str) -> Option<String> {
        self.read().data.refresh_tokens.get(user_id).cloned()
    }

    pub fn add_verification(&self, id: &str, verification: Verification, message: OutboxMessage) {
        let mut inner = self.write();
        inner.data.verifications.insert(id.to_owned(), verification);
        inner.data.outbox.push(message);
        let excess = inner.data.outbox.len().saturating_sub(OUTBOX_KEPT);
        inner.data.outbox.drain(..excess);
    }

    pub fn verification(&self, id: &str) -> Option<Verification> {
        self.read().data.verifications.get(id).cloned()
    }

    pub fn use_verification(&self, id: &str) {
        if let Some(v) = self.write().data.verifications.get_mut(id) {
            v.used = true;
        }
    }

    /// Messages sent to `to` (every message when `None`), oldest first.
    pub fn outbox(&self, to: Option<&str>) -> Vec<OutboxMessage> {
        self.read()
            .data
            .outbox
            .iter()
            .filter(|m| to.is_none_or(|to| m.to == to))
            .cloned()
            .collect()
    }
}

/// What a new user is made of; the store picks the id.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub email: String,
    pub username: Option<String>,
    pub phone: Option<String>,
    pub password: String,
    pub display_name: String,
    pub totp: Option<Totp>,
}

pub fn new_secret() -> String {
    use rand::Rng;
    let bytes: [u8; 32] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
