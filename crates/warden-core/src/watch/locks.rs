//! The home's locks, across processes: the watch lock, and a lock per account.
//!
//! Only one process polls a `WARDEN_HOME` at a time: the desktop app or `warden watch`,
//! whichever starts first, holds `watch.lock` (an OS file lock, let go by the kernel when the
//! process ends, however it ends). The others follow the ledger, where the holder records
//! every event. Two pollers would record every event twice and, on node-auth, take the
//! user's one refresh token from each other.

use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::home::Home;

/// Held while this process is the one that polls the home.
#[derive(Debug)]
pub struct WatchLock {
    // Never read: holding the file holds the lock.
    _file: File,
}

/// Who holds the lock, as it wrote itself into the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    /// "warden watch", "Session Warden" (the app).
    pub program: String,
    pub since: Option<DateTime<Utc>>,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (pid {})", self.program, self.pid)?;
        if let Some(since) = self.since {
            write!(f, ", watching since {}", since.format("%Y-%m-%d %H:%M UTC"))?;
        }
        Ok(())
    }
}

impl WatchLock {
    /// Takes the lock for `program`, or says who holds it.
    pub fn try_acquire(
        home: &Home,
        program: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<Self, Holder>> {
        home.ensure()?;
        let path = home.root().join("watch.lock");
        let mut file = crate::home::private_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(Error::io("open", &path))?;
        match file.try_lock() {
            Ok(()) => {
                let stamp = format!("{}\n{program}\n{}\n", std::process::id(), now.to_rfc3339());
                file.set_len(0).map_err(Error::io("write", &path))?;
                file.rewind().map_err(Error::io("write", &path))?;
                file.write_all(stamp.as_bytes())
                    .map_err(Error::io("write", &path))?;
                file.flush().map_err(Error::io("write", &path))?;
                Ok(Ok(WatchLock { _file: file }))
            }
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                // The holder may be writing its stamp this very moment: a short or empty
                // read is a holder we cannot name yet.
                let _ = file.read_to_string(&mut text);
                Ok(Err(holder_from(&text)))
            }
            Err(TryLockError::Error(e)) => Err(Error::io("lock", &path)(e)),
        }
    }
}

fn holder_from(text: &str) -> Holder {
    let mut lines = text.lines();
    let pid = lines
        .next()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0);
    let program = lines
        .next()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .unwrap_or("another Session Warden process")
        .to_owned();
    let since = lines
        .next()
        .and_then(|l| DateTime::parse_from_rfc3339(l.trim()).ok())
        .map(|t| t.to_utc());
    Holder {
        pid,
        program,
        since,
    }
}

/// Serialises what two processes must never do at once on one account: sign in, or spend a
/// refresh token (node-auth rotates it; the second to spend it would find it dead and sign
/// in again, leaving a session behind). Blocking: take it on a blocking thread.
#[derive(Debug)]
pub struct AccountLock {
    _file: File,
}

impl AccountLock {
    pub fn acquire(home: &Home, account: &crate::accounts::account::AccountId) -> Result<Self> {
        let dir = home.root().join("locks");
        crate::home::private_dir(&dir)?;
        let path = dir.join(format!("{account}.lock"));
        let file = crate::home::private_options()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(Error::io("open", &path))?;
        file.lock().map_err(Error::io("lock", &path))?;
        Ok(AccountLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_the_others_learn_who() {
        let dir = tempfile::tempdir().expect("temp dir");
        let home = Home::at(dir.path());
        let now = DateTime::from_timestamp(1_800_000_000, 0).expect("a time");
        let first = WatchLock::try_acquire(&home, "warden watch", now)
            .expect("no I/O error")
            .expect("free");
        let holder = WatchLock::try_acquire(&home, "Session Warden", now)
            .expect("no I/O error")
            .expect_err("held");
        assert_eq!(holder.pid, std::process::id());
        assert_eq!(holder.program, "warden watch");
        assert_eq!(holder.since, Some(now));
        assert!(
            holder.to_string().starts_with("warden watch (pid "),
            "{holder}"
        );
        drop(first);
        assert!(
            WatchLock::try_acquire(&home, "Session Warden", now)
                .expect("no I/O error")
                .is_ok(),
            "free again once the holder lets go"
        );
    }
}
