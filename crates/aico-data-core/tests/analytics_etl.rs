//! The incremental ETL against a real encrypted libSQL store: first sync, inserts, updates,
//! soft and hard deletes, key changes, untracked tables, mapping changes.

mod analytics_common;

use aico_data_core::analytics::{core_mappings, AnalyticsOptions, ColumnMapping, ColumnType, TableSync};
use aico_data_core::sql::Value;
use analytics_common::{duck, int, Fixture};

fn table<'r>(r: &'r aico_data_core::analytics::SyncReport, name: &str) -> &'r TableSync {
    r.tables.iter().find(|t| t.table == name).unwrap()
}

/// The live rows of libSQL and DuckDB agree, value for value.
fn assert_same_messages(fx: &Fixture, store: &aico_data_core::analytics::AnalyticsStore) {
    let lite = fx.sqlite(
        "SELECT id, conversation_id, role, content, sentiment, response_time_ms FROM messages WHERE deleted_at IS NULL ORDER BY id",
    );
    let dk = duck(store, "SELECT id, conversation_id, role, content, sentiment, response_time_ms FROM messages ORDER BY id");
    assert_eq!(lite, dk);
}

#[test]
fn first_sync_copies_everything_then_only_changes() {
    let fx = Fixture::new();
    fx.seed(4, 200, 20);
    let store = fx.open();
    let r = store.sync().unwrap();
    let m = table(&r, "messages");
    assert!(m.full);
    assert_eq!((m.inserted, m.updated, m.deleted), (200, 0, 0));
    assert_eq!(table(&r, "conversations").inserted, 4);
    assert_eq!(r.watermark, 0, "rows written before tracking was installed are not in the log");
    assert_same_messages(&fx, &store);

    // nothing changed: nothing to do
    let r = store.sync().unwrap();
    assert!(!r.changed(), "{r:?}");

    fx.exec(
        "INSERT INTO messages (id, conversation_id, user_id, role, content, sentiment) VALUES ('new1', 'c1', 'u1', 'user', 'hi', 0.5);
         INSERT INTO messages (id, conversation_id, user_id, role, content) VALUES ('new2', 'c1', 'u1', 'assistant', 'hello');
         UPDATE messages SET sentiment = 0.99 WHERE id IN ('m1', 'm2', 'm3');
         UPDATE messages SET deleted_at = '2025-03-01T00:00:00Z' WHERE id IN ('m4', 'm5');
         DELETE FROM messages WHERE id IN ('m6', 'm7', 'm8');
         DELETE FROM messages WHERE id = 'new2';",
    );
    let r = store.sync().unwrap();
    let m = table(&r, "messages");
    assert!(!m.full);
    assert_eq!((m.inserted, m.updated, m.deleted), (1, 3, 5), "{m:?}");
    assert_eq!(table(&r, "conversations"), &TableSync { table: "conversations".into(), ..Default::default() });
    assert_same_messages(&fx, &store);
    assert_eq!(duck(&store, "SELECT sentiment FROM messages WHERE id = 'm2'"), vec![vec![Value::Real(0.99)]]);

    // an undeleted row comes back
    fx.exec("UPDATE messages SET deleted_at = NULL WHERE id = 'm4'");
    let m = store.sync().unwrap().tables.into_iter().find(|t| t.table == "messages").unwrap();
    assert_eq!((m.inserted, m.updated, m.deleted), (1, 0, 0));
    assert_same_messages(&fx, &store);
    store.close().unwrap();
}

#[test]
fn a_changed_key_removes_the_old_row() {
    let fx = Fixture::new();
    fx.seed(1, 3, 1);
    let store = fx.open();
    store.sync().unwrap();
    fx.exec("UPDATE messages SET id = 'renamed' WHERE id = 'm0'");
    store.sync().unwrap();
    assert_eq!(
        duck(&store, "SELECT id FROM messages ORDER BY id"),
        vec![vec![Value::Text("m1".into())], vec![Value::Text("m2".into())], vec![Value::Text("renamed".into())]]
    );
}

#[test]
fn deletes_and_reinserts_of_the_same_key_in_one_window() {
    let fx = Fixture::new();
    fx.seed(1, 3, 1);
    let store = fx.open();
    store.sync().unwrap();
    fx.exec(
        "DELETE FROM messages WHERE id = 'm1';
         INSERT INTO messages (id, conversation_id, user_id, role, content) VALUES ('m1', 'c0', 'u0', 'user', 'second life');",
    );
    let m = store.sync().unwrap().tables.into_iter().find(|t| t.table == "messages").unwrap();
    assert_eq!((m.inserted, m.updated, m.deleted), (0, 1, 0));
    assert_eq!(duck(&store, "SELECT content FROM messages WHERE id = 'm1'"), vec![vec![Value::Text("second life".into())]]);
    assert_same_messages(&fx, &store);
}

#[test]
fn without_tracking_every_sync_rescans_and_still_sees_deletes() {
    let fx = Fixture::new();
    fx.seed(2, 10, 1);
    let store = fx.open_with(AnalyticsOptions { install_tracking: false, ..Default::default() });
    let r = store.sync().unwrap();
    assert!(table(&r, "messages").full);
    assert_eq!(r.watermark, -1);
    fx.exec("DELETE FROM messages WHERE id = 'm3'");
    let r = store.sync().unwrap();
    assert!(table(&r, "messages").full);
    assert_eq!(table(&r, "messages").inserted, 9);
    assert_same_messages(&fx, &store);
    assert!(fx.sqlite("SELECT name FROM sqlite_schema WHERE name LIKE '_aico_analytics%'").is_empty());
}

#[test]
fn tracking_is_installed_once_and_survives_reopen() {
    let fx = Fixture::new();
    fx.seed(1, 5, 1);
    let store = fx.open();
    store.sync().unwrap();
    let events = store.take_events();
    assert!(events.iter().any(|e| e.kind == "tracking_installed"), "{events:?}");
    store.sync().unwrap();
    assert!(store.take_events().iter().all(|e| e.kind != "tracking_installed"));
    let triggers = fx.sqlite("SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND name LIKE '_aico_analytics_%'");
    assert_eq!(int(&triggers[0][0]), 9); // 3 tables x insert/update/delete
                                         // the tracked tables keep exactly their declared columns
    let cols = fx.sqlite("SELECT group_concat(name) FROM pragma_table_info('conversations')");
    assert_eq!(cols[0][0], Value::Text("id,user_id,title,created_at,updated_at,deleted_at".into()));
}

#[test]
fn a_migration_that_rebuilds_a_table_is_detected_and_rebuilt() {
    let fx = Fixture::new();
    fx.seed(2, 10, 1);
    let store = fx.open();
    store.sync().unwrap();
    // the usual SQLite table rebuild: the triggers go with the old table
    fx.exec(
        "CREATE TABLE conversations_new (id TEXT PRIMARY KEY NOT NULL, user_id TEXT NOT NULL, title TEXT, created_at TEXT, updated_at TEXT, deleted_at TEXT);
         INSERT INTO conversations_new SELECT * FROM conversations;
         DROP TABLE conversations;
         ALTER TABLE conversations_new RENAME TO conversations;
         UPDATE conversations SET title = 'changed while untracked';",
    );
    let r = store.sync().unwrap();
    assert!(table(&r, "conversations").full, "{r:?}");
    assert!(!table(&r, "messages").full);
    assert!(store.take_events().iter().any(|e| e.kind == "tracking_installed" && e.message.contains("conversations")));
    assert_eq!(duck(&store, "SELECT DISTINCT title FROM conversations"), vec![vec![Value::Text("changed while untracked".into())]]);
    fx.exec("UPDATE conversations SET title = 'tracked again' WHERE id = 'c0'");
    let r = store.sync().unwrap();
    assert_eq!(table(&r, "conversations").updated, 1);
}

#[test]
fn a_table_created_later_is_picked_up() {
    let fx = Fixture::new();
    fx.exec("DROP TABLE memories");
    let store = fx.open();
    let r = store.sync().unwrap();
    assert_eq!(table(&r, "memories").inserted, 0);
    assert_eq!(duck(&store, "SELECT count(*) FROM memories"), vec![vec![Value::Integer(0)]]);
    fx.exec(
        "CREATE TABLE memories (id TEXT PRIMARY KEY, user_id TEXT, type TEXT, content TEXT, importance REAL, created_at TEXT, deleted_at TEXT);
         INSERT INTO memories VALUES ('x', 'u0', 'fact', 'likes tea', 0.9, '2025-01-01T00:00:00Z', NULL);",
    );
    let r = store.sync().unwrap();
    assert_eq!(table(&r, "memories").inserted, 1);
    fx.exec("UPDATE memories SET importance = 0.1");
    let r = store.sync().unwrap();
    assert!(!table(&r, "memories").full, "tracked since the previous sync");
    assert_eq!(table(&r, "memories").updated, 1);
    assert_eq!(duck(&store, "SELECT importance FROM memories"), vec![vec![Value::Real(0.1)]]);
}

#[test]
fn values_that_do_not_fit_become_null_and_are_counted() {
    let fx = Fixture::new();
    fx.exec(
        "INSERT INTO conversations (id, user_id) VALUES ('c', 'u');
         INSERT INTO messages (id, conversation_id, user_id, role, content, sentiment, response_time_ms, created_at)
         VALUES ('a', 'c', 'u', 'user', 'x', 'very happy', '12ms', 'yesterday'),
                ('b', 'c', 'u', 'user', 'y', '0.25', 30.0, 1740787200000);",
    );
    let store = fx.open();
    let r = store.sync().unwrap();
    assert_eq!(table(&r, "messages").coerced, 3);
    assert_eq!(
        duck(&store, "SELECT id, sentiment, response_time_ms, created_at FROM messages ORDER BY id"),
        vec![
            vec![Value::Text("a".into()), Value::Null, Value::Null, Value::Null],
            vec![Value::Text("b".into()), Value::Real(0.25), Value::Integer(30), Value::Text("2025-03-01T00:00:00.000Z".into())],
        ]
    );
}

#[test]
fn a_changed_mapping_rebuilds_its_table() {
    let fx = Fixture::new();
    fx.seed(1, 4, 1);
    let store = fx.open();
    store.sync().unwrap();
    store.close().unwrap();
    let mut mappings = core_mappings();
    let m = mappings.iter_mut().find(|m| m.table == "messages").unwrap();
    m.columns.push(ColumnMapping { source: Some("length(content)".into()), ..ColumnMapping::new("content_chars", ColumnType::Integer) });
    let store = fx.open_with(AnalyticsOptions { mappings, ..Default::default() });
    let r = store.sync().unwrap();
    assert!(table(&r, "messages").full);
    assert!(!table(&r, "conversations").full, "unchanged mappings continue from the snapshot");
    assert_eq!(
        duck(&store, "SELECT content_chars FROM messages WHERE id = 'm0'"),
        fx.sqlite("SELECT length(content) FROM messages WHERE id = 'm0'")
    );
}

#[test]
fn a_failed_sync_changes_nothing() {
    let fx = Fixture::new();
    fx.seed(1, 4, 1);
    let mut mappings = core_mappings();
    mappings.iter_mut().find(|m| m.table == "messages").unwrap().columns[2].source = Some("no_such_column + 1".into());
    let store = fx.open_with(AnalyticsOptions { mappings, ..Default::default() });
    let err = store.sync().unwrap_err();
    assert_eq!(err.code(), "SQL_ERROR", "{err}");
    // conversations were synced before messages failed: rolled back with the rest
    assert_eq!(duck(&store, "SELECT count(*) FROM _aico_sync_state"), vec![vec![Value::Integer(0)]]);
}
