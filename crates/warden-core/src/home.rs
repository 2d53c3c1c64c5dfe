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

    pub fn ensure(&self) -> Result<()> {
        std::fs::create_dir_all(&self.root)
            .map_err(|e| Error::InvalidInput(format!("cannot create {}: {e}", self.root.display())))
    }
}
