//! Sealed snapshots: restore on reopen, no plaintext on disk, and every bad snapshot
//! (tampered, truncated, another key, another database) rebuilt from libSQL with an event.

mod analytics_common;

use aico_data_core::analytics::{AnalyticsOptions, AnalyticsStore, EngineOptions};
use aico_data_core::folder::Folder;
use aico_data_core::keys::Store;
use aico_data_core::sql::Value;
use analytics_common::{all_bytes, contains, duck, int, Fixture, CANARY};

fn messages_full(r: &aico_data_core::analytics::SyncReport) -> bool {
    r.tables.iter().find(|t| t.table == "messages").unwrap().full
}

#[test]
fn close_snapshots_and_reopen_restores_then_catches_up() {
    let fx = Fixture::new();
    fx.seed(3, 300, 10);
    let store = fx.open();
    store.sync().unwrap();
    let everything = "SELECT * FROM messages ORDER BY id";
    let before = duck(&store, everything);
    let info = store.close().unwrap().expect("a snapshot was written on close");
    assert_eq!(info.tables, 4);
    assert!(info.rows >= 303);
    assert!(fx.snapshot_path().exists());
    assert!(store.sync().is_err_and(|e| e.code() == "CLOSED"));

    fx.exec("INSERT INTO messages (id, conversation_id, user_id, role, content) VALUES ('late', 'c0', 'u0', 'user', 'while closed'); DELETE FROM messages WHERE id = 'm0';");
    let store = fx.open();
    assert!(store.take_events().iter().any(|e| e.kind == "snapshot_restored"));
    assert_eq!(store.status().unwrap().restored.unwrap().rows, info.rows);
    assert_eq!(duck(&store, everything), before, "restored value for value, NULLs included");
    let r = store.sync().unwrap();
    assert!(!messages_full(&r), "restored tables continue incrementally: {r:?}");
    let m = r.tables.iter().find(|t| t.table == "messages").unwrap();
    assert_eq!((m.inserted, m.deleted), (1, 1));
    assert_eq!(duck(&store, "SELECT count(*) FROM messages"), vec![vec![Value::Integer(300)]]);
    // the sync changed the tables: close writes a new snapshot
    assert!(store.close().unwrap().is_some());
    let store = fx.open();
    assert!(!store.sync().unwrap().changed());
    assert!(store.close().unwrap().is_none(), "clean store: no snapshot on close");
}

#[test]
fn no_plaintext_reaches_the_data_folder_or_temp() {
    let fx = Fixture::new();
    fx.seed(2, 500, 5);
    let store = fx.open_with(AnalyticsOptions { engine: EngineOptions { memory_limit_mb: 256, threads: 2 }, ..Default::default() });
    store.sync().unwrap();
    // queries that sort, join and aggregate everything (would spill under pressure)
    let rows = duck(
        &store,
        "SELECT count(*) FROM (SELECT a.content, b.content FROM messages a JOIN messages b USING (conversation_id) ORDER BY 1, 2)",
    );
    assert!(int(&rows[0][0]) > 0);
    store.snapshot().unwrap();
    store.close().unwrap();
    let bytes = all_bytes(fx.dir());
    assert!(!bytes.is_empty());
    assert!(!contains(&bytes, CANARY.as_bytes()), "canary found in the data folder");
    assert!(!contains(&bytes, b"message 1 "), "message text found in the data folder");
    let names: Vec<String> = std::fs::read_dir(fx.dir()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    assert!(!std::path::Path::new(".tmp").exists(), "DuckDB created a spill directory in the working directory");
}

#[test]
fn a_query_larger_than_memory_fails_instead_of_spilling() {
    let fx = Fixture::new();
    let store = fx.open_with(AnalyticsOptions { engine: EngineOptions { memory_limit_mb: 32, threads: 1 }, ..Default::default() });
    store.sync().unwrap();
    let mut rows = aico_data_core::sql::OwnedRows::default();
    let err = store
        .query(
            "SELECT i, repeat('x', 200) || i AS pad FROM range(3000000) t(i) ORDER BY pad DESC",
            &aico_data_core::sql::Params::None,
            &mut rows,
        )
        .unwrap_err();
    assert_eq!(err.code(), "SQL_ERROR");
    assert!(err.to_string().contains("memory"), "{err}");
    assert!(!std::path::Path::new(".tmp").exists());
}

fn rebuilt_after(fx: &Fixture, damage: impl FnOnce(&std::path::Path)) {
    let store = fx.open();
    store.sync().unwrap();
    let before = duck(&store, "SELECT id, sentiment FROM messages ORDER BY id");
    store.close().unwrap().unwrap();
    damage(&fx.snapshot_path());
    let store = fx.open();
    let events = store.take_events();
    let rejected = events.iter().find(|e| e.kind == "snapshot_rejected").unwrap_or_else(|| panic!("{events:?}"));
    assert!(rejected.message.contains("[CORRUPT]"), "{}", rejected.message);
    assert!(store.status().unwrap().restored.is_none());
    let r = store.sync().unwrap();
    assert!(messages_full(&r), "rebuilt from libSQL");
    assert_eq!(duck(&store, "SELECT id, sentiment FROM messages ORDER BY id"), before);
    // the next close replaces the bad snapshot with a good one
    store.close().unwrap().unwrap();
    let store = fx.open();
    assert!(store.take_events().iter().any(|e| e.kind == "snapshot_restored"));
}

#[test]
fn a_tampered_snapshot_is_rebuilt() {
    let fx = Fixture::new();
    fx.seed(2, 50, 3);
    rebuilt_after(&fx, |p| {
        let mut b = std::fs::read(p).unwrap();
        let mid = b.len() / 2;
        b[mid] ^= 1;
        std::fs::write(p, b).unwrap();
    });
}

#[test]
fn a_truncated_snapshot_is_rebuilt() {
    let fx = Fixture::new();
    fx.seed(2, 50, 3);
    rebuilt_after(&fx, |p| {
        let b = std::fs::read(p).unwrap();
        std::fs::write(p, &b[..b.len() - 10]).unwrap();
    });
}

#[test]
fn a_snapshot_from_another_password_is_rebuilt() {
    let fx = Fixture::new();
    fx.seed(2, 50, 3);
    // another folder (another data key) writes a snapshot of its own
    let other_tmp = tempfile::tempdir().unwrap();
    let other = Folder::open(&other_tmp.path().join("d"), b"another password", true, None).unwrap();
    let other_store =
        AnalyticsStore::open(fx.sql.clone(), other.store_key(Store::Duckdb), other.dir(), AnalyticsOptions::default()).unwrap();
    other_store.sync().unwrap();
    other_store.close().unwrap().unwrap();
    let foreign = other.dir().join(aico_data_core::analytics::SNAPSHOT_FILE);
    rebuilt_after(&fx, |p| {
        std::fs::copy(&foreign, p).unwrap();
    });
}

#[test]
fn a_snapshot_of_another_database_is_rebuilt() {
    let fx = Fixture::new();
    fx.seed(2, 20, 3);
    let store = fx.open();
    store.sync().unwrap();
    // logged changes move the watermark past 1
    fx.exec("UPDATE messages SET sentiment = 0 WHERE id IN ('m1', 'm2', 'm3')");
    assert!(store.sync().unwrap().watermark >= 3);
    store.close().unwrap().unwrap();
    // a restored or replaced libSQL database has another change-clock epoch
    fx.exec("UPDATE _aico_analytics_clock SET epoch = 'restored-elsewhere'");
    let store = fx.open();
    assert!(store.take_events().iter().any(|e| e.kind == "snapshot_restored"));
    assert!(messages_full(&store.sync().unwrap()));
    // and a clock behind the snapshot's watermark (an older copy) too
    store.close().unwrap().unwrap();
    fx.exec("UPDATE sqlite_sequence SET seq = 1 WHERE name = '_aico_analytics_changes'");
    let store = fx.open();
    assert!(messages_full(&store.sync().unwrap()));
}

#[test]
fn change_log_entries_covered_by_a_snapshot_are_pruned() {
    let fx = Fixture::new();
    fx.seed(1, 20, 3);
    let store = fx.open();
    store.sync().unwrap();
    fx.exec("DELETE FROM messages WHERE id IN ('m1', 'm2', 'm3')");
    store.sync().unwrap();
    let logged = |fx: &Fixture| int(&fx.sqlite("SELECT count(*) FROM _aico_analytics_changes WHERE tbl = 'messages'")[0][0]);
    assert_eq!(logged(&fx), 3, "rows inserted before tracking was installed are not logged; the deletes are");
    store.snapshot().unwrap();
    assert_eq!(logged(&fx), 0);
    let pruned = int(&fx.sqlite("SELECT pruned_upto FROM _aico_analytics_clock")[0][0]);
    assert!(pruned > 0);
    // a snapshot older than the pruned log cannot catch up: it rebuilds
    std::fs::copy(fx.snapshot_path(), fx.tmp.path().join("old.snapshot")).unwrap();
    fx.exec("DELETE FROM messages WHERE id = 'm4'");
    store.sync().unwrap();
    store.snapshot().unwrap();
    store.close().unwrap();
    std::fs::copy(fx.tmp.path().join("old.snapshot"), fx.snapshot_path()).unwrap();
    let store = fx.open();
    let r = store.sync().unwrap();
    assert!(messages_full(&r), "{r:?}");
    assert_eq!(duck(&store, "SELECT count(*) FROM messages WHERE id = 'm4'"), vec![vec![Value::Integer(0)]]);
}

#[test]
fn snapshots_can_be_disabled() {
    let fx = Fixture::new();
    fx.seed(1, 5, 1);
    let store = fx.open_with(AnalyticsOptions { snapshots: false, ..Default::default() });
    store.sync().unwrap();
    assert_eq!(store.snapshot().unwrap_err().code(), "INVALID_ARGUMENT");
    assert!(store.close().unwrap().is_none());
    assert!(!fx.snapshot_path().exists());
}
