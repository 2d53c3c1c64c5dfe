//! Where Session Warden keeps its files: `WARDEN_HOME` when set (tests, demos, portable
//! installs), otherwise the XDG data directory. Secrets are never kept here.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    pub const ENV: &'static str = "WARDEN_HOME";

    pub fn at(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// `$WARDEN_HOME`, else `$XDG_DATA_HOME/session-warden` (or the platform's equivalent).
    pub fn from_env() -> Result<Self> {
        if let Some(dir) = std::env::var_os(Self::ENV).filter(|d| !d.is_empty()) {
            return Ok(Self::at(dir));
        }
        let dirs = directories::ProjectDirs::from("", "", "session-warden").ok_or_else(|| {
            Error::InvalidInput("no home directory; set WARDEN_HOME to a directory".into())
        })?;
        Ok(Self::at(dirs.data_dir()))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn ledger_path(&self) -> PathBuf {
        self.root.join("warden.db")
    }

    /// The detection rules' thresholds, when the person changed them (`rules.toml`).
    pub fn rules_path(&self) -> PathBuf {
        self.root.join("rules.toml")
    }

    /// The desktop app's own settings (`app.toml`): interval, notifications, quiet hours.
    pub fn app_settings_path(&self) -> PathBuf {
        self.root.join("app.toml")
    }

    pub fn ensure(&self) -> Result<()> {
        std::fs::create_dir_all(&self.root).map_err(Error::io("create", &self.root))
    }
}

/// Replaces `path` with `bytes` so that a reader, or a crash, sees the old file or the new
/// one, never a mix: a temporary file beside it, flushed, then renamed over it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let fail = || Error::io("write", path);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail())?;
    }
    let temporary = path.with_extension("tmp");
    let mut file = std::fs::File::create(&temporary).map_err(fail())?;
    file.write_all(bytes).map_err(fail())?;
    file.sync_all().map_err(fail())?;
    std::fs::rename(&temporary, path).map_err(fail())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_atomic_write_replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sub").join("app.toml");
        write_atomically(&path, b"one").expect("first write");
        write_atomically(&path, b"two").expect("second write");
        assert_eq!(std::fs::read(&path).ok(), Some(b"two".to_vec()));
        let names: Vec<_> = std::fs::read_dir(path.parent().expect("parent"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("app.toml")]);
    }
}
