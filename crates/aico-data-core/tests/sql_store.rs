//! The encrypted SQL store against real libSQL files.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use aico_data_core::folder::Folder;
use aico_data_core::keys::Store;
use aico_data_core::sql::{OwnedRows, Params, SqlOptions, SqlStore, Value, Wait};

fn open_new(dir: &Path) -> SqlStore {
    let f = Folder::open(dir, b"pw", true, None).unwrap();
    SqlStore::open(&f.sql_path(), f.store_key(Store::Libsql), SqlOptions::default(), f.created()).unwrap()
}

fn reopen(dir: &Path, pw: &[u8]) -> aico_data_core::Result<SqlStore> {
    let f = Folder::open(dir, pw, false, None)?;
    SqlStore::open(&f.sql_path(), f.store_key(Store::Libsql), SqlOptions::default(), f.created())
}

fn rows(s: &SqlStore, sql: &str, p: Params) -> Vec<Vec<Value>> {
    let mut r = OwnedRows::default();
    s.query(sql, &p, &mut r, Wait::Block).unwrap();
    r.rows
}

fn all_bytes(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            out.extend(fs::read(p).unwrap());
        }
    }
    out
}

#[test]
fn encrypted_at_rest_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let canary = "CANARY-7f3e9a1c-plaintext-must-not-appear";
    {
        let s = open_new(dir.path());
        s.exec_script("CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT)", Wait::Block).unwrap();
        for i in 0..200 {
            s.run("INSERT INTO t(body) VALUES (?)", &Params::Positional(vec![Value::Text(format!("{canary}-{i}"))]), Wait::Block).unwrap();
        }
        // bytes still in the WAL count too: check before and after checkpoint
        let bytes = all_bytes(dir.path());
        assert!(!bytes.windows(canary.len()).any(|w| w == canary.as_bytes()), "canary in WAL/db");
        s.close();
    }
    let bytes = all_bytes(dir.path());
    assert!(!bytes.windows(canary.len()).any(|w| w == canary.as_bytes()));
    let header = &fs::read(dir.path().join("aico.db")).unwrap()[..16];
    assert_ne!(header, b"SQLite format 3\0");
    let s = reopen(dir.path(), b"pw").unwrap();
    let r = rows(&s, "SELECT count(*), min(body) FROM t", Params::None);
    assert_eq!(r[0][0], Value::Integer(200));
    assert_eq!(r[0][1], Value::Text(format!("{canary}-0")));
    assert!(s.integrity_check(true).unwrap().is_empty());
}

#[test]
fn wrong_password_touches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = open_new(dir.path());
        s.exec_script("CREATE TABLE t(x)", Wait::Block).unwrap();
        s.close();
    }
    let before = all_bytes(dir.path());
    let err = reopen(dir.path(), b"not the password").unwrap_err();
    assert_eq!(err.code(), "WRONG_PASSWORD");
    assert_eq!(all_bytes(dir.path()), before);
}

#[test]
fn corrupt_database_is_corrupt_and_untouched() {
    for case in ["random", "truncated", "empty"] {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = open_new(dir.path());
            s.exec_script("CREATE TABLE t(x); INSERT INTO t VALUES (randomblob(100000))", Wait::Block).unwrap();
            s.close();
        }
        let db = dir.path().join("aico.db");
        let _ = fs::remove_file(dir.path().join("aico.db-wal"));
        let _ = fs::remove_file(dir.path().join("aico.db-shm"));
        let len = fs::metadata(&db).unwrap().len() as usize;
        match case {
            "random" => fs::write(&db, (0..len).map(|i| (i * 7919 % 251) as u8).collect::<Vec<_>>()).unwrap(),
            "truncated" => fs::write(&db, &fs::read(&db).unwrap()[..len / 3]).unwrap(),
            _ => fs::write(&db, b"").unwrap(),
        }
        let before = fs::read(&db).unwrap();
        let res = reopen(dir.path(), b"pw").and_then(|s| {
            let problems = s.integrity_check(false)?;
            if problems.is_empty() {
                Ok(())
            } else {
                Err(aico_data_core::Error::Corrupt(problems.join("; ")))
            }
        });
        assert_eq!(res.unwrap_err().code(), "CORRUPT", "case {case}");
        assert_eq!(fs::read(&db).unwrap(), before, "case {case}: file changed");
    }
}

#[test]
fn params_types_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_new(dir.path());
    s.exec_script("CREATE TABLE v(a, b, c, d, e)", Wait::Block).unwrap();
    let big = i64::MAX - 1;
    s.run(
        "INSERT INTO v VALUES (?, ?, ?, ?, ?)",
        &Params::Positional(vec![
            Value::Null,
            Value::Integer(big),
            Value::Real(1.5),
            Value::Text("héllo".into()),
            Value::Blob(vec![0, 1, 2, 255]),
        ]),
        Wait::Block,
    )
    .unwrap();
    let r = rows(&s, "SELECT a, b, c, d, e, typeof(b) FROM v", Params::None);
    assert_eq!(
        r[0],
        vec![
            Value::Null,
            Value::Integer(big),
            Value::Real(1.5),
            Value::Text("héllo".into()),
            Value::Blob(vec![0, 1, 2, 255]),
            Value::Text("integer".into())
        ]
    );
    let named = rows(
        &s,
        "SELECT :x + @y AS s, $z AS z",
        Params::Named(vec![("x".into(), Value::Integer(2)), ("y".into(), Value::Integer(3)), ("z".into(), Value::Null)]),
    );
    assert_eq!(named[0], vec![Value::Integer(5), Value::Null]);
    let err = s.run("INSERT INTO v(a) VALUES (?)", &Params::None, Wait::Block).unwrap_err();
    assert_eq!(err.code(), "INVALID_ARGUMENT");
    let err = s.run("INSERT INTO v(a) VALUES (?)", &Params::Positional(vec![]), Wait::Block).unwrap_err();
    assert_eq!(err.code(), "INVALID_ARGUMENT");
    let mut sink = OwnedRows::default();
    let err = s.query("SELECT :nope", &Params::Named(vec![("other".into(), Value::Null)]), &mut sink, Wait::Block).unwrap_err();
    assert_eq!(err.code(), "INVALID_ARGUMENT");
    assert_eq!(s.run("SELEC 1", &Params::None, Wait::Block).unwrap_err().code(), "SQL_ERROR");
    s.exec_script("CREATE TABLE u(id INTEGER PRIMARY KEY, k TEXT UNIQUE NOT NULL)", Wait::Block).unwrap();
    s.run("INSERT INTO u(k) VALUES ('a')", &Params::None, Wait::Block).unwrap();
    assert_eq!(s.run("INSERT INTO u(k) VALUES ('a')", &Params::None, Wait::Block).unwrap_err().code(), "CONSTRAINT");
    assert_eq!(s.run("INSERT INTO u(k) VALUES (NULL)", &Params::None, Wait::Block).unwrap_err().code(), "CONSTRAINT");
}

#[test]
fn file_functions_attach_and_key_pragmas_are_denied() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_new(dir.path());
    let target = dir.path().join("leak.txt");
    for sql in [
        format!("SELECT writefile('{}', 'secret')", target.display()),
        "SELECT readfile('/etc/passwd')".to_string(),
        "SELECT * FROM fsdir('/')".to_string(),
        format!("ATTACH '{}' AS plain", dir.path().join("plain.db").display()),
        "PRAGMA rekey = 'x'".to_string(),
        "PRAGMA key = 'x'".to_string(),
        "PRAGMA mmap_size = 1000000".to_string(),
        "PRAGMA temp_store = FILE".to_string(),
        "PRAGMA journal_mode = DELETE".to_string(),
    ] {
        let mut sink = OwnedRows::default();
        let err = s.query(&sql, &Params::None, &mut sink, Wait::Block).unwrap_err();
        assert_eq!(err.code(), "NOT_AUTHORIZED", "{sql}: {err}");
    }
    assert!(!target.exists());
    assert!(!dir.path().join("plain.db").exists());
}

#[test]
fn transactions_commit_rollback_and_atomic_batches() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_new(dir.path());
    s.exec_script("CREATE TABLE t(x INTEGER UNIQUE)", Wait::Block).unwrap();
    let tx = s.begin(Wait::Block).unwrap();
    s.tx_run(tx, "INSERT INTO t VALUES (1)", &Params::None).unwrap();
    // other callers see the writer as taken; sync callers fail fast, not deadlock
    assert_eq!(s.run("INSERT INTO t VALUES (9)", &Params::None, Wait::FailIfTxOpen).unwrap_err().code(), "BUSY");
    // readers do not see uncommitted rows; the transaction does
    assert_eq!(rows(&s, "SELECT count(*) FROM t", Params::None)[0][0], Value::Integer(0));
    let mut inside = OwnedRows::default();
    s.tx_query(tx, "SELECT count(*) FROM t", &Params::None, &mut inside).unwrap();
    assert_eq!(inside.rows[0][0], Value::Integer(1));
    s.rollback(tx).unwrap();
    assert_eq!(rows(&s, "SELECT count(*) FROM t", Params::None)[0][0], Value::Integer(0));
    assert_eq!(s.tx_run(tx, "INSERT INTO t VALUES (2)", &Params::None).unwrap_err().code(), "INVALID_ARGUMENT");

    let tx = s.begin(Wait::Block).unwrap();
    s.tx_run(tx, "INSERT INTO t VALUES (1)", &Params::None).unwrap();
    s.commit(tx).unwrap();
    assert_eq!(rows(&s, "SELECT count(*) FROM t", Params::None)[0][0], Value::Integer(1));

    // a batch whose last statement fails leaves nothing behind
    let err = s
        .batch(
            &[
                ("INSERT INTO t VALUES (2)".into(), Params::None),
                ("INSERT INTO t VALUES (3)".into(), Params::None),
                ("INSERT INTO t VALUES (1)".into(), Params::None),
            ],
            Wait::Block,
        )
        .unwrap_err();
    assert_eq!(err.code(), "CONSTRAINT");
    assert_eq!(rows(&s, "SELECT count(*) FROM t", Params::None)[0][0], Value::Integer(1));
    // a script that opens a transaction and never closes it is undone
    let err = s.run("BEGIN", &Params::None, Wait::Block).unwrap_err();
    assert_eq!(err.code(), "INVALID_ARGUMENT");
    assert!(!s.in_transaction());
    s.run("INSERT INTO t VALUES (5)", &Params::None, Wait::Block).unwrap();
}

#[test]
fn pool_serves_concurrent_readers_and_writers() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(open_new(dir.path()));
    s.exec_script("CREATE TABLE c(id INTEGER PRIMARY KEY, n INTEGER)", Wait::Block).unwrap();
    let threads: Vec<_> = (0..6)
        .map(|t| {
            let s = s.clone();
            std::thread::spawn(move || {
                for i in 0..200 {
                    if t % 2 == 0 {
                        let tx = s.begin(Wait::Block).unwrap();
                        s.tx_run(tx, "INSERT INTO c(n) VALUES (?)", &Params::Positional(vec![Value::Integer(i)])).unwrap();
                        s.commit(tx).unwrap();
                    } else {
                        let mut r = OwnedRows::default();
                        s.query("SELECT count(*) FROM c", &Params::None, &mut r, Wait::Block).unwrap();
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(rows(&s, "SELECT count(*) FROM c", Params::None)[0][0], Value::Integer(600));
    let st = s.stats();
    assert!(st.readers_open >= 1 && st.readers_open <= st.readers_max);
    // a query that writes is routed to the writer, not refused by a query_only reader
    let r = rows(&s, "INSERT INTO c(n) VALUES (1) RETURNING id", Params::None);
    assert_eq!(r.len(), 1);
    s.close();
    let mut sink = OwnedRows::default();
    assert_eq!(s.query("SELECT 1", &Params::None, &mut sink, Wait::Block).unwrap_err().code(), "CLOSED");
}

#[test]
fn change_password_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = open_new(dir.path());
        s.exec_script("CREATE TABLE t(x); INSERT INTO t VALUES ('kept')", Wait::Block).unwrap();
        s.close();
    }
    let db_before = fs::read(dir.path().join("aico.db")).unwrap();
    let mut f = Folder::open(dir.path(), b"pw", false, None).unwrap();
    f.change_password(b"pw", b"new pw", None).unwrap();
    assert_eq!(fs::read(dir.path().join("aico.db")).unwrap(), db_before, "no re-encryption");
    assert_eq!(reopen(dir.path(), b"pw").unwrap_err().code(), "WRONG_PASSWORD");
    let s = reopen(dir.path(), b"new pw").unwrap();
    assert_eq!(rows(&s, "SELECT x FROM t", Params::None)[0][0], Value::Text("kept".into()));
}

#[test]
fn fts5_and_json_are_available() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_new(dir.path());
    s.exec_script("CREATE VIRTUAL TABLE f USING fts5(body); INSERT INTO f VALUES ('the quick brown fox'), ('lazy dog')", Wait::Block)
        .unwrap();
    let r = rows(&s, "SELECT body FROM f WHERE f MATCH 'quick' ORDER BY rank", Params::None);
    assert_eq!(r, vec![vec![Value::Text("the quick brown fox".into())]]);
    let j = rows(&s, "SELECT json_extract('{\"a\":[1,2]}', '$.a[1]')", Params::None);
    assert_eq!(j[0][0], Value::Integer(2));
}

#[test]
fn sandbox_confines_statements_to_a_prefix() {
    use aico_data_core::sql::SandboxPolicy;
    let dir = tempfile::tempdir().unwrap();
    let s = open_new(dir.path());
    s.exec_script("CREATE TABLE users(id INTEGER PRIMARY KEY, secret TEXT); INSERT INTO users(secret) VALUES ('core')", Wait::Block)
        .unwrap();
    let ddl = SandboxPolicy::new("plugin_notes_", true).unwrap();
    let dml = SandboxPolicy::new("plugin_notes_", false).unwrap();
    s.sandboxed_exec(
        &ddl,
        None,
        "CREATE TABLE plugin_notes_items(id INTEGER PRIMARY KEY, body TEXT UNIQUE); \
         CREATE INDEX plugin_notes_items_body ON plugin_notes_items(body)",
        Wait::Block,
    )
    .unwrap();
    s.sandboxed_run(&dml, None, "INSERT INTO plugin_notes_items(body) VALUES ('mine')", &Params::None, Wait::Block).unwrap();
    let mut own = OwnedRows::default();
    s.sandboxed_query(&dml, None, "SELECT body FROM plugin_notes_items", &Params::None, &mut own, Wait::Block).unwrap();
    assert_eq!(own.rows, vec![vec![Value::Text("mine".into())]]);
    // reaching outside the prefix is refused, for reads, writes and DDL
    for sql in [
        "SELECT secret FROM users",
        "SELECT * FROM plugin_notes_items JOIN users",
        "DELETE FROM users",
        "DROP TABLE users",
        "CREATE TABLE stolen AS SELECT * FROM users",
        "PRAGMA table_info(users)",
        "BEGIN",
    ] {
        let mut sink = OwnedRows::default();
        let err = s.sandboxed_query(&ddl, None, sql, &Params::None, &mut sink, Wait::Block).unwrap_err();
        assert_eq!(err.code(), "NOT_AUTHORIZED", "{sql}");
    }
    // no DDL without allow_ddl
    let err = s.sandboxed_exec(&dml, None, "CREATE TABLE plugin_notes_more(x)", Wait::Block).unwrap_err();
    assert_eq!(err.code(), "NOT_AUTHORIZED");
    // a statement cached outside the sandbox does not leak into it, and vice versa
    let mut sink = OwnedRows::default();
    s.query("SELECT secret FROM users", &Params::None, &mut sink, Wait::Block).unwrap();
    let mut sink = OwnedRows::default();
    assert!(s.sandboxed_query(&dml, None, "SELECT secret FROM users", &Params::None, &mut sink, Wait::Block).is_err());
    let mut sink = OwnedRows::default();
    s.query("SELECT secret FROM users", &Params::None, &mut sink, Wait::Block).unwrap();
    assert_eq!(sink.rows.len(), 1);
    assert!(SandboxPolicy::new("x", true).is_err());
    assert!(SandboxPolicy::new("sqlite_x", true).is_err());
}

#[test]
fn a_first_open_that_died_after_the_key_file_is_finished_at_the_next_open() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    // The first open wrote the key file and died before creating any store.
    drop(Folder::open(&d, b"pw", true, None).unwrap());
    assert!(!d.join("aico.db").exists());
    let f = Folder::open(&d, b"pw", false, None).unwrap();
    assert!(f.created(), "a folder with only a key file is still brand new");
    drop(f);
    let s = reopen(&d, b"pw").unwrap();
    s.exec_script("CREATE TABLE t(x); INSERT INTO t VALUES (1);", Wait::Block).unwrap();
    s.close();
    assert!(!Folder::open(&d, b"pw", false, None).unwrap().created());
    assert_eq!(rows(&reopen(&d, b"pw").unwrap(), "SELECT x FROM t", Params::None), vec![vec![Value::Integer(1)]]);
    // A database that went missing beside other stores is not silently recreated.
    fs::remove_file(d.join("aico.db")).unwrap();
    fs::create_dir(d.join("kv")).unwrap();
    assert!(!Folder::open(&d, b"pw", false, None).unwrap().created());
    assert!(reopen(&d, b"pw").is_err());
}

#[test]
fn run_many_is_one_atomic_bulk_and_names_the_bad_parameter_set() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_new(dir.path());
    s.exec_script("CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT NOT NULL)", Wait::Block).unwrap();
    let list: Vec<Params> = (0..500).map(|i| Params::Positional(vec![Value::Text(format!("b{i}"))])).collect();
    let r = s.run_many("INSERT INTO t(body) VALUES (?)", &list, Wait::Block).unwrap();
    assert_eq!(r.changes, 500);
    assert_eq!(r.last_insert_rowid, 500);
    // A constraint failure in the middle rolls the whole call back.
    let mut bad = list.clone();
    bad[250] = Params::Positional(vec![Value::Null]);
    let err = s.run_many("INSERT INTO t(body) VALUES (?)", &bad, Wait::Block).unwrap_err();
    assert_eq!(err.code(), "CONSTRAINT");
    // A wrong parameter count names its set, and also changes nothing.
    bad[250] = Params::Positional(vec![]);
    let err = s.run_many("INSERT INTO t(body) VALUES (?)", &bad, Wait::Block).unwrap_err();
    assert_eq!(err.code(), "INVALID_ARGUMENT");
    assert!(err.to_string().contains("parameter set 251"), "{err}");
    assert_eq!(rows(&s, "SELECT count(*) FROM t", Params::None)[0][0], Value::Integer(500));
}

#[test]
fn describe_reports_readonly_columns_and_applies_the_authorizer() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_new(dir.path());
    s.exec_script("CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT)", Wait::Block).unwrap();
    let q = s.describe("SELECT id, body AS text FROM t WHERE id = ?", None).unwrap();
    assert!(q.readonly);
    assert_eq!(q.columns, vec!["id".to_string(), "text".to_string()]);
    assert_eq!(q.parameters, 1);
    let w = s.describe("INSERT INTO t(body) VALUES (:b) RETURNING id", None).unwrap();
    assert!(!w.readonly);
    assert_eq!(w.columns, vec!["id".to_string()]);
    // Denied at prepare time, so a statement object can never hold a denied statement.
    let err = s.describe("SELECT readfile('/etc/passwd')", None).unwrap_err();
    assert_eq!(err.code(), "NOT_AUTHORIZED");
    // Inside a transaction it sees the transaction's own tables.
    let tx = s.begin(Wait::Block).unwrap();
    s.tx_exec_script(tx, "CREATE TABLE fresh(x)").unwrap();
    assert!(s.describe("SELECT x FROM fresh", None).is_err());
    assert_eq!(s.describe("SELECT x FROM fresh", Some(tx)).unwrap().columns, vec!["x".to_string()]);
    s.rollback(tx).unwrap();
}

#[test]
fn run_many_inside_a_transaction_undoes_only_itself() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_new(dir.path());
    s.exec_script("CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT NOT NULL)", Wait::Block).unwrap();
    let tx = s.begin(Wait::Block).unwrap();
    s.tx_run(tx, "INSERT INTO t(body) VALUES ('kept')", &Params::None).unwrap();
    let bad = vec![Params::Positional(vec![Value::Text("a".into())]), Params::Positional(vec![Value::Null])];
    assert_eq!(s.tx_run_many(tx, "INSERT INTO t(body) VALUES (?)", &bad).unwrap_err().code(), "CONSTRAINT");
    let good = vec![Params::Positional(vec![Value::Text("b".into())])];
    assert_eq!(s.tx_run_many(tx, "INSERT INTO t(body) VALUES (?)", &good).unwrap().changes, 1);
    s.commit(tx).unwrap();
    let got = rows(&s, "SELECT body FROM t ORDER BY id", Params::None);
    assert_eq!(got, vec![vec![Value::Text("kept".into())], vec![Value::Text("b".into())]]);
}

#[test]
fn a_cached_select_star_follows_a_schema_change() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_new(dir.path());
    s.exec_script("CREATE TABLE t(a); INSERT INTO t VALUES (1)", Wait::Block).unwrap();
    let star = |s: &SqlStore| {
        let mut r = OwnedRows::default();
        s.query("SELECT * FROM t", &Params::None, &mut r, Wait::Block).unwrap();
        r
    };
    assert_eq!(star(&s).columns, vec!["a".to_string()]);
    // The reader's cached statement is re-prepared by its first step: names and width follow.
    s.exec_script("ALTER TABLE t ADD COLUMN b; UPDATE t SET b = 2", Wait::Block).unwrap();
    let r = star(&s);
    assert_eq!(r.columns, vec!["a".to_string(), "b".to_string()]);
    assert_eq!(r.rows, vec![vec![Value::Integer(1), Value::Integer(2)]]);
    // Without rows the columns are the current ones too.
    s.exec_script("DELETE FROM t; ALTER TABLE t ADD COLUMN c", Wait::Block).unwrap();
    assert_eq!(star(&s).columns, vec!["a".to_string(), "b".to_string(), "c".to_string()]);
}
