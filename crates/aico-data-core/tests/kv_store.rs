//! The KV store against real RocksDB directories: reads, writes, batches, scans, TTL,
//! namespaces, bad input, locking.

mod kv_common;

use std::ops::Bound;
use std::thread::sleep;
use std::time::Duration;

use aico_data_core::kv::{
    Access, Compression, KvOptions, NamespaceOptions, OnLocked, ScanRange, Ttl, WriteOp, MAX_KEY_BYTES, MAX_VALUE_BYTES,
};
use kv_common::{raw_db, Fixture};

fn text(v: Option<aico_data_core::kv::Unsealed>) -> Option<String> {
    v.map(|v| String::from_utf8(v.into_vec()).unwrap())
}

#[test]
fn put_get_delete_and_reopen() {
    let fx = Fixture::new();
    let kv = fx.open();
    kv.put("session", b"user:1", b"alice", Ttl::Default).unwrap();
    kv.put("config", b"theme", b"dark", Ttl::Default).unwrap();
    assert_eq!(text(kv.get("session", b"user:1").unwrap()).as_deref(), Some("alice"));
    assert!(kv.get("config", b"user:1").unwrap().is_none(), "namespaces are separate");
    assert!(kv.has("session", b"user:1").unwrap());
    kv.put("session", b"user:1", b"bob", Ttl::Default).unwrap();
    assert_eq!(text(kv.get("session", b"user:1").unwrap()).as_deref(), Some("bob"));
    kv.put("cache", b"empty", b"", Ttl::Default).unwrap();
    assert_eq!(text(kv.get("cache", b"empty").unwrap()).as_deref(), Some(""));
    kv.delete("config", b"theme").unwrap();
    assert!(!kv.has("config", b"theme").unwrap());
    kv.close().unwrap();

    let kv = fx.open();
    assert_eq!(text(kv.get("session", b"user:1").unwrap()).as_deref(), Some("bob"));
    assert!(kv.get("config", b"theme").unwrap().is_none());
}

#[test]
fn many_and_atomic_batches() {
    let fx = Fixture::new();
    let kv = fx.open();
    let entries: Vec<(Vec<u8>, Vec<u8>)> = (0..100).map(|i| (format!("k{i:03}").into_bytes(), format!("v{i}").into_bytes())).collect();
    kv.put_many("cache", &entries, Ttl::Default).unwrap();
    let keys: Vec<&[u8]> = vec![b"k000", b"missing", b"k099"];
    let got: Vec<Option<String>> = kv.get_many("cache", &keys).unwrap().into_iter().map(text).collect();
    assert_eq!(got, vec![Some("v0".into()), None, Some("v99".into())]);

    kv.write_batch(&[
        WriteOp::Put { ns: "session".into(), key: b"a".to_vec(), value: b"1".to_vec(), ttl: Ttl::Default },
        WriteOp::Delete { ns: "cache".into(), key: b"k000".to_vec() },
    ])
    .unwrap();
    assert!(kv.get("cache", b"k000").unwrap().is_none());
    assert_eq!(text(kv.get("session", b"a").unwrap()).as_deref(), Some("1"));

    // One bad operation: nothing of the batch is applied.
    let err = kv
        .write_batch(&[
            WriteOp::Put { ns: "session".into(), key: b"b".to_vec(), value: b"2".to_vec(), ttl: Ttl::Default },
            WriteOp::Put { ns: "nope".into(), key: b"c".to_vec(), value: b"3".to_vec(), ttl: Ttl::Default },
        ])
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_ARGUMENT");
    assert!(err.to_string().contains("item 2"), "{err}");
    assert!(kv.get("session", b"b").unwrap().is_none());
    let err = kv.put_many("cache", &[(b"ok".to_vec(), b"1".to_vec()), (Vec::new(), b"2".to_vec())], Ttl::Default);
    assert_eq!(err.unwrap_err().code(), "INVALID_ARGUMENT");
    assert!(kv.get("cache", b"ok").unwrap().is_none());
}

fn keys_of(page: &aico_data_core::kv::ScanPage) -> Vec<String> {
    page.entries.iter().map(|(k, _)| String::from_utf8(k.clone()).unwrap()).collect()
}

#[test]
fn scans_prefix_range_reverse_and_pages() {
    let fx = Fixture::new();
    let kv = fx.open();
    for k in ["a", "user:1", "user:2", "user:3", "user:4", "v"] {
        kv.put("cache", k.as_bytes(), k.to_uppercase().as_bytes(), Ttl::Default).unwrap();
    }
    let p = kv.scan("cache", &ScanRange::prefix(b"user:"), None, 100, false).unwrap();
    assert_eq!(keys_of(&p), ["user:1", "user:2", "user:3", "user:4"]);
    assert!(p.done);
    assert_eq!(p.entries[0].1.as_ref().unwrap().bytes(), b"USER:1");

    // pages of 3, resumed from `last`
    let all = ScanRange::default();
    let p1 = kv.scan("cache", &all, None, 3, true).unwrap();
    assert_eq!(keys_of(&p1), ["a", "user:1", "user:2"]);
    assert!(!p1.done && p1.entries[0].1.is_none());
    let p2 = kv.scan("cache", &all, p1.last.as_deref(), 3, true).unwrap();
    assert_eq!(keys_of(&p2), ["user:3", "user:4", "v"]);
    let p3 = kv.scan("cache", &all, p2.last.as_deref(), 3, true).unwrap();
    assert!(p3.entries.is_empty() && p3.done);

    // bounds and reverse
    let r = ScanRange { lower: Bound::Excluded(b"user:1".to_vec()), upper: Bound::Included(b"user:4".to_vec()), reverse: true };
    let p = kv.scan("cache", &r, None, 2, true).unwrap();
    assert_eq!(keys_of(&p), ["user:4", "user:3"]);
    let p = kv.scan("cache", &r, p.last.as_deref(), 2, true).unwrap();
    assert_eq!(keys_of(&p), ["user:2"]);
    assert!(p.done);

    // expired entries are skipped
    kv.put("cache", b"user:5", b"gone", Ttl::Ms(1)).unwrap();
    sleep(Duration::from_millis(5));
    let p = kv.scan("cache", &ScanRange::prefix(b"user:"), None, 100, false).unwrap();
    assert_eq!(p.entries.len(), 4);
}

#[test]
fn ttl_expiry_and_compaction_drop() {
    let fx = Fixture::new();
    let kv = fx.open();
    kv.define_namespace("short", NamespaceOptions { ttl_ms: Some(80), compression: Compression::Lz4 }).unwrap();
    kv.put("short", b"default-ttl", b"x", Ttl::Default).unwrap();
    kv.put("short", b"forever", b"x", Ttl::Never).unwrap();
    kv.put("cache", b"explicit", b"x", Ttl::Ms(80)).unwrap();
    kv.put("cache", b"no-ttl", b"x", Ttl::Default).unwrap();
    assert!(kv.get("short", b"default-ttl").unwrap().is_some());
    assert!(kv.get("cache", b"explicit").unwrap().is_some());
    sleep(Duration::from_millis(150));
    assert!(kv.get("short", b"default-ttl").unwrap().is_none());
    assert!(!kv.has("short", b"default-ttl").unwrap());
    assert!(kv.get("cache", b"explicit").unwrap().is_none());
    assert!(kv.get("short", b"forever").unwrap().is_some());
    assert!(kv.get("cache", b"no-ttl").unwrap().is_some());
    let many = kv.get_many("cache", &[b"explicit".as_slice(), b"no-ttl"]).unwrap();
    assert!(many[0].is_none() && many[1].is_some());

    // The compaction filter removes expired records from disk.
    kv.compact(None).unwrap();
    kv.close().unwrap();
    let db = raw_db(&fx.kv_path());
    let cache = db.cf_handle("cache").unwrap();
    let short = db.cf_handle("short").unwrap();
    assert!(db.get_cf(cache, b"explicit").unwrap().is_none(), "expired record still on disk");
    assert!(db.get_cf(short, b"default-ttl").unwrap().is_none());
    assert!(db.get_cf(cache, b"no-ttl").unwrap().is_some());
    assert!(db.get_cf(short, b"forever").unwrap().is_some());
}

#[test]
fn namespaces_persist_and_are_managed() {
    let fx = Fixture::new();
    let kv = fx.open();
    let prefs = NamespaceOptions { ttl_ms: Some(86_400_000), compression: Compression::Zstd };
    kv.define_namespace("prefs", prefs).unwrap();
    kv.put("prefs", b"k", b"v", Ttl::Default).unwrap();
    kv.define_namespace("scratch", NamespaceOptions::default()).unwrap();
    kv.put("scratch", b"k", b"v", Ttl::Default).unwrap();
    kv.drop_namespace("scratch").unwrap();
    assert_eq!(kv.get("scratch", b"k").unwrap_err().code(), "INVALID_ARGUMENT");
    assert_eq!(kv.drop_namespace("session").unwrap_err().code(), "INVALID_ARGUMENT");
    assert_eq!(kv.define_namespace("default", NamespaceOptions::default()).unwrap_err().code(), "INVALID_ARGUMENT");
    assert_eq!(
        kv.define_namespace("queue", NamespaceOptions { ttl_ms: Some(5), ..Default::default() }).unwrap_err().code(),
        "INVALID_ARGUMENT"
    );
    kv.close().unwrap();

    let kv = fx.open();
    let list = kv.namespaces().unwrap();
    let names: Vec<&str> = list.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["cache", "config", "prefs", "queue", "session"]);
    let p = list.iter().find(|n| n.name == "prefs").unwrap();
    assert_eq!((p.options, p.builtin), (prefs, false));
    assert!(list.iter().find(|n| n.name == "cache").unwrap().builtin);
    assert_eq!(kv.get("prefs", b"k").unwrap().unwrap().bytes(), b"v");
    // A namespace recreated after a drop starts empty.
    kv.define_namespace("scratch", NamespaceOptions::default()).unwrap();
    assert!(kv.get("scratch", b"k").unwrap().is_none());

    // clear
    kv.put("cache", b"a", b"1", Ttl::Default).unwrap();
    kv.put("cache", &vec![0xFF; MAX_KEY_BYTES], b"2", Ttl::Default).unwrap();
    kv.clear("cache").unwrap();
    assert!(kv.get("cache", b"a").unwrap().is_none());
    assert!(kv.get("cache", &vec![0xFF; MAX_KEY_BYTES]).unwrap().is_none());
    assert_eq!(kv.get("prefs", b"k").unwrap().unwrap().bytes(), b"v", "clear touches one namespace");

    // namespaces given at open
    kv.close().unwrap();
    let opts = KvOptions { namespaces: vec![("from-open".into(), NamespaceOptions::default())], ..Default::default() };
    let kv = fx.open_with(opts).unwrap();
    kv.put("from-open", b"k", b"v", Ttl::Default).unwrap();
}

#[test]
fn bad_input_is_refused_with_codes() {
    let fx = Fixture::new();
    let kv = fx.open();
    let code = |r: aico_data_core::Result<()>| r.unwrap_err().code();
    assert_eq!(code(kv.put("cache", b"", b"v", Ttl::Default)), "INVALID_ARGUMENT");
    assert_eq!(code(kv.put("cache", &vec![1; MAX_KEY_BYTES + 1], b"v", Ttl::Default)), "INVALID_ARGUMENT");
    assert_eq!(code(kv.put("cache", b"k", &vec![0; MAX_VALUE_BYTES + 1], Ttl::Default)), "INVALID_ARGUMENT");
    assert_eq!(code(kv.put("nope", b"k", b"v", Ttl::Default)), "INVALID_ARGUMENT");
    assert_eq!(code(kv.put("queue", b"k", b"v", Ttl::Default)), "INVALID_ARGUMENT");
    assert_eq!(kv.get("cache", b"").unwrap_err().code(), "INVALID_ARGUMENT");
    assert_eq!(kv.scan("cache", &ScanRange::default(), None, 0, false).err().unwrap().code(), "INVALID_ARGUMENT");
    kv.put("cache", &vec![1; MAX_KEY_BYTES], b"max key", Ttl::Default).unwrap();
    kv.close().unwrap();
    kv.close().unwrap(); // idempotent
    assert_eq!(kv.get("cache", b"k").unwrap_err().code(), "CLOSED");
    assert_eq!(code(kv.put("cache", b"k", b"v", Ttl::Default)), "CLOSED");
    assert_eq!(kv.namespaces().unwrap_err().code(), "CLOSED");
    assert_eq!(kv.lease("t", 1, 10).unwrap_err().code(), "CLOSED");
    assert!(kv.is_closed());
}

#[test]
fn second_open_is_locked_or_read_only() {
    let fx = Fixture::new();
    let kv = fx.open();
    kv.put("config", b"k", b"v1", Ttl::Default).unwrap();
    kv.flush().unwrap();
    let err = fx.open_with(KvOptions::default()).err().unwrap();
    assert_eq!(err.code(), "LOCKED");
    assert!(err.to_string().contains("LOCK"), "{err}");

    let ro = fx.open_with(KvOptions { on_locked: OnLocked::ReadOnly, ..Default::default() }).unwrap();
    assert_eq!(ro.access(), Access::ReadOnly);
    assert_eq!(ro.get("config", b"k").unwrap().unwrap().bytes(), b"v1");
    assert_eq!(ro.put("config", b"k", b"x", Ttl::Default).unwrap_err().code(), "LOCKED");
    assert_eq!(ro.enqueue("t", b"x", Default::default()).unwrap_err().code(), "LOCKED");
    kv.put("config", b"k", b"v2", Ttl::Default).unwrap();
    kv.flush().unwrap();
    ro.refresh().unwrap();
    assert_eq!(ro.get("config", b"k").unwrap().unwrap().bytes(), b"v2");
    ro.close().unwrap();
    kv.close().unwrap();
    // Once closed, the folder opens again as the writer.
    let kv = fx.open();
    assert_eq!(kv.access(), Access::Primary);
}

#[test]
fn missing_current_is_damage_only_under_the_lock() {
    // A store another opener is creating has its MANIFEST before its CURRENT: an opener that
    // sees that state while the creator holds the lock must get LOCKED (and retry), not CORRUPT
    // (which made the data layer open a degraded store beside the creator's writer).
    let fx = Fixture::new();
    let kv = fx.open();
    kv.put("config", b"k", b"v", Ttl::Default).unwrap();
    kv.flush().unwrap();
    let current = fx.kv_path().join("CURRENT");
    let saved = std::fs::read(&current).unwrap();
    std::fs::remove_file(&current).unwrap();
    for on_locked in [OnLocked::Error, OnLocked::ReadOnly] {
        let err = fx.open_with(KvOptions { on_locked, ..Default::default() }).err().unwrap();
        assert_eq!(err.code(), "LOCKED", "{err}");
    }
    kv.close().unwrap();
    // Nobody holds the lock now: a missing CURRENT beside data files is damage, and nothing is
    // created over the old files.
    let err = fx.open_with(KvOptions::default()).err().unwrap();
    assert_eq!(err.code(), "CORRUPT", "{err}");
    assert!(!current.exists(), "no new store was created beside the old files");
    std::fs::write(&current, saved).unwrap();
    let kv = fx.open();
    assert_eq!(text(kv.get("config", b"k").unwrap()).as_deref(), Some("v"));
}

#[test]
fn inline_attempts_give_up_instead_of_waiting() {
    use aico_data_core::kv::{Wait, INLINE_MAX_BYTES};
    let fx = Fixture::new();
    let kv = fx.open();
    assert!(kv.put_as("cache", b"k", b"v", Ttl::Default, Wait::Inline).unwrap());
    assert_eq!(kv.get_as("cache", b"k", Wait::Inline).unwrap().unwrap().unwrap().bytes(), b"v");
    assert!(kv.get_as("cache", b"missing", Wait::Inline).unwrap().unwrap().is_none());
    // too large to seal on the JS thread: nothing written
    let big = vec![7u8; INLINE_MAX_BYTES + 1];
    assert!(!kv.put_as("cache", b"big", &big, Ttl::Default, Wait::Inline).unwrap());
    assert!(kv.get("cache", b"big").unwrap().is_none());
    assert!(!kv.put_many_as("cache", &[(b"big".to_vec(), big.clone())], Ttl::Default, Wait::Inline).unwrap());
    kv.put("cache", b"big", &big, Ttl::Default).unwrap();
    assert!(kv.get_as("cache", b"big", Wait::Inline).unwrap().is_none(), "large values are opened on the pool");
    // bad input still fails at once
    assert_eq!(kv.put_as("cache", b"", b"v", Ttl::Default, Wait::Inline).unwrap_err().code(), "INVALID_ARGUMENT");
    kv.close().unwrap();

    // After reopen the value is on disk only: an inline read declines, a blocking one reads
    // it (and warms the block cache, after which the inline read succeeds).
    let kv = fx.open();
    assert!(kv.get_as("cache", b"k", Wait::Inline).unwrap().is_none());
    assert_eq!(kv.get("cache", b"k").unwrap().unwrap().bytes(), b"v");
    assert!(kv.get_as("cache", b"k", Wait::Inline).unwrap().is_some());
    kv.close().unwrap();

    // A store that fsyncs every write never writes inline.
    let kv = fx.open_with(KvOptions { sync: true, ..Default::default() }).unwrap();
    assert!(!kv.put_as("cache", b"s", b"v", Ttl::Default, Wait::Inline).unwrap());
    assert!(!kv.delete_as("cache", b"k", Wait::Inline).unwrap());
    assert!(kv.get("cache", b"s").unwrap().is_none());
    kv.put("cache", b"s", b"v", Ttl::Default).unwrap();
    assert!(kv.get("cache", b"s").unwrap().is_some());
}
