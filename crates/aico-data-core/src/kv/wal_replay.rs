//! What the open's WAL replay dropped (see `options::WalRecovery`).
//!
//! pointInTime recovery stops at the first WAL record that does not read and drops the rest
//! without saying so. To report it, an open that finds WAL data first replays the log read-only
//! with `SkipAnyCorruptedRecords`, which reads past the damage: the difference between the
//! sequence number that replay reaches and the one the real open reaches is the number of
//! writes (RocksDB sequence numbers: one per key written) the damage cost, the damaged records'
//! own included, up to the last record that still reads. The probe runs only when the last
//! close was not clean ([`CLEAN_CLOSE_MARKER`] missing): one extra read-only open after a crash.

use std::path::Path;

use rocksdb::{DBRecoveryMode, Options, DB};

/// Written by a clean close, removed by the next open: its absence means the last run crashed
/// (or the file was lost), and only then is the WAL probed. Its content is not read.
pub const CLEAN_CLOSE_MARKER: &str = "AICO-CLEAN-CLOSE";

/// Writes the open's WAL replay dropped, measured as the module docs say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalReplay {
    /// Writes from the damage on that were not replayed: sequence numbers are contiguous, so the
    /// damaged records' own writes count too. A lower bound only when the damage reaches the end of
    /// the log (writes after the last record that still reads cannot be counted).
    pub dropped_writes: u64,
}

/// Total bytes of the store's WAL files (`<n>.log`).
pub(crate) fn wal_bytes(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else { return 0 };
    entries
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".log").is_some_and(|stem| !stem.is_empty() && stem.bytes().all(|b| b.is_ascii_digit()))
        })
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

/// The sequence number a replay that skips damaged records reaches, from a read-only open of the
/// column families on disk (`None` when even that open fails: the real open then reports).
pub(crate) fn skipping_replay_sequence(path: &Path) -> Option<u64> {
    let names = DB::list_cf(&Options::default(), path).ok()?;
    let mut o = Options::default();
    o.set_wal_recovery_mode(DBRecoveryMode::SkipAnyCorruptedRecord);
    let db = DB::open_cf_for_read_only(&o, path, &names, false).ok()?;
    Some(db.latest_sequence_number())
}

/// The report, given the probe's sequence and the real open's.
pub(crate) fn compare(skipping: Option<u64>, opened: u64) -> Option<WalReplay> {
    match skipping {
        Some(s) if s > opened => Some(WalReplay { dropped_writes: s - opened }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::kv::{KvOptions, KvStore, Ttl};

    fn key() -> crate::keys::StoreKey {
        crate::keys::DataKey::from_parts([5u8; 32], [0u8; 16]).store_key(crate::keys::Store::Rocksdb)
    }

    fn logs(dir: &Path) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|x| x == "log")
                    && p.file_stem().is_some_and(|s| s.to_string_lossy().bytes().all(|b| b.is_ascii_digit()))
            })
            .collect();
        v.sort();
        v
    }

    fn flip(path: &Path, at: f64) {
        let mut bytes = std::fs::read(path).unwrap();
        let i = ((bytes.len() as f64) * at) as usize;
        bytes[i] ^= 0x5a;
        std::fs::write(path, bytes).unwrap();
    }

    /// The files of an open store copied as they are: what a power loss leaves.
    fn crash_image(kv: &KvStore, to: &Path) {
        kv.with(|o| o.db.flush_wal(true).map_err(crate::kv::errors::map_rocks)).unwrap();
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(kv.path()).unwrap().flatten() {
            if e.file_type().unwrap().is_file() {
                std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
            }
        }
    }

    fn value(i: u32) -> Vec<u8> {
        let mut v = vec![(i % 251) as u8; 1000];
        v[..4].copy_from_slice(&i.to_le_bytes());
        v
    }

    /// 200 writes of 1 kB: the WAL spans several 32 kB blocks, so damage in one block leaves
    /// later blocks readable and the dropped writes countable.
    fn written(tmp: &Path) -> KvStore {
        let kv = KvStore::open(&tmp.join("kv"), key(), KvOptions::default()).unwrap();
        for i in 0..200u32 {
            kv.put("config", format!("k{i:03}").as_bytes(), &value(i), Ttl::Default).unwrap();
        }
        kv
    }

    fn readable(kv: &KvStore) -> Vec<bool> {
        (0..200u32)
            .map(|i| match kv.get("config", format!("k{i:03}").as_bytes()).unwrap() {
                Some(v) => {
                    assert_eq!(v.bytes(), value(i).as_slice(), "k{i:03} reads back what was written");
                    true
                }
                None => false,
            })
            .collect()
    }

    #[test]
    fn damage_to_the_live_wal_after_a_clean_close_refuses_the_open_and_repair_keeps_every_write() {
        let tmp = tempfile::tempdir().unwrap();
        let kv = written(tmp.path());
        kv.close().unwrap();
        let path = tmp.path().join("kv");
        // The oldest WAL stays live after a close (it holds the namespace table, see `flush_all`).
        let oldest = logs(&path).into_iter().find(|l| std::fs::metadata(l).unwrap().len() > 0).expect("a live WAL");
        flip(&oldest, 0.5);
        let err = KvStore::open(&path, key(), KvOptions::default()).err().expect("column families flushed past the damage: refused");
        assert_eq!(err.code(), "CORRUPT");
        let r = crate::kv::repair(&path, key(), KvOptions::default()).unwrap();
        assert_eq!(r.method, "repair", "{r:?}");
        let kv = KvStore::open(&path, key(), KvOptions::default()).unwrap();
        assert!(readable(&kv).iter().all(|&x| x), "every write was flushed to an SST before the damage");
        kv.close().unwrap();
    }

    #[test]
    fn an_intact_crash_image_replays_everything_and_reports_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let kv = written(tmp.path());
        let image = tmp.path().join("image");
        crash_image(&kv, &image);
        kv.close().unwrap();
        assert!(wal_bytes(&image) > 32 * 1024, "the writes are in the WAL, not yet flushed");
        let kv = KvStore::open(&image, key(), KvOptions::default()).unwrap();
        assert_eq!(kv.wal_replay(), None);
        assert!(readable(&kv).iter().all(|&r| r));
        kv.close().unwrap();
    }

    #[test]
    fn a_damaged_wal_after_a_crash_opens_at_the_damage_and_reports_the_dropped_writes() {
        let tmp = tempfile::tempdir().unwrap();
        let kv = written(tmp.path());
        let image = tmp.path().join("image");
        crash_image(&kv, &image);
        kv.close().unwrap();
        let log = logs(&image).into_iter().max_by_key(|p| std::fs::metadata(p).unwrap().len()).unwrap();
        flip(&log, 0.3);
        let kv = KvStore::open(&image, key(), KvOptions::default()).expect("pointInTime opens at the damage");
        let report = kv.wal_replay().expect("the dropped writes are reported, not silent");
        let r = readable(&kv);
        let kept = r.iter().filter(|&&x| x).count() as u64;
        // pointInTime keeps a prefix: every write before the damage, none after it.
        assert!(r.iter().skip_while(|&&x| x).all(|&x| !x), "kept writes are a prefix: {r:?}");
        assert!(kept > 0 && kept < 200, "kept {kept}");
        // Sequence numbers are contiguous: the count includes the damaged block's writes.
        assert_eq!(kept + report.dropped_writes, 200, "kept {kept}, {report:?}");
        kv.close().unwrap();
        assert!(image.join(CLEAN_CLOSE_MARKER).exists(), "a clean close leaves its marker");
        // The next open replays nothing more and reports nothing: the loss was reported once.
        let kv = KvStore::open(&image, key(), KvOptions::default()).unwrap();
        assert_eq!(kv.wal_replay(), None);
        kv.close().unwrap();
    }
}
