//! `--state FILE`: the store and the clock, saved as JSON whenever they change, written to a
//! temporary file beside the target and renamed over it, so a crash mid-write leaves the
//! previous state whole.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::MockState;
use crate::store::StoreData;

/// What `--state` and `GET /__mock/snapshot` hold.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// How far the virtual clock is ahead of real time.
    #[serde(default)]
    pub clock_offset_ms: i64,
    pub store: StoreData,
}

impl Snapshot {
    pub fn of(state: &MockState) -> Snapshot {
        Snapshot {
            clock_offset_ms: state.clock.offset_ms(),
            store: state.store.snapshot(),
        }
    }

    pub fn restore(self, state: &MockState) {
        state.clock.set_offset_ms(self.clock_offset_ms);
        state.store.restore(self.store);
    }
}

/// Reads a saved state; `Ok(None)` when the file does not exist yet.
pub fn load(path: &Path) -> anyhow::Result<Option<Snapshot>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| anyhow::anyhow!("{} is not a warden-mock state file: {e}", path.display()))
}

/// Writes `snapshot` to `path` atomically.
pub fn save(path: &Path, snapshot: &Snapshot) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer(&mut file, snapshot)?;
    file.flush()?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Saves the state whenever it changed, at most every `every`, until dropped; saves once
/// more on [`Saver::finish`].
pub struct Saver {
    path: PathBuf,
    state: MockState,
    task: tokio::task::JoinHandle<()>,
}

impl Saver {
    pub fn start(path: PathBuf, state: MockState, every: Duration) -> Saver {
        let task = tokio::spawn({
            let (path, state) = (path.clone(), state.clone());
            async move {
                let mut saved = None;
                loop {
                    tokio::time::sleep(every).await;
                    let now = (state.store.generation(), state.clock.offset_ms());
                    if saved == Some(now) {
                        continue;
                    }
                    let snapshot = Snapshot::of(&state);
                    let target = path.clone();
                    match tokio::task::spawn_blocking(move || save(&target, &snapshot)).await {
                        Ok(Ok(())) => saved = Some(now),
                        Ok(Err(e)) => tracing::error!("cannot save {}: {e}", path.display()),
                        Err(e) => tracing::error!("saving {} failed: {e}", path.display()),
                    }
                }
            }
        });
        Saver { path, state, task }
    }

    pub fn finish(self) -> std::io::Result<()> {
        self.task.abort();
        save(&self.path, &Snapshot::of(&self.state))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_state_loads_back_and_a_missing_file_is_none() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("state.json");
        assert!(load(&path).expect("no error").is_none());
        let state = MockState::with_demo_user();
        state.clock.advance(chrono::Duration::hours(2));
        save(&path, &Snapshot::of(&state)).expect("saved");
        let loaded = load(&path).expect("readable").expect("present");
        assert_eq!(loaded.clock_offset_ms, 2 * 3600 * 1000);
        assert_eq!(loaded.store.users.len(), state.store.snapshot().users.len());
        // Nothing but the state file is left beside it.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("listable")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("state.json")]);
    }

    #[test]
    fn a_corrupt_state_file_is_an_error_in_words() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("state.json");
        std::fs::write(&path, "{ not json").expect("written");
        let err = load(&path).err().expect("refused").to_string();
        assert!(err.contains("is not a warden-mock state file"), "{err}");
    }
}
