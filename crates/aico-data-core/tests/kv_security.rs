//! What is on disk: no plaintext values (canary scan), tampering detected as CORRUPT, a
//! store opened with another folder's key refused.

mod kv_common;

use aico_data_core::folder::Folder;
use aico_data_core::keys::Store;
use aico_data_core::kv::{EnqueueOptions, KvOptions, KvStore, Ttl};
use kv_common::{all_bytes, contains, raw_db, Fixture};

const CANARY: &[u8] = b"CANARY-7f3a9c-plaintext-must-never-hit-disk";

#[test]
fn canary_values_never_reach_disk() {
    let fx = Fixture::new();
    let kv = fx.open();
    let value = [CANARY, b" with some padding ".repeat(20).as_slice()].concat();
    for i in 0..200 {
        kv.put("session", format!("visible-key-{i}").as_bytes(), &value, Ttl::Default).unwrap();
    }
    kv.put_many("cache", &[(b"batch-key".to_vec(), value.clone())], Ttl::Ms(3_600_000)).unwrap();
    kv.enqueue("events", &value, EnqueueOptions::default()).unwrap();
    // While open: the write-ahead log holds the writes.
    let bytes = all_bytes(&fx.kv_path());
    assert!(!contains(&bytes, CANARY), "plaintext value in the WAL/memtable files");
    kv.flush().unwrap();
    kv.compact(None).unwrap();
    kv.close().unwrap();
    let bytes = all_bytes(&fx.kv_path());
    assert!(!contains(&bytes, CANARY), "plaintext value in an SST or log file");
    // Keys are plaintext by design (ordered scans); this documents the leak.
    assert!(contains(&bytes, b"visible-key-1"));
}

fn tamper(fx: &Fixture, ns: &str, key: &[u8], f: impl FnOnce(&mut Vec<u8>)) {
    let db = raw_db(&fx.kv_path());
    let cf = db.cf_handle(ns).unwrap();
    let mut v = db.get_cf(cf, key).unwrap().unwrap();
    f(&mut v);
    db.put_cf(cf, key, v).unwrap();
}

#[test]
fn tampered_or_moved_values_are_corrupt() {
    let fx = Fixture::new();
    let kv = fx.open();
    kv.put("session", b"a", b"secret a", Ttl::Default).unwrap();
    kv.put("session", b"b", b"secret b", Ttl::Default).unwrap();
    kv.put("session", b"c", b"secret c", Ttl::Ms(3_600_000)).unwrap();
    kv.put("config", b"d", b"secret d", Ttl::Default).unwrap();
    kv.close().unwrap();

    tamper(&fx, "session", b"a", |v| {
        let last = v.len() - 1;
        v[last] ^= 1;
    });
    // b's record copied under key "moved" and into another namespace
    {
        let db = raw_db(&fx.kv_path());
        let b = db.get_cf(db.cf_handle("session").unwrap(), b"b").unwrap().unwrap();
        db.put_cf(db.cf_handle("session").unwrap(), b"moved", &b).unwrap();
        db.put_cf(db.cf_handle("config").unwrap(), b"b", &b).unwrap();
    }
    // c's plaintext expiry pushed far into the future
    tamper(&fx, "session", b"c", |v| v[1] = 0x7F);
    // d truncated below its header
    tamper(&fx, "config", b"d", |v| v.truncate(4));

    let kv = fx.open();
    for (ns, key) in [("session", &b"a"[..]), ("session", b"moved"), ("config", b"b"), ("session", b"c"), ("config", b"d")] {
        let err = kv.get(ns, key).err().unwrap_or_else(|| panic!("{ns}/{key:?} opened"));
        assert_eq!(err.code(), "CORRUPT", "{ns}/{key:?}: {err}");
    }
    assert_eq!(kv.get("session", b"b").unwrap().unwrap().bytes(), b"secret b");
    let err = kv.get_many("session", &[b"b".as_slice(), b"a"]).err().unwrap();
    assert_eq!(err.code(), "CORRUPT");
}

#[test]
fn damaged_sst_file_is_corrupt_not_garbage() {
    let fx = Fixture::new();
    let kv = fx.open();
    let value = vec![0x5Au8; 4000];
    for i in 0..500 {
        kv.put("cache", format!("k{i:04}").as_bytes(), &value, Ttl::Default).unwrap();
    }
    kv.flush().unwrap();
    kv.close().unwrap();
    let sst = std::fs::read_dir(fx.kv_path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sst"))
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .unwrap();
    let mut bytes = std::fs::read(&sst).unwrap();
    let mid = bytes.len() / 3;
    for b in &mut bytes[mid..mid + 64] {
        *b ^= 0xA5;
    }
    std::fs::write(&sst, bytes).unwrap();

    let outcome = fx.open_with(KvOptions::default()).and_then(|kv| {
        let mut first_err = None;
        for i in 0..500 {
            if let Err(e) = kv.get("cache", format!("k{i:04}").as_bytes()) {
                first_err = Some(e);
                break;
            }
        }
        first_err.map_or(Ok(()), Err)
    });
    assert_eq!(outcome.unwrap_err().code(), "CORRUPT");
}

#[test]
fn another_folders_key_is_refused_at_open() {
    let fx = Fixture::new();
    fx.open().close().unwrap();
    let other = Folder::open(&fx.dir.path().join("other"), b"other", true, None).unwrap();
    let err = KvStore::open(&fx.kv_path(), other.store_key(Store::Rocksdb), KvOptions::default()).err().unwrap();
    assert_eq!(err.code(), "CORRUPT");
    // The right key still opens it.
    fx.open();
}
