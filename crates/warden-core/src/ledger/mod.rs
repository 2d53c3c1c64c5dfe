//! The ledger: Session Warden's own SQLite database (WAL). It holds the accounts (never a
//! secret) and, in `history`, the history no service keeps.

mod defence;
pub mod history;
pub mod retention;

use std::path::Path;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use rusqlite_migration::{M, Migrations};

use crate::accounts::account::{Account, AccountId};
use crate::error::{Error, Result};

const MIGRATIONS: &[M<'static>] = &[
    M::up(
        "CREATE TABLE accounts (
            id        TEXT PRIMARY KEY,
            label     TEXT NOT NULL UNIQUE,
            base_url  TEXT NOT NULL,
            dialect   TEXT NOT NULL,
            login     TEXT NOT NULL,
            added_at  TEXT NOT NULL
        ) STRICT;",
    ),
    // The history no service keeps. No foreign keys to accounts: removing an account must
    // not erase what happened on it.
    M::up(
        "CREATE TABLE sessions (
            account      TEXT NOT NULL,
            id           TEXT NOT NULL,
            device       TEXT NOT NULL,
            user_agent   TEXT,
            ip           TEXT,
            location     TEXT,
            created_at   TEXT,
            first_seen   TEXT NOT NULL,
            last_seen    TEXT NOT NULL,
            last_active  TEXT,
            ended_at     TEXT,
            ended_how    TEXT,
            PRIMARY KEY (account, id)
        ) STRICT;
        CREATE TABLE events (
            seq       INTEGER PRIMARY KEY,
            at        TEXT NOT NULL,
            account   TEXT NOT NULL,
            kind      TEXT NOT NULL,
            session   TEXT,
            device    TEXT,
            ip        TEXT,
            severity  TEXT,
            detail    TEXT NOT NULL DEFAULT ''
        ) STRICT;
        CREATE INDEX events_by_account ON events (account, seq);
        CREATE TABLE trusted (
            account  TEXT NOT NULL,
            device   TEXT NOT NULL,
            since    TEXT NOT NULL,
            PRIMARY KEY (account, device)
        ) STRICT;
        CREATE TABLE labels (
            account  TEXT NOT NULL,
            session  TEXT NOT NULL,
            label    TEXT NOT NULL,
            PRIMARY KEY (account, session)
        ) STRICT;",
    ),
    // Where each session was and whose network (the IP database's word at the time).
    M::up(
        "ALTER TABLE sessions ADD COLUMN operator TEXT;
        ALTER TABLE events ADD COLUMN place TEXT;",
    ),
    // Every session Session Warden itself signed in with: a sign-in it replaced that the
    // server still lists is known as ours by this, never by what the server claims.
    M::up(
        "CREATE TABLE own_sessions (
            account  TEXT NOT NULL,
            session  TEXT NOT NULL,
            since    TEXT NOT NULL,
            PRIMARY KEY (account, session)
        ) STRICT;",
    ),
    // Each account's idle policy (`idle::IdlePolicy`), where one is on: every process on
    // the home reads the same one.
    M::up(
        "CREATE TABLE idle_policies (
            account          TEXT PRIMARY KEY,
            after            TEXT NOT NULL,
            include_trusted  INTEGER NOT NULL
        ) STRICT;",
    ),
    // How sure each session's place is (`Session::location_margin_km`): the history names
    // a guessed town "near" it, or only its country.
    M::up("ALTER TABLE sessions ADD COLUMN location_margin_km INTEGER;"),
    // When the server says each session ends: our own's is "signed in until" where the
    // token does not say it (Better Auth's `expiresAt`, which moves as the session is used).
    M::up("ALTER TABLE sessions ADD COLUMN expires_at TEXT;"),
    // Trimming (`retention`) finds each account's ended sessions newest first.
    M::up("CREATE INDEX sessions_ended ON sessions (account, ended_at);"),
    // The defence (`watch::defence`): each account's, the home's default for new accounts,
    // and the sign-outs it decided on (pending until done; kept a while after, to count an
    // hour's). Accounts added before there was a defence keep "Tell me", what they had.
    M::up(
        "CREATE TABLE defences (
            account  TEXT PRIMARY KEY,
            mode     TEXT NOT NULL,
            seconds  INTEGER
        ) STRICT;
        INSERT INTO defences (account, mode) SELECT id, 'tell' FROM accounts;
        CREATE TABLE home_defaults (
            key    TEXT PRIMARY KEY,
            value  TEXT NOT NULL
        ) STRICT;
        CREATE TABLE sign_outs (
            account     TEXT NOT NULL,
            session     TEXT NOT NULL,
            device      TEXT NOT NULL,
            rule        TEXT NOT NULL,
            reason      TEXT NOT NULL,
            since       TEXT NOT NULL,
            due         TEXT NOT NULL,
            last_error  TEXT,
            done_at     TEXT,
            PRIMARY KEY (account, session)
        ) STRICT;",
    ),
];

pub struct Ledger {
    conn: Mutex<Connection>,
}

impl Ledger {
    /// Opens the ledger at `path`, creating it when there is none. A file that is there but
    /// empty or not a sound SQLite database is never silently replaced: that would erase the
    /// person's history and accounts. It is `Error::DamagedLedger`, which says how to recover
    /// (`Ledger::set_aside`, the CLI's `warden ledger recover`).
    pub fn open(path: &Path) -> Result<Self> {
        let damaged = |reason: String| Error::DamagedLedger {
            path: path.to_path_buf(),
            reason,
        };
        match std::fs::metadata(path) {
            Ok(meta) if meta.len() == 0 => return Err(damaged("the file is empty".into())),
            Ok(_) => {}
            // Made owner only before SQLite opens it: SQLite would make it under the umask,
            // and gives the WAL files the database's own mode.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                crate::home::private_options()
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .open(path)
                    .map_err(Error::io("create", path))?;
            }
            Err(e) => return Err(Error::io("read", path)(e)),
        }
        let not_a_database = |e: rusqlite::Error| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt) => {
                damaged(e.to_string())
            }
            _ => Error::Ledger(format!("cannot open {}: {e}", path.display())),
        };
        let mut conn = Connection::open(path).map_err(not_a_database)?;
        // Reading the schema is what tells a file that is not (or no longer) a database,
        // without reading every page on every start as an integrity check would.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |row| {
            row.get::<_, i64>(0)
        })
        .map_err(not_a_database)?;
        // WAL: the CLI and the app may hold the ledger at once; a crash loses nothing committed.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Migrations::from_slice(MIGRATIONS)
            .to_latest(&mut conn)
            .map_err(|e| Error::Ledger(format!("cannot migrate {}: {e}", path.display())))?;
        // A ledger an older version left readable by others is closed, WAL files too.
        for file in Self::files(path) {
            crate::home::private_file(&file)?;
        }
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    /// The ledger's files: the database and its WAL files.
    fn files(path: &Path) -> [std::path::PathBuf; 3] {
        [
            path.to_path_buf(),
            path.with_extension("db-wal"),
            path.with_extension("db-shm"),
        ]
    }

    /// Moves a damaged ledger (and its WAL files) aside as `<name>.damaged` (or
    /// `.damaged-2`…, never over an earlier one), so the next `open` starts a new one. What
    /// was in it stays in that file. Returns where it went.
    pub fn set_aside(path: &Path) -> Result<std::path::PathBuf> {
        let aside = (1..)
            .map(|n| {
                let suffix = if n == 1 {
                    "damaged".to_owned()
                } else {
                    format!("damaged-{n}")
                };
                path.with_extension(format!("db.{suffix}"))
            })
            .find(|candidate| !candidate.exists())
            .unwrap_or_else(|| path.with_extension("db.damaged"));
        std::fs::rename(path, &aside).map_err(Error::io("move aside", path))?;
        // The damaged copy holds the same history: it stays the person's alone.
        crate::home::private_file(&aside)?;
        for wal in ["db-wal", "db-shm"] {
            let file = path.with_extension(wal);
            if file.exists() {
                let moved = aside.with_extension(format!(
                    "{}-{}",
                    aside
                        .extension()
                        .and_then(|e| e.to_str())
                        .unwrap_or("damaged"),
                    &wal[3..]
                ));
                std::fs::rename(&file, &moved).map_err(Error::io("move aside", &file))?;
                crate::home::private_file(&moved)?;
            }
        }
        Ok(aside)
    }

    pub(crate) fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // Every statement is atomic in SQLite: a panic elsewhere leaves nothing half-done.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The connection, for tests that look at the database itself (integrity checks).
    #[doc(hidden)]
    pub fn conn_for_tests(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn()
    }

    pub fn insert_account(&self, account: &Account) -> Result<()> {
        self.conn()
            .execute(
                "INSERT INTO accounts (id, label, base_url, dialect, login, added_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    account.id.as_str(),
                    account.label,
                    account.base_url.as_str(),
                    account.dialect.as_str(),
                    account.login,
                    account.added_at.to_rfc3339(),
                ],
            )
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _)
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    Error::DuplicateLabel(account.label.clone())
                }
                other => other.into(),
            })?;
        Ok(())
    }

    pub fn remove_account(&self, id: &AccountId) -> Result<bool> {
        let n = self
            .conn()
            .execute("DELETE FROM accounts WHERE id = ?1", [id.as_str()])?;
        self.set_idle_policy(id, None)?;
        self.forget_defence(id)?;
        Ok(n > 0)
    }

    pub fn accounts(&self) -> Result<Vec<Account>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, label, base_url, dialect, login, added_at FROM accounts
             ORDER BY added_at, label",
        )?;
        let rows = stmt.query_map([], row_to_parts)?;
        rows.map(|row| parts_to_account(row?)).collect()
    }

    /// The account's idle policy, if one is on.
    pub fn idle_policy(
        &self,
        account: &AccountId,
    ) -> Result<Option<crate::watch::idle::IdlePolicy>> {
        let row: Option<(String, bool)> = self
            .conn()
            .query_row(
                "SELECT after, include_trusted FROM idle_policies WHERE account = ?1",
                params![account.as_str()],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        Ok(match row {
            // A value this version does not know (written by a newer one) is no policy.
            Some((after, include_trusted)) => {
                after
                    .parse()
                    .ok()
                    .map(|after| crate::watch::idle::IdlePolicy {
                        after,
                        include_trusted,
                    })
            }
            None => None,
        })
    }

    /// Turns the account's idle policy on (or changes it), or off with `None`.
    pub fn set_idle_policy(
        &self,
        account: &AccountId,
        policy: Option<crate::watch::idle::IdlePolicy>,
    ) -> Result<()> {
        let conn = self.conn();
        match policy {
            Some(policy) => conn.execute(
                "INSERT INTO idle_policies (account, after, include_trusted) VALUES (?1, ?2, ?3)
                 ON CONFLICT (account) DO UPDATE SET after = ?2, include_trusted = ?3",
                params![
                    account.as_str(),
                    policy.after.as_str(),
                    policy.include_trusted
                ],
            )?,
            None => conn.execute(
                "DELETE FROM idle_policies WHERE account = ?1",
                params![account.as_str()],
            )?,
        };
        Ok(())
    }

    /// Notes that Session Warden signed in with this session (by our id, never the server's).
    pub fn add_own_session(
        &self,
        account: &AccountId,
        session: &crate::session::SessionId,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT OR IGNORE INTO own_sessions (account, session, since) VALUES (?1, ?2, ?3)",
            params![account.as_str(), session.as_str(), at.to_rfc3339()],
        )?;
        Ok(())
    }

    /// The ids of every session Session Warden signed in with on the account.
    pub fn own_sessions(&self, account: &AccountId) -> Result<std::collections::HashSet<String>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT session FROM own_sessions WHERE account = ?1")?;
        let rows = stmt.query_map([account.as_str()], |row| row.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn label_taken(&self, label: &str) -> Result<bool> {
        Ok(self
            .conn()
            .query_row("SELECT 1 FROM accounts WHERE label = ?1", [label], |_| {
                Ok(())
            })
            .optional()?
            .is_some())
    }
}

type Parts = (String, String, String, String, String, String);

fn row_to_parts(row: &rusqlite::Row<'_>) -> rusqlite::Result<Parts> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ))
}

fn parts_to_account((id, label, base_url, dialect, login, added_at): Parts) -> Result<Account> {
    let corrupt = |what: &str, e: &dyn std::fmt::Display| {
        Error::Ledger(format!("account {id}: stored {what} is invalid: {e}"))
    };
    Ok(Account {
        base_url: base_url.parse().map_err(|e| corrupt("URL", &e))?,
        dialect: dialect.parse().map_err(|e| corrupt("API", &e))?,
        added_at: DateTime::parse_from_rfc3339(&added_at)
            .map_err(|e| corrupt("date", &e))?
            .with_timezone(&Utc),
        id: AccountId::from_stored(id),
        label,
        login,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::DialectKind;

    fn account(label: &str) -> Account {
        Account {
            id: AccountId::generate(),
            label: label.into(),
            base_url: "http://127.0.0.1:1/hectoday/".parse().expect("url"),
            dialect: DialectKind::Hectoday,
            login: "demo@example.com".into(),
            added_at: DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
                .expect("date")
                .with_timezone(&Utc),
        }
    }

    #[test]
    fn accounts_survive_reopening_the_ledger() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("warden.db");
        let a = account("work");
        Ledger::open(&path)
            .expect("opens")
            .insert_account(&a)
            .expect("inserts");
        let reopened = Ledger::open(&path).expect("reopens");
        assert_eq!(reopened.accounts().expect("lists"), vec![a]);
    }

    #[test]
    fn a_damaged_or_empty_ledger_is_never_replaced_and_says_how_to_recover() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("warden.db");
        for (content, why) in [
            (Vec::new(), "empty"),
            (
                b"this is not a database, it is a diary".repeat(200),
                "not a database",
            ),
        ] {
            std::fs::write(&path, &content).expect("writes");
            let err = Ledger::open(&path).err().expect("refused");
            assert!(matches!(err, Error::DamagedLedger { .. }), "{why}: {err:?}");
            assert_eq!(err.code(), crate::error::ErrorCode::Storage);
            let said = err.to_string();
            assert!(
                said.contains(&path.display().to_string()),
                "names the file: {said}"
            );
            assert!(said.contains("warden ledger recover"), "says how: {said}");
            assert_eq!(
                std::fs::read(&path).expect("still there"),
                content,
                "untouched"
            );
        }
        let aside = Ledger::set_aside(&path).expect("set aside");
        assert!(aside.exists() && !path.exists());
        assert!(aside.display().to_string().ends_with("warden.db.damaged"));
        let ledger = Ledger::open(&path).expect("a new one");
        assert!(ledger.accounts().expect("lists").is_empty());
        std::fs::write(dir.path().join("warden.db.x"), b"").expect("writes");
        drop(ledger);
        let second = Ledger::set_aside(&path).expect("set aside again");
        assert_ne!(second, aside, "never over the earlier one");
    }

    #[test]
    fn a_second_account_with_the_same_label_is_refused_in_words() {
        let dir = tempfile::tempdir().expect("temp dir");
        let ledger = Ledger::open(&dir.path().join("warden.db")).expect("opens");
        ledger.insert_account(&account("work")).expect("first");
        let err = ledger
            .insert_account(&account("work"))
            .expect_err("duplicate label");
        assert!(
            matches!(err, Error::DuplicateLabel(ref l) if l == "work"),
            "{err:?}"
        );
    }
}
