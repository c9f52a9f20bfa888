//! Key rotation: every store re-encrypted under a new data key, resumable after a crash.
//!
//! Runs with every store of the folder closed. The next data key is wrapped under the same
//! password-derived KEK into `aico-data.key.next`, then [`state::STATE_FILE`] journals the
//! phases (see [`Phase`]); each phase is idempotent, so an interrupted rotation is finished
//! by running the remaining phases again, which [`resume`] does at the next open:
//!
//! 1. **libSQL**: SQLite's backup API copies every page into `aico.db.rotating`, opened under
//!    the new key (pages are decrypted and re-encrypted in memory), the old database is
//!    checkpointed, and the copy renamed over it. Before the rename, values sealed with the
//!    data key inside libSQL (columns declared in `_aico_sealed_columns`) are re-sealed in the
//!    copy (see [`reseal`]). Each file is whole under one key at any
//!    moment; rerunning first checks whether `aico.db` already opens under the new key.
//! 2. **RocksDB**: every record re-sealed; records that already open under the new key are
//!    skipped.
//! 3. **Derived data**: the analytics snapshot is deleted (rebuilt from libSQL at the next
//!    open) and so is `<folder>/chroma` (memories are in libSQL; their documents and vectors
//!    are sealed under the Chroma key, so they are re-added from there).
//! 4. **Commit**: `aico-data.key.next` is renamed over `aico-data.key`, then the journal is
//!    removed. Until that rename the old key file stays the folder's key file, which is why
//!    recovery always rolls forward: both keys are at hand, and the journal says where to go.

mod reseal;
pub mod state;

use std::fs;
use std::path::Path;

use zeroize::Zeroizing;

pub use reseal::REGISTRY as SEALED_COLUMNS;
pub use state::{Phase, State, STATE_FILE};

use crate::analytics::snapshot::SNAPSHOT_FILE;
use crate::backup::Progress;
use crate::error::{Error, Result};
use crate::folder::SQL_FILE;
use crate::fsutil;
use crate::keys::{DataKey, KeyFile, Store, KEYFILE_NAME};
use crate::kv::KV_DIR;

/// The next key file, beside the key file while a rotation runs.
pub const NEXT_KEYFILE: &str = "aico-data.key.next";
/// Chroma's folder inside the data folder (see `src/stores/vectors`).
pub const CHROMA_DIR: &str = "chroma";

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationInfo {
    pub old_key_id: String,
    pub new_key_id: String,
    /// True when this run finished a rotation an earlier process had started.
    pub resumed: bool,
    /// libSQL pages copied under the new key (0 when that phase was already done).
    pub sql_pages: u64,
    /// RocksDB records re-sealed.
    pub kv_records: u64,
    /// Derived stores dropped for a rebuild (`analytics`, `chroma`).
    pub dropped: Vec<String>,
}

/// True when a rotation journal exists in `dir`.
pub fn in_progress(dir: &Path) -> bool {
    dir.join(STATE_FILE).exists()
}

/// Starts a rotation from the current key file `kf` (unlocked as `old` with `kek`). Refused
/// with `LOCKED`, before anything is written, while any connection (this process or another)
/// has the libSQL database open or any handle holds the KV store's RocksDB lock.
pub(crate) fn start(
    dir: &Path,
    kf: &KeyFile,
    kek: &Zeroizing<[u8; 32]>,
    old: &DataKey,
    progress: &Progress,
) -> Result<(DataKey, RotationInfo)> {
    if in_progress(dir) {
        return Err(Error::Busy("a key rotation is already in progress: reopen the folder to finish it".into()));
    }
    let sql = dir.join(SQL_FILE);
    if sql.exists() {
        crate::sql::backup::ensure_unused(&sql, &old.store_key(Store::Libsql))?;
    }
    let kv = dir.join(KV_DIR);
    if kv.join("CURRENT").exists() {
        crate::kv::backup::ensure_unlocked(&kv)?;
    }
    let mut secret = Zeroizing::new([0u8; 32]);
    crate::random::fill(secret.as_mut())?;
    let mut key_id = [0u8; 16];
    crate::random::fill(&mut key_id)?;
    let next_kf = KeyFile::wrap_with_kek(&secret, key_id, kek, kf.params, kf.salt())?;
    let next = DataKey::from_parts(*secret, key_id);
    // The next key file first, then the journal: a crash between the two leaves a stray
    // next key file, which `resume` removes (the rotation never began).
    fsutil::write_atomic(&dir.join(NEXT_KEYFILE), &next_kf.to_bytes())?;
    let state = State { phase: Phase::Sql, old_key_id: old.key_id(), new_key_id: key_id };
    state.write(dir)?;
    let info = run(dir, state, old, &next, progress, false, None)?;
    Ok((next, info))
}

/// Finishes an interrupted rotation (called by `Folder::open` before any store opens).
/// `kf` is the current key file and `kek` its KEK. Returns the new data key when a rotation
/// was finished; `None` when there was none.
pub(crate) fn resume(dir: &Path, kf: &KeyFile, kek: &Zeroizing<[u8; 32]>, progress: &Progress) -> Result<Option<(DataKey, RotationInfo)>> {
    let Some(state) = State::read(dir)? else {
        fsutil::remove_file_if_exists(&dir.join(NEXT_KEYFILE))?;
        return Ok(None);
    };
    if kf.key_id() == state.new_key_id {
        // The key file was swapped; only the journal's removal was lost.
        fsutil::remove_file_if_exists(&dir.join(STATE_FILE))?;
        fsutil::fsync_dir(dir)?;
        return Ok(None);
    }
    if kf.key_id() != state.old_key_id {
        return Err(Error::Corrupt("the key rotation journal names neither the current nor the next data key".into()));
    }
    let next_kf = KeyFile::read(&dir.join(NEXT_KEYFILE))
        .map_err(|e| Error::Corrupt(format!("a key rotation was interrupted and its next key file cannot be read ({e})")))?;
    if next_kf.key_id() != state.new_key_id {
        return Err(Error::Corrupt("the next key file does not match the key rotation journal".into()));
    }
    let old = kf.unlock_with_kek(kek)?;
    let next = next_kf.unlock_with_kek(kek)?;
    let info = run(dir, state, &old, &next, progress, true, None)?;
    Ok(Some((next, info)))
}

/// Runs the phases from `state.phase` on. `stop_at`: return (as a crash would) once that
/// phase is journalled, before it runs; the tests use it to resume from every phase.
fn run(
    dir: &Path,
    mut state: State,
    old: &DataKey,
    new: &DataKey,
    progress: &Progress,
    resumed: bool,
    stop_at: Option<Phase>,
) -> Result<RotationInfo> {
    let mut info = RotationInfo {
        old_key_id: hex::encode(old.key_id()),
        new_key_id: hex::encode(new.key_id()),
        resumed,
        sql_pages: 0,
        kv_records: 0,
        dropped: Vec::new(),
    };
    if state.phase == Phase::Sql {
        progress.phase("sql", 0);
        let path = dir.join(SQL_FILE);
        if path.exists() {
            let rekeyed = crate::sql::backup::rekey_file(&path, &old.store_key(Store::Libsql), &new.store_key(Store::Libsql), |copy| {
                reseal::reseal_columns(copy, old, new)
            });
            match rekeyed {
                Ok(pages) => info.sql_pages = pages,
                Err(e) => {
                    // Failed before the swap (e.g. a sealed value that does not open): resuming
                    // would fail the same way at every open, so give the rotation up and leave
                    // the folder whole under the old key.
                    if crate::sql::backup::open_raw(&path, &old.store_key(Store::Libsql), false).is_ok() {
                        abandon(dir)?;
                    }
                    return Err(e);
                }
            }
        }
        state.phase = Phase::Kv;
        state.write(dir)?;
        if stop_at == Some(Phase::Kv) {
            return Ok(info);
        }
    }
    if state.phase == Phase::Kv {
        let kv = dir.join(KV_DIR);
        if kv.join("CURRENT").exists() {
            info.kv_records = crate::kv::backup::reseal_all(&kv, old.store_key(Store::Rocksdb), new.store_key(Store::Rocksdb), progress)?;
        }
        state.phase = Phase::Derived;
        state.write(dir)?;
        if stop_at == Some(Phase::Derived) {
            return Ok(info);
        }
    }
    if state.phase == Phase::Derived {
        progress.phase("derived", 0);
        let snapshot = dir.join(SNAPSHOT_FILE);
        if snapshot.exists() {
            info.dropped.push("analytics".into());
        }
        fsutil::remove_file_if_exists(&snapshot)?;
        fsutil::remove_file_if_exists(&dir.join(format!("{SNAPSHOT_FILE}.tmp")))?;
        let chroma = dir.join(CHROMA_DIR);
        if chroma.exists() {
            info.dropped.push("chroma".into());
        }
        fsutil::remove_dir_if_exists(&chroma)?;
        state.phase = Phase::Commit;
        state.write(dir)?;
        if stop_at == Some(Phase::Commit) {
            return Ok(info);
        }
    }
    progress.phase("commit", 0);
    fs::rename(dir.join(NEXT_KEYFILE), dir.join(KEYFILE_NAME)).map_err(|e| Error::io("installing the next key file", e))?;
    fsutil::fsync_dir(dir)?;
    fsutil::remove_file_if_exists(&dir.join(STATE_FILE))?;
    fsutil::fsync_dir(dir)?;
    Ok(info)
}

/// Removes every trace of a rotation that never swapped a file: the half copy, the journal
/// and the next key file.
fn abandon(dir: &Path) -> Result<()> {
    let tmp = format!("{SQL_FILE}.rotating");
    for suffix in ["", "-wal", "-shm", "-journal"] {
        fsutil::remove_file_if_exists(&dir.join(format!("{tmp}{suffix}")))?;
    }
    fsutil::remove_file_if_exists(&dir.join(STATE_FILE))?;
    fsutil::remove_file_if_exists(&dir.join(NEXT_KEYFILE))?;
    fsutil::fsync_dir(dir)
}

#[cfg(test)]
mod tests;
