//! Where Session Warden keeps its files: `WARDEN_HOME` when set (tests, demos, portable
//! installs), otherwise the XDG data directory. Secrets are never kept here, but the
//! history is the person's alone (every address, place and device of their accounts): the
//! home and everything in it are made for the owner only — 0700 for directories, 0600 for
//! files — whatever the umask, and a home an older version left open is closed on start.

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

    /// Makes the home (owner only), or closes an existing one to others.
    pub fn ensure(&self) -> Result<()> {
        private_dir(&self.root)
    }
}

/// Owner only: what every directory Session Warden makes is.
pub const PRIVATE_DIR_MODE: u32 = 0o700;
/// Owner only: what every file Session Warden writes is.
pub const PRIVATE_FILE_MODE: u32 = 0o600;

/// Makes `dir` (and any missing parent) for the owner only; an existing `dir` open to
/// others is closed. Parents that exist are left as they are: they are not ours.
pub fn private_dir(dir: &Path) -> Result<()> {
    let fail = Error::io("create", dir);
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, PRIVATE_DIR_MODE);
    builder.create(dir).map_err(fail)?;
    close_to_others(dir, PRIVATE_DIR_MODE)
}

/// Closes a file of ours that others may read (one an older version wrote, or SQLite made
/// under a loose umask); a file already private, or not there, is left be.
pub fn private_file(path: &Path) -> Result<()> {
    close_to_others(path, PRIVATE_FILE_MODE)
}

/// Opening options for a file of ours: created owner only (the umask cannot widen it).
pub fn private_options() -> std::fs::OpenOptions {
    #[allow(unused_mut)]
    let mut options = std::fs::OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, PRIVATE_FILE_MODE);
    options
}

#[cfg(unix)]
fn close_to_others(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::metadata(path) {
        Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
                .map_err(Error::io("protect", path))
        }
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("read", path)(e)),
    }
}

#[cfg(not(unix))]
fn close_to_others(_path: &Path, _mode: u32) -> Result<()> {
    Ok(())
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
    let mut file = private_options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&temporary)
        .map_err(fail())?;
    // A temporary a crash left behind keeps its old mode: close it before writing.
    private_file(&temporary)?;
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

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).expect("there").permissions().mode() & 0o777
    }

    #[cfg(unix)]
    #[test]
    fn a_home_and_its_files_are_the_owner_s_alone_and_an_open_one_is_closed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let home = Home::at(dir.path().join("a").join("home"));
        home.ensure().expect("made");
        assert_eq!(mode(home.root()), 0o700);
        assert_eq!(mode(&dir.path().join("a")), 0o700, "a parent it made");
        let open = std::fs::Permissions::from_mode(0o755);
        std::fs::set_permissions(home.root(), open).expect("opened");
        home.ensure().expect("again");
        assert_eq!(mode(home.root()), 0o700, "an older, open home is closed");

        let file = home.root().join("app.toml");
        write_atomically(&file, b"x").expect("written");
        assert_eq!(mode(&file), 0o600);
        // A temporary a crash left, world-readable: the next write closes it too.
        let temporary = file.with_extension("tmp");
        std::fs::write(&temporary, b"old").expect("left behind");
        std::fs::set_permissions(&temporary, std::fs::Permissions::from_mode(0o666))
            .expect("opened");
        write_atomically(&file, b"y").expect("written again");
        assert_eq!(mode(&file), 0o600);
    }
}
