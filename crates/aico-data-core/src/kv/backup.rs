//! The KV store in backups and key rotation: a consistent checkpoint of the open store, and
//! re-sealing every record of a closed store under a new key.

use std::path::Path;

use rocksdb::{ColumnFamilyDescriptor, IteratorMode, WriteBatch, DB};

use super::errors::map_rocks;
use super::namespaces::Tuning;
use super::options::{KvOptions, NamespaceOptions};
use super::seal::{header, Sealer};
use super::store::KvStore;
use crate::backup::Progress;
use crate::error::{Error, Result};
use crate::keys::StoreKey;

/// Records re-sealed per write batch.
const BATCH: usize = 1000;

impl KvStore {
    /// Writes a RocksDB checkpoint of the open store into `dest` (which must not exist):
    /// memtables are flushed, then the immutable SST files are hard-linked (same file
    /// system) or copied, and the manifest copied. Values stay sealed; writes continue.
    pub fn checkpoint(&self, dest: &Path) -> Result<()> {
        self.with_writable(|o| rocksdb::checkpoint::Checkpoint::new(&o.db).and_then(|c| c.create_checkpoint(dest)).map_err(map_rocks))
    }
}

/// Fails with `LOCKED` when a process (this one included) holds the closed store's RocksDB
/// lock: a key rotation must not start while anyone still writes the folder.
pub fn ensure_unlocked(path: &Path) -> Result<()> {
    let names = DB::list_cf(&rocksdb::Options::default(), path).map_err(map_rocks)?;
    let tuning = Tuning::new(&KvOptions::default());
    let descriptors = names.iter().map(|n| ColumnFamilyDescriptor::new(n, tuning.cf_options(&NamespaceOptions::default())));
    let mut db_opts = tuning.db_options(names.len());
    db_opts.create_if_missing(false);
    match DB::open_cf_descriptors(&db_opts, path, descriptors) {
        Ok(db) => {
            db.cancel_all_background_work(true);
            Ok(())
        }
        Err(e) => match map_rocks(e) {
            Error::Locked(_) => Err(Error::Locked(
                "the KV store of this folder is open (in this or another process): close every data layer on it first".into(),
            )),
            other => Err(other),
        },
    }
}

/// Re-seals every record of the closed store at `path` from `old` to `new`, in batches.
/// Resumable: a record that already opens under `new` is skipped, so a run interrupted at
/// any point can simply be run again. Returns how many records were re-sealed.
pub fn reseal_all(path: &Path, old: StoreKey, new: StoreKey, progress: &Progress) -> Result<u64> {
    let names = DB::list_cf(&rocksdb::Options::default(), path).map_err(map_rocks)?;
    let tuning = Tuning::new(&KvOptions::default());
    let descriptors = names.iter().map(|n| ColumnFamilyDescriptor::new(n, tuning.cf_options(&NamespaceOptions::default())));
    let mut db_opts = tuning.db_options(names.len());
    db_opts.create_if_missing(false);
    let db = DB::open_cf_descriptors(&db_opts, path, descriptors).map_err(map_rocks)?;
    let old = Sealer::new(old)?;
    let new = Sealer::new(new)?;
    let mut total = 0u64;
    for name in &names {
        let cf = db.cf_handle(name).ok_or_else(|| Error::Internal(format!("column family {name} missing")))?;
        total += db.property_int_value_cf(cf, "rocksdb.estimate-num-keys").ok().flatten().unwrap_or(0);
    }
    progress.phase("kv", total);
    let mut resealed = 0u64;
    for name in &names {
        let cf = db.cf_handle(name).ok_or_else(|| Error::Internal(format!("column family {name} missing")))?;
        let mut batch = WriteBatch::default();
        for item in db.iterator_cf(cf, IteratorMode::Start) {
            let (k, v) = item.map_err(map_rocks)?;
            progress.add(1);
            if new.open(&v, name, &k).is_ok() {
                continue;
            }
            let (format, _) = header(&v)?;
            let (_, opened) = old.open(&v, name, &k)?;
            batch.put_cf(cf, &k, new.seal(format, opened.time(), name, &k, &[opened.bytes()])?);
            resealed += 1;
            if batch.len() >= BATCH {
                db.write(std::mem::take(&mut batch)).map_err(map_rocks)?;
            }
        }
        db.write(batch).map_err(map_rocks)?;
    }
    db.flush_wal(true).map_err(map_rocks)?;
    let cfs: Vec<_> = names.iter().filter_map(|n| db.cf_handle(n)).collect();
    let mut fo = rocksdb::FlushOptions::default();
    fo.set_wait(true);
    db.flush_cfs_opt(&cfs, &fo).map_err(map_rocks)?;
    drop(cfs);
    db.cancel_all_background_work(true);
    drop(db);
    Ok(resealed)
}
