//! Crash at every step of a rotation, then open: the rotation must be finished, every store
//! readable under the new key, nothing of the journal left.

use std::path::Path;

use super::*;
use crate::folder::Folder;
use crate::keys::KdfParams;
use crate::kv::{KvOptions, KvStore, Ttl};
use crate::sql::{OwnedRows, Params, SqlOptions, SqlStore, Value, Wait};

const PW: &[u8] = b"rotation test password";
const SECRET_PURPOSE: &str = "sync/identity/sign";

fn secret_of(name: &str) -> String {
    format!("private key of {name}")
}

fn make_folder(dir: &Path) {
    let f = Folder::open(dir, PW, true, Some(KdfParams::DEFAULT)).unwrap();
    let sql = SqlStore::open(&f.sql_path(), f.store_key(Store::Libsql), SqlOptions::default(), true).unwrap();
    sql.exec_script("CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) INSERT INTO t(body) SELECT 'row ' || i FROM n;", Wait::Block).unwrap();
    // A secret sealed with the data key inside libSQL, declared for re-sealing.
    let key = f.subkey(SECRET_PURPOSE).unwrap();
    let mut script = format!(
        "CREATE TABLE {SEALED_COLUMNS}(table_name TEXT, column_name TEXT, purpose TEXT, aad_sql TEXT, PRIMARY KEY (table_name, column_name));
         INSERT INTO {SEALED_COLUMNS} VALUES ('secrets', 'sealed', '{SECRET_PURPOSE}', 'name || ''|v1''');
         CREATE TABLE secrets(name TEXT PRIMARY KEY, sealed BLOB);"
    );
    for name in ["sign", "kex"] {
        let sealed = crate::keys::aead::seal(key.bytes(), secret_of(name).as_bytes(), format!("{name}|v1").as_bytes()).unwrap();
        script.push_str(&format!("INSERT INTO secrets VALUES ('{name}', x'{}');", hex::encode(sealed)));
    }
    sql.exec_script(&script, Wait::Block).unwrap();
    sql.close();
    let kv = KvStore::open(&dir.join(KV_DIR), f.store_key(Store::Rocksdb), KvOptions::default()).unwrap();
    for i in 0..300 {
        kv.put("config", format!("k{i:04}").as_bytes(), format!("v{i}").as_bytes(), Ttl::Default).unwrap();
    }
    kv.close().unwrap();
    fs::write(dir.join(SNAPSHOT_FILE), b"sealed snapshot stand-in").unwrap();
    fs::create_dir_all(dir.join(CHROMA_DIR)).unwrap();
}

/// The journal and next key file as `start` writes them; returns (old, new) keys.
fn begin(dir: &Path) -> (DataKey, DataKey) {
    let kf = KeyFile::read(&dir.join(KEYFILE_NAME)).unwrap();
    let kek = kf.derive_kek(PW).unwrap();
    let old = kf.unlock_with_kek(&kek).unwrap();
    let next_kf = KeyFile::wrap_with_kek(&[9u8; 32], [7u8; 16], &kek, kf.params, kf.salt()).unwrap();
    fsutil::write_atomic(&dir.join(NEXT_KEYFILE), &next_kf.to_bytes()).unwrap();
    State { phase: Phase::Sql, old_key_id: old.key_id(), new_key_id: [7u8; 16] }.write(dir).unwrap();
    let new = next_kf.unlock_with_kek(&kek).unwrap();
    (old, new)
}

fn check_rotated(dir: &Path, expect_new: Option<[u8; 16]>) {
    let f = Folder::open(dir, PW, false, None).unwrap();
    if let Some(id) = expect_new {
        assert_eq!(f.key_id(), id);
    }
    assert!(!dir.join(STATE_FILE).exists());
    assert!(!dir.join(NEXT_KEYFILE).exists());
    let sql = SqlStore::open(&f.sql_path(), f.store_key(Store::Libsql), SqlOptions::default(), false).unwrap();
    let mut rows = OwnedRows::default();
    sql.query("SELECT count(*), max(body) FROM t", &Params::None, &mut rows, Wait::Block).unwrap();
    assert_eq!(rows.rows[0][0], Value::Integer(500));
    // The declared secrets open under the current key (re-sealed with the database).
    let mut secrets = OwnedRows::default();
    sql.query("SELECT name, sealed FROM secrets ORDER BY name", &Params::None, &mut secrets, Wait::Block).unwrap();
    let key = f.subkey(SECRET_PURPOSE).unwrap();
    assert_eq!(secrets.rows.len(), 2);
    for row in &secrets.rows {
        let (Value::Text(name), Value::Blob(sealed)) = (&row[0], &row[1]) else { panic!("unexpected row {row:?}") };
        let plain = crate::keys::aead::open(key.bytes(), sealed, format!("{name}|v1").as_bytes()).unwrap();
        assert_eq!(plain, secret_of(name).as_bytes());
    }
    sql.close();
    let kv = KvStore::open(&dir.join(KV_DIR), f.store_key(Store::Rocksdb), KvOptions::default()).unwrap();
    for i in [0, 150, 299] {
        assert_eq!(kv.get("config", format!("k{i:04}").as_bytes()).unwrap().unwrap().bytes(), format!("v{i}").as_bytes());
    }
    kv.close().unwrap();
}

#[test]
fn a_stray_next_key_file_without_journal_is_dropped() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("d");
    make_folder(&dir);
    let (old, _) = begin(&dir);
    fs::remove_file(dir.join(STATE_FILE)).unwrap();
    check_rotated(&dir, Some(old.key_id())); // nothing rotated, the old key stays
}

#[test]
fn resumes_after_a_crash_in_the_sql_copy() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("d");
    make_folder(&dir);
    let (_, new) = begin(&dir);
    fs::write(dir.join("aico.db.rotating"), b"half a copy").unwrap();
    check_rotated(&dir, Some(new.key_id()));
    assert!(!dir.join("aico.db.rotating").exists());
    assert!(!dir.join(SNAPSHOT_FILE).exists() && !dir.join(CHROMA_DIR).exists());
}

#[test]
fn resumes_after_the_sql_swap_before_the_journal_moved_on() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("d");
    make_folder(&dir);
    let (old, new) = begin(&dir);
    crate::sql::backup::rekey_file(&dir.join(SQL_FILE), &old.store_key(Store::Libsql), &new.store_key(Store::Libsql), |c| {
        reseal::reseal_columns(c, &old, &new)
    })
    .unwrap();
    check_rotated(&dir, Some(new.key_id()));
}

#[test]
fn resumes_from_every_journalled_phase() {
    for stop in [Phase::Kv, Phase::Derived, Phase::Commit] {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("d");
        make_folder(&dir);
        let (old, new) = begin(&dir);
        let state = State::read(&dir).unwrap().unwrap();
        run(&dir, state, &old, &new, &Progress::new(), false, Some(stop)).unwrap();
        assert_eq!(State::read(&dir).unwrap().unwrap().phase, stop);
        check_rotated(&dir, Some(new.key_id()));
    }
}

#[test]
fn resumes_after_the_key_swap_before_the_journal_was_removed() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("d");
    make_folder(&dir);
    let (old, new) = begin(&dir);
    let state = State::read(&dir).unwrap().unwrap();
    run(&dir, state, &old, &new, &Progress::new(), false, Some(Phase::Commit)).unwrap();
    fs::rename(dir.join(NEXT_KEYFILE), dir.join(KEYFILE_NAME)).unwrap();
    check_rotated(&dir, Some(new.key_id()));
}

#[test]
fn a_full_rotation_then_a_second_one() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("d");
    make_folder(&dir);
    let mut f = Folder::open(&dir, PW, false, None).unwrap();
    let first = f.key_id();
    let info = f.rotate_keys(&Progress::new()).unwrap();
    assert_eq!(info.old_key_id, hex::encode(first));
    assert_eq!(info.dropped, vec!["analytics".to_string(), "chroma".to_string()]);
    assert!(info.sql_pages > 0 && info.kv_records >= 300);
    let second = f.key_id();
    assert_ne!(first, second);
    let info = f.rotate_keys(&Progress::new()).unwrap();
    assert_eq!(info.old_key_id, hex::encode(second));
    let third = f.key_id();
    drop(f);
    check_rotated(&dir, Some(third));
}

#[test]
fn a_sealed_value_that_does_not_open_stops_the_rotation_before_the_swap() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("d");
    make_folder(&dir);
    let mut f = Folder::open(&dir, PW, false, None).unwrap();
    let first = f.key_id();
    {
        let sql = SqlStore::open(&f.sql_path(), f.store_key(Store::Libsql), SqlOptions::default(), false).unwrap();
        sql.exec_script("UPDATE secrets SET sealed = x'00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff' WHERE name = 'kex'", Wait::Block).unwrap();
        sql.close();
    }
    let err = f.rotate_keys(&Progress::new()).unwrap_err();
    assert_eq!(err.code(), "CORRUPT", "{err}");
    assert_eq!(f.key_id(), first);
    assert!(!dir.join(STATE_FILE).exists() && !dir.join(NEXT_KEYFILE).exists() && !dir.join("aico.db.rotating").exists());
    drop(f);
    let f = Folder::open(&dir, PW, false, None).unwrap();
    assert_eq!(f.key_id(), first);
    // The database is still whole under the old key.
    let sql = SqlStore::open(&f.sql_path(), f.store_key(Store::Libsql), SqlOptions::default(), false).unwrap();
    let mut rows = OwnedRows::default();
    sql.query("SELECT count(*) FROM t", &Params::None, &mut rows, Wait::Block).unwrap();
    assert_eq!(rows.rows[0][0], Value::Integer(500));
    sql.close();
}
