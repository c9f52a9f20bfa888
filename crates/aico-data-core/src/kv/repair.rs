//! Salvaging a damaged KV store (`aico-data repair`).
//!
//! 1. The damaged files are copied aside first, byte for byte, to `<dir>/kv.damaged-<ms>`:
//!    values in them stay sealed (nothing is decrypted to disk), and a failed repair loses
//!    nothing that was there.
//! 2. RocksDB's own repair (`RepairDB`) rebuilds the MANIFEST from the SST files and the WAL
//!    that still read, dropping what does not. When it fails, or the repaired store still does
//!    not open, the store is rebuilt empty (`method: rebuild`): the KV store is optional, the
//!    primary data lives in libSQL.
//! 3. The repaired store is opened under the folder's key and every record is checked: a value
//!    or queue message that no longer opens (damaged bytes that repair kept) is deleted and
//!    counted; queue messages lost are reported by `<topic>#<seq>`.
//!
//! Counts before the repair come from a read-only open of the damaged copy; when that open
//! fails too (the usual case: that is why repair runs), `before` is unknown and only what was
//! found unreadable can be reported as lost.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rocksdb::{IteratorMode, Options, DB};

use super::namespaces::{META_CF, QUEUE_NAMESPACE};
use super::options::{KvOptions, WAL_RECOVERY};
use super::queue::message_ref;
use super::store::KvStore;
use super::ttl::now_ms;
use crate::error::{Error, Result};
use crate::keys::StoreKey;

/// One namespace's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceRepair {
    pub name: String,
    /// Records before the repair, when the damaged store could be read.
    pub before: Option<u64>,
    /// Records after the repair (readable ones).
    pub after: u64,
    /// Records repair kept that no longer opened (deleted).
    pub unreadable: u64,
    /// `before - after` when `before` is known, else `unreadable`.
    pub lost: u64,
}

/// What [`repair`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairReport {
    /// `none` (no store to repair), `repair` (RocksDB's RepairDB), or `rebuild` (started empty).
    pub method: &'static str,
    /// Where the damaged files were copied (`None` when there was no store).
    pub damaged_copy: Option<PathBuf>,
    /// Why the store did not open before the repair (`None`: it opened).
    pub open_error: Option<String>,
    pub namespaces: Vec<NamespaceRepair>,
    /// Queue messages that could not be recovered, `<topic>#<seq>`.
    pub lost_messages: Vec<String>,
    /// True when `lost_messages` is complete (the damaged store's queue could be listed).
    pub lost_messages_complete: bool,
    /// The WAL recovery mode the store runs with (see `options::WAL_RECOVERY`).
    pub wal_recovery: &'static str,
}

/// Raw record counts per column family and the queue's message refs, from a read-only open.
fn raw_census(path: &Path) -> Result<(BTreeMap<String, u64>, BTreeSet<String>)> {
    let names = DB::list_cf(&Options::default(), path).map_err(super::errors::map_rocks)?;
    let db = DB::open_cf_for_read_only(&Options::default(), path, &names, false).map_err(super::errors::map_rocks)?;
    let mut counts = BTreeMap::new();
    let mut messages = BTreeSet::new();
    for n in names.iter().filter(|n| n.as_str() != META_CF) {
        let cf = db.cf_handle(n).ok_or_else(|| Error::Internal(format!("column family {n} missing")))?;
        let mut count = 0u64;
        for item in db.iterator_cf(cf, IteratorMode::Start) {
            let (k, _) = item.map_err(super::errors::map_rocks)?;
            if n == QUEUE_NAMESPACE {
                if let Some(r) = message_ref(&k) {
                    messages.insert(r);
                    count += 1;
                }
            } else {
                count += 1;
            }
        }
        counts.insert(n.clone(), count);
    }
    Ok((counts, messages))
}

fn copy_aside(path: &Path) -> Result<PathBuf> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "kv".into());
    let dest = path.with_file_name(format!("{name}.damaged-{}", now_ms()));
    std::fs::create_dir_all(&dest).map_err(|e| Error::io(format!("creating {}", dest.display()), e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o700));
    }
    let entries = std::fs::read_dir(path).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    for e in entries.flatten() {
        if e.file_type().map(|t| t.is_file()).unwrap_or(false) {
            std::fs::copy(e.path(), dest.join(e.file_name()))
                .map_err(|err| Error::io(format!("copying {} aside", e.path().display()), err))?;
        }
    }
    Ok(dest)
}

/// Starts the store over: the damaged files are already copied aside.
fn wipe(path: &Path) -> Result<()> {
    std::fs::remove_dir_all(path).map_err(|e| Error::io(format!("removing {}", path.display()), e))
}

/// Salvages the KV store at `path` (see the module docs). The store must not be open.
pub fn repair(path: &Path, key: StoreKey, opts: KvOptions) -> Result<RepairReport> {
    let mut report = RepairReport {
        method: "none",
        damaged_copy: None,
        open_error: None,
        namespaces: Vec::new(),
        lost_messages: Vec::new(),
        lost_messages_complete: false,
        wal_recovery: WAL_RECOVERY.name(),
    };
    if !path.exists() {
        return Ok(report);
    }
    let mut opts = opts;
    opts.read_only = false;
    opts.on_locked = super::options::OnLocked::Error;
    // A store that opens needs no RocksDB repair, but its records are still checked.
    let healthy = match KvStore::open(path, key.clone(), opts.clone()) {
        Ok(kv) => {
            kv.close()?;
            true
        }
        Err(e @ Error::Locked(_)) => return Err(e),
        Err(e) => {
            report.open_error = Some(e.to_string());
            false
        }
    };
    let census = raw_census(path).ok();
    report.damaged_copy = Some(copy_aside(path)?);
    report.method = "repair";
    let mut repaired = false;
    if !healthy {
        rocks_repair(path, &mut report)?;
        repaired = true;
    }
    // A store can open and still hold damaged blocks (open reads few of them): the record check
    // then fails with CORRUPT, and RocksDB's repair (which drops tables that do not read) runs.
    loop {
        let kv = match KvStore::open(path, key.clone(), opts.clone()) {
            Ok(kv) => kv,
            Err(e @ Error::Locked(_)) => return Err(e),
            Err(_) if report.method != "rebuild" => {
                wipe(path)?;
                report.method = "rebuild";
                continue;
            }
            Err(e) => return Err(e),
        };
        report.namespaces.clear();
        report.lost_messages.clear();
        let result = check_records(&kv, census.as_ref(), &mut report);
        kv.close()?;
        match result {
            Ok(()) => return Ok(report),
            Err(Error::Corrupt(_)) | Err(Error::Io(_)) if !repaired => {
                rocks_repair(path, &mut report)?;
                repaired = true;
            }
            Err(Error::Corrupt(_)) | Err(Error::Io(_)) if report.method != "rebuild" => {
                wipe(path)?;
                report.method = "rebuild";
            }
            Err(e) => return Err(e),
        }
    }
}

/// RocksDB's RepairDB; when it fails, the store is wiped to be rebuilt empty.
fn rocks_repair(path: &Path, report: &mut RepairReport) -> Result<()> {
    let mut o = Options::default();
    o.create_if_missing(false);
    if DB::repair(&o, path).is_err() {
        wipe(path)?;
        report.method = "rebuild";
    }
    Ok(())
}

/// Opens every record of the repaired store, deletes the unreadable ones, fills the report.
fn check_records(kv: &KvStore, census: Option<&(BTreeMap<String, u64>, BTreeSet<String>)>, report: &mut RepairReport) -> Result<()> {
    let now = now_ms();
    let names: Vec<String> = kv.namespaces()?.into_iter().map(|n| n.name).collect();
    for ns in &names {
        let (after, unreadable) = if ns == QUEUE_NAMESPACE {
            let (kept, dropped) = kv.salvage_queue()?;
            let n = dropped.len() as u64;
            report.lost_messages.extend(dropped);
            (kept, n)
        } else {
            kv.with_writable(|o| {
                let (cf, _) = o.any_cf(ns)?;
                let mut kept = 0u64;
                let mut bad = Vec::new();
                for item in o.db.iterator_cf(cf, IteratorMode::Start) {
                    let (k, v) = item.map_err(super::errors::map_rocks)?;
                    match kv.open_value(&v, ns, &k, now) {
                        Ok(_) => kept += 1,
                        Err(_) => bad.push(k.to_vec()),
                    }
                }
                let mut batch = rocksdb::WriteBatch::default();
                for k in &bad {
                    batch.delete_cf(cf, k);
                }
                o.db.write_opt(batch, &kv.write_opts).map_err(super::errors::map_rocks)?;
                Ok((kept, bad.len() as u64))
            })?
        };
        let before = census.and_then(|(c, _)| c.get(ns).copied());
        let lost = match before {
            Some(b) => b.saturating_sub(after),
            None => unreadable,
        };
        report.namespaces.push(NamespaceRepair { name: ns.clone(), before, after, unreadable, lost });
    }
    // Namespaces the damaged store had that repair could not bring back at all.
    if let Some((counts, _)) = census {
        for (ns, b) in counts {
            if !names.contains(ns) {
                report.namespaces.push(NamespaceRepair { name: ns.clone(), before: Some(*b), after: 0, unreadable: 0, lost: *b });
            }
        }
    }
    if let Some((_, before_msgs)) = census {
        let mut now_msgs = BTreeSet::new();
        kv.with(|o| {
            let (cf, _) = o.any_cf(QUEUE_NAMESPACE)?;
            for item in o.db.iterator_cf(cf, IteratorMode::Start) {
                let (k, _) = item.map_err(super::errors::map_rocks)?;
                if let Some(r) = message_ref(&k) {
                    now_msgs.insert(r);
                }
            }
            Ok(())
        })?;
        for m in before_msgs.difference(&now_msgs) {
            if !report.lost_messages.contains(m) {
                report.lost_messages.push(m.clone());
            }
        }
        report.lost_messages_complete = true;
    }
    report.namespaces.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::{EnqueueOptions, Ttl};

    fn key() -> StoreKey {
        crate::keys::DataKey::from_parts([7u8; 32], [0u8; 16]).store_key(crate::keys::Store::Rocksdb)
    }

    fn sst_files(dir: &Path) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> =
            std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "sst")).collect();
        v.sort();
        v
    }

    #[test]
    fn repair_of_a_healthy_store_loses_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("kv");
        let kv = KvStore::open(&path, key(), KvOptions::default()).unwrap();
        for i in 0..50u32 {
            kv.put("config", format!("k{i}").as_bytes(), b"v", Ttl::Default).unwrap();
        }
        kv.enqueue_many("jobs", &[b"a".as_slice(), b"b".as_slice()], EnqueueOptions::default()).unwrap();
        kv.close().unwrap();
        let r = repair(&path, key(), KvOptions::default()).unwrap();
        assert_eq!(r.method, "repair");
        assert!(r.open_error.is_none());
        assert!(r.lost_messages.is_empty());
        let config = r.namespaces.iter().find(|n| n.name == "config").unwrap();
        assert_eq!((config.before, config.after, config.lost), (Some(50), 50, 0));
        assert!(r.damaged_copy.as_ref().unwrap().join("CURRENT").exists());
    }

    #[test]
    fn a_lost_manifest_is_repaired_and_the_data_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("kv");
        let kv = KvStore::open(&path, key(), KvOptions::default()).unwrap();
        for i in 0..50u32 {
            kv.put("config", format!("k{i}").as_bytes(), b"v", Ttl::Default).unwrap();
        }
        kv.close().unwrap();
        assert!(!sst_files(&path).is_empty(), "close flushes to SST files");
        std::fs::remove_file(path.join("CURRENT")).unwrap();
        // Without CURRENT the store would be recreated empty; corrupt it instead so open refuses.
        std::fs::write(path.join("CURRENT"), b"MANIFEST-999999\n").unwrap();
        assert!(KvStore::open(&path, key(), KvOptions::default()).is_err());
        let r = repair(&path, key(), KvOptions::default()).unwrap();
        assert!(r.open_error.is_some());
        let kv = KvStore::open(&path, key(), KvOptions::default()).unwrap();
        let kept = (0..50u32).filter(|i| kv.get("config", format!("k{i}").as_bytes()).unwrap().is_some()).count();
        assert_eq!(kept as u64, r.namespaces.iter().find(|n| n.name == "config").map(|n| n.after).unwrap());
        assert_eq!(r.method, "repair", "{r:?}");
        assert_eq!(kept, 50);
    }

    #[test]
    fn a_damaged_sst_is_salvaged_or_rebuilt_and_losses_are_counted() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("kv");
        let kv = KvStore::open(&path, key(), KvOptions::default()).unwrap();
        kv.enqueue_many("jobs", &[b"a".as_slice(), b"b".as_slice()], EnqueueOptions::default()).unwrap();
        for i in 0..200u32 {
            kv.put("cache", format!("k{i}").as_bytes(), &[1u8; 100], Ttl::Default).unwrap();
        }
        kv.close().unwrap();
        for f in sst_files(&path) {
            let mut bytes = std::fs::read(&f).unwrap();
            let mid = bytes.len() / 2;
            bytes[mid] ^= 0xff;
            std::fs::write(&f, bytes).unwrap();
        }
        let r = repair(&path, key(), KvOptions::default()).unwrap();
        // Afterwards the store opens, and every record it serves opens.
        let kv = KvStore::open(&path, key(), KvOptions::default()).unwrap();
        let cache = r.namespaces.iter().find(|n| n.name == "cache").unwrap();
        let readable = (0..200u32).filter(|i| matches!(kv.get("cache", format!("k{i}").as_bytes()), Ok(Some(_)))).count();
        assert_eq!(readable as u64, cache.after, "{r:?}");
        if let Some(b) = cache.before {
            assert_eq!(cache.lost, b - cache.after);
        }
        kv.close().unwrap();
    }
}

#[cfg(test)]
mod guard_tests {
    use super::*;
    use crate::kv::Ttl;

    #[test]
    fn a_store_without_current_but_with_data_files_refuses_to_open_instead_of_starting_empty() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("kv");
        let key = || crate::keys::DataKey::from_parts([9u8; 32], [0u8; 16]).store_key(crate::keys::Store::Rocksdb);
        let kv = KvStore::open(&path, key(), KvOptions::default()).unwrap();
        kv.put("config", b"k", b"v", Ttl::Default).unwrap();
        kv.close().unwrap();
        std::fs::remove_file(path.join("CURRENT")).unwrap();
        let err = KvStore::open(&path, key(), KvOptions::default()).err().expect("must refuse");
        assert_eq!(err.code(), "CORRUPT");
        let r = repair(&path, key(), KvOptions::default()).unwrap();
        assert_ne!(r.method, "none");
        let kv = KvStore::open(&path, key(), KvOptions::default()).unwrap();
        assert_eq!(kv.get("config", b"k").unwrap().map(|v| v.bytes().to_vec()), Some(b"v".to_vec()));
    }
}
