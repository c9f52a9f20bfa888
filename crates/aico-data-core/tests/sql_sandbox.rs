//! Attacks on the plugin sandbox (issue 15, items 9-12), through `SqlStore`'s sandboxed API on
//! real encrypted libSQL files. Each test performs the attack a plugin could make with its
//! sandboxed handle and asserts the typed refusal and that the host's data is intact.

use std::path::Path;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use aico_data_core::folder::Folder;
use aico_data_core::keys::Store;
use aico_data_core::sql::{OwnedRows, Params, SandboxLimits, SandboxPolicy, SqlOptions, SqlStore, Value, Wait};

fn open(dir: &Path, create: bool) -> SqlStore {
    let f = Folder::open(dir, b"pw", create, None).unwrap();
    SqlStore::open(&f.sql_path(), f.store_key(Store::Libsql), SqlOptions::default(), f.created()).unwrap()
}

fn rows(s: &SqlStore, sql: &str) -> Vec<Vec<Value>> {
    let mut r = OwnedRows::default();
    s.query(sql, &Params::None, &mut r, Wait::Block).unwrap();
    r.rows
}

fn ddl() -> SandboxPolicy {
    SandboxPolicy::new("plugin_notes_", true).unwrap()
}

fn dml() -> SandboxPolicy {
    SandboxPolicy::new("plugin_notes_", false).unwrap()
}

fn squery(s: &SqlStore, p: &SandboxPolicy, sql: &str) -> aico_data_core::Result<OwnedRows> {
    let mut r = OwnedRows::default();
    s.sandboxed_query(p, None, sql, &Params::None, &mut r, Wait::Block).map(|_| r)
}

fn code<T: std::fmt::Debug>(r: aico_data_core::Result<T>) -> &'static str {
    r.unwrap_err().code()
}

/// Polls `cond` every millisecond, at most `limit`.
fn wait_for(limit: Duration, cond: impl Fn() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        thread::yield_now();
        thread::sleep(Duration::from_millis(1));
    }
    cond()
}

const CORE: &str = "CREATE TABLE users(id TEXT PRIMARY KEY, name TEXT); \
    CREATE TABLE messages(id INTEGER PRIMARY KEY, body TEXT); \
    CREATE TABLE outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT); \
    INSERT INTO users VALUES ('u1', 'Ada'); INSERT INTO messages(body) VALUES ('private'); \
    INSERT INTO outbox(body) VALUES ('first');";

const PLUGIN: &str = "CREATE TABLE plugin_notes_items(id INTEGER PRIMARY KEY, body TEXT); \
    CREATE TABLE plugin_notes_loot(x TEXT);";

fn setup(dir: &Path) -> SqlStore {
    let s = open(dir, true);
    s.exec_script(CORE, Wait::Block).unwrap();
    s.sandboxed_exec(&ddl(), None, PLUGIN, Wait::Block).unwrap();
    s
}

#[test]
fn sqlite_sequence_is_out_of_reach_of_plugins_and_core_writes_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path());
    let attacks = [
        "UPDATE sqlite_sequence SET seq = 9223372036854775807 WHERE name = 'outbox'",
        "DELETE FROM sqlite_sequence WHERE name = 'outbox'",
        "INSERT INTO sqlite_sequence(name, seq) VALUES ('outbox', 9223372036854775807)",
        "DROP TABLE sqlite_sequence",
    ];
    for policy in [dml(), ddl()] {
        for sql in attacks {
            assert_eq!(code(s.sandboxed_run(&policy, None, sql, &Params::None, Wait::Block)), "NOT_AUTHORIZED", "{sql}");
            assert_eq!(code(s.sandboxed_exec(&policy, None, sql, Wait::Block)), "NOT_AUTHORIZED", "{sql}");
        }
        assert_eq!(code(squery(&s, &policy, "SELECT name, seq FROM sqlite_sequence")), "NOT_AUTHORIZED");
    }
    // and not from a trigger body either (fired by a host write)
    s.sandboxed_exec(
        &ddl(),
        None,
        "CREATE TRIGGER plugin_notes_seq AFTER INSERT ON plugin_notes_items BEGIN \
         UPDATE sqlite_sequence SET seq = 9223372036854775807 WHERE name = 'outbox'; END",
        Wait::Block,
    )
    .unwrap();
    assert_eq!(code(s.run("INSERT INTO plugin_notes_items(body) VALUES ('x')", &Params::None, Wait::Block)), "NOT_AUTHORIZED");
    assert_eq!(rows(&s, "SELECT seq FROM sqlite_sequence WHERE name = 'outbox'"), vec![vec![Value::Integer(1)]]);
    s.run("INSERT INTO outbox(body) VALUES ('second')", &Params::None, Wait::Block).unwrap();
    s.close();
    drop(s);
    let s = open(dir.path(), false);
    let r = s.run("INSERT INTO outbox(body) VALUES ('third')", &Params::None, Wait::Block).unwrap();
    assert_eq!(r.last_insert_rowid, 3, "outbox sequence neither exhausted nor reused");
}

#[test]
fn plugin_trigger_and_view_bodies_keep_the_plugin_rights_when_the_host_fires_them() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path());
    // Creating them is allowed (SQLite does not resolve bodies at CREATE time) ...
    s.sandboxed_exec(
        &ddl(),
        None,
        "CREATE TRIGGER plugin_notes_steal AFTER INSERT ON plugin_notes_items BEGIN \
           INSERT INTO plugin_notes_loot SELECT body FROM messages; \
           UPDATE users SET name = 'pwned'; END; \
         CREATE VIEW plugin_notes_peek AS SELECT name FROM users;",
        Wait::Block,
    )
    .unwrap();
    // ... but their bodies compile under the plugin's policy, whoever fires them.
    assert_eq!(code(s.run("INSERT INTO plugin_notes_items(body) VALUES ('host')", &Params::None, Wait::Block)), "NOT_AUTHORIZED");
    assert_eq!(
        code(s.sandboxed_run(&dml(), None, "INSERT INTO plugin_notes_items(body) VALUES ('p')", &Params::None, Wait::Block)),
        "NOT_AUTHORIZED"
    );
    let mut sink = OwnedRows::default();
    assert_eq!(code(s.query("SELECT * FROM plugin_notes_peek", &Params::None, &mut sink, Wait::Block)), "NOT_AUTHORIZED");
    assert_eq!(code(squery(&s, &dml(), "SELECT * FROM plugin_notes_peek")), "NOT_AUTHORIZED");
    assert_eq!(rows(&s, "SELECT count(*) FROM plugin_notes_loot"), vec![vec![Value::Integer(0)]]);
    assert_eq!(rows(&s, "SELECT name FROM users"), vec![vec![Value::Text("Ada".into())]]);
    // A trigger that stays inside its namespace works from both sides.
    s.sandboxed_exec(
        &ddl(),
        None,
        "DROP TRIGGER plugin_notes_steal; \
         CREATE TRIGGER plugin_notes_log AFTER INSERT ON plugin_notes_items BEGIN \
           INSERT INTO plugin_notes_loot VALUES (new.body); END;",
        Wait::Block,
    )
    .unwrap();
    s.run("INSERT INTO plugin_notes_items(body) VALUES ('host')", &Params::None, Wait::Block).unwrap();
    s.sandboxed_run(&dml(), None, "INSERT INTO plugin_notes_items(body) VALUES ('p')", &Params::None, Wait::Block).unwrap();
    assert_eq!(
        rows(&s, "SELECT x FROM plugin_notes_loot ORDER BY x"),
        vec![vec![Value::Text("host".into())], vec![Value::Text("p".into())]]
    );
}

#[test]
fn a_multibyte_name_across_the_prefix_is_denied_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path());
    // "plugin_notes" is 12 bytes; the prefix is 13; 'é' covers bytes 12..14.
    s.exec_script("CREATE TABLE \"plugin_notesé\"(x); INSERT INTO \"plugin_notesé\" VALUES ('core')", Wait::Block).unwrap();
    assert_eq!(code(squery(&s, &dml(), "SELECT x FROM \"plugin_notesé\"")), "NOT_AUTHORIZED");
    assert_eq!(code(s.sandboxed_exec(&ddl(), None, "CREATE TABLE \"plugin_noteé_x\"(x)", Wait::Block)), "NOT_AUTHORIZED");
    assert_eq!(code(s.sandboxed_exec(&ddl(), None, "CREATE TABLE \"plugin_notesé_x\"(x)", Wait::Block)), "NOT_AUTHORIZED");
    assert_eq!(code(s.sandboxed_exec(&ddl(), None, "CREATE TABLE \"é\"(x)", Wait::Block)), "NOT_AUTHORIZED");
    // a multi-byte trigger name inside the namespace is fine, and so is the store afterwards
    s.sandboxed_exec(&ddl(), None, "CREATE TABLE \"plugin_notes_é\"(x); INSERT INTO \"plugin_notes_é\" VALUES (1)", Wait::Block).unwrap();
    assert_eq!(squery(&s, &dml(), "SELECT x FROM \"plugin_notes_é\"").unwrap().rows, vec![vec![Value::Integer(1)]]);
    assert!(SandboxPolicy::new("plugin_é_", false).is_err());
    assert_eq!(rows(&s, "SELECT x FROM \"plugin_notesé\""), vec![vec![Value::Text("core".into())]]);
}

#[test]
fn plugin_statements_have_a_time_budget_and_size_limits() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path());
    let budget = Duration::from_millis(300);
    let quick = dml().with_limits(SandboxLimits { timeout: budget, ..SandboxLimits::DML });
    let endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c";
    let t0 = Instant::now();
    assert_eq!(code(squery(&s, &quick, endless)), "TIMEOUT");
    assert!(t0.elapsed() < budget + Duration::from_millis(1500), "stopped after {:?}", t0.elapsed());
    // on the writer too, and the interrupted write leaves nothing behind
    let t0 = Instant::now();
    let fill = "INSERT INTO plugin_notes_items(body) \
        SELECT x FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c)";
    assert_eq!(code(s.sandboxed_run(&quick, None, fill, &Params::None, Wait::Block)), "TIMEOUT");
    assert!(t0.elapsed() < budget + Duration::from_millis(1500));
    assert_eq!(rows(&s, "SELECT count(*) FROM plugin_notes_items"), vec![vec![Value::Integer(0)]]);
    // The 8M-row CTE with the default limits: stopped by the row limit or the budget.
    let t0 = Instant::now();
    let mut sink = OwnedRows::default();
    let err = s
        .sandboxed_query(
            &dml(),
            None,
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 8000000) SELECT x FROM c",
            &Params::None,
            &mut sink,
            Wait::Block,
        )
        .unwrap_err();
    assert!(matches!(err.code(), "TIMEOUT" | "INVALID_ARGUMENT"), "{err}");
    assert!(sink.rows.len() <= SandboxLimits::DML.max_result_rows);
    assert!(t0.elapsed() < SandboxLimits::DML.timeout + Duration::from_millis(1500));
    // Huge values are refused where they are made.
    // printf past the length limit yields NULL rather than an error: no 200 MB string either way.
    let r = squery(&s, &dml(), "SELECT printf('%.*c', 200000000, 'x') AS v").unwrap();
    assert!(matches!(r.rows[0][0], Value::Null), "{:?}", r.rows[0][0]);
    for sql in ["SELECT length(randomblob(200000000))", "SELECT zeroblob(200000000)"] {
        assert_eq!(code(squery(&s, &dml(), sql)), "INVALID_ARGUMENT", "{sql}");
    }
    assert_eq!(
        code(s.sandboxed_run(
            &dml(),
            None,
            "INSERT INTO plugin_notes_items(body) VALUES (randomblob(200000000))",
            &Params::None,
            Wait::Block
        )),
        "INVALID_ARGUMENT"
    );
    // A result larger than the limit fails instead of being buffered.
    let small = dml().with_limits(SandboxLimits { max_result_bytes: 1 << 20, ..SandboxLimits::DML });
    let big = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100) SELECT x, randomblob(100000) FROM c";
    assert_eq!(code(squery(&s, &small, big)), "INVALID_ARGUMENT");
    // The host's own limits are untouched afterwards, on readers and the writer.
    assert_eq!(rows(&s, "SELECT length(zeroblob(20000000))"), vec![vec![Value::Integer(20_000_000)]]);
    s.exec_script("CREATE TABLE host_big(b)", Wait::Block).unwrap();
    s.run("INSERT INTO host_big VALUES (zeroblob(20000000))", &Params::None, Wait::Block).unwrap();
}

#[test]
fn slow_plugin_queries_leave_readers_to_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(setup(dir.path()));
    let budget = Duration::from_millis(1000);
    let slow = dml().with_limits(SandboxLimits { timeout: budget, ..SandboxLimits::DML });
    let plugins: Vec<_> = (0..4)
        .map(|_| {
            let (s, p) = (s.clone(), slow.clone());
            thread::spawn(move || {
                squery(&s, &p, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c").map(|_| ())
            })
        })
        .collect();
    assert!(wait_for(Duration::from_secs(5), || s.sandboxed_running() == 4));
    // Three host readers at once, while four plugin queries want readers: none waits for them.
    let t0 = Instant::now();
    let host: Vec<_> = (0..3)
        .map(|_| {
            let s = s.clone();
            thread::spawn(move || rows(&s, "SELECT name FROM users"))
        })
        .collect();
    for h in host {
        assert_eq!(h.join().unwrap(), vec![vec![Value::Text("Ada".into())]]);
    }
    assert!(t0.elapsed() < budget / 2, "host reads waited {:?} behind plugin queries", t0.elapsed());
    for p in plugins {
        let err = p.join().unwrap().unwrap_err();
        assert!(matches!(err.code(), "TIMEOUT" | "BUSY"), "{err}");
    }
}

#[test]
fn close_stops_running_plugin_statements_and_waits_for_them() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(setup(dir.path()));
    let patient = dml().with_limits(SandboxLimits { timeout: Duration::from_secs(60), ..SandboxLimits::DML });
    let reader = {
        let (s, p) = (s.clone(), patient.clone());
        thread::spawn(move || {
            squery(&s, &p, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c").map(|_| ())
        })
    };
    let writer = {
        let (s, p) = (s.clone(), patient);
        thread::spawn(move || {
            s.sandboxed_run(
                &p,
                None,
                "INSERT INTO plugin_notes_items(body) SELECT x FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c)",
                &Params::None,
                Wait::Block,
            )
            .map(|_| ())
        })
    };
    assert!(wait_for(Duration::from_secs(5), || s.sandboxed_running() == 2));
    let t0 = Instant::now();
    s.close();
    assert!(t0.elapsed() < Duration::from_secs(3), "close took {:?}", t0.elapsed());
    assert_eq!(s.sandboxed_running(), 0, "close returned while plugin statements still ran");
    assert_eq!(reader.join().unwrap().unwrap_err().code(), "CLOSED");
    assert_eq!(writer.join().unwrap().unwrap_err().code(), "CLOSED");
    drop(s);
    let s = open(dir.path(), false);
    assert_eq!(rows(&s, "SELECT count(*) FROM plugin_notes_items"), vec![vec![Value::Integer(0)]]);
    assert_eq!(rows(&s, "SELECT name FROM users"), vec![vec![Value::Text("Ada".into())]]);
}
