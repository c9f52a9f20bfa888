//! Helpers shared by the analytics integration tests: a real data folder with an encrypted
//! libSQL store holding the core tables, and the analytics store opened over it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aico_data_core::analytics::{AnalyticsOptions, AnalyticsStore};
use aico_data_core::folder::Folder;
use aico_data_core::keys::Store;
use aico_data_core::sql::{OwnedRows, Params, SqlOptions, SqlStore, Value, Wait};

pub const PASSWORD: &[u8] = b"analytics test password";
pub const CANARY: &str = "CANARY-analytics-5e1d-plaintext-must-never-hit-disk";

/// The core tables as the schema registry declares them (minus users and FTS).
pub const SCHEMA: &str = "
CREATE TABLE conversations (
  id TEXT PRIMARY KEY NOT NULL, user_id TEXT NOT NULL, title TEXT,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  deleted_at TEXT);
CREATE TABLE messages (
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, conversation_id TEXT NOT NULL, user_id TEXT NOT NULL,
  role TEXT NOT NULL, content TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  sentiment REAL, response_time_ms INTEGER, model TEXT, prompt_tokens INTEGER, completion_tokens INTEGER,
  metadata TEXT, deleted_at TEXT);
CREATE TABLE memories (
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, user_id TEXT NOT NULL, type TEXT NOT NULL,
  content TEXT NOT NULL, importance REAL NOT NULL DEFAULT 0.5, confidence REAL NOT NULL DEFAULT 1.0,
  access_count INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  deleted_at TEXT);
";

/// 2025-03-01T00:00:00Z in ms: the fixed "now" of report tests.
pub const NOW_MS: i64 = 1_740_787_200_000;

pub struct Fixture {
    pub tmp: tempfile::TempDir,
    pub folder: Folder,
    pub sql: Arc<SqlStore>,
}

impl Fixture {
    pub fn new() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let folder = Folder::open(&tmp.path().join("data"), PASSWORD, true, None).unwrap();
        let sql = SqlStore::open(&folder.sql_path(), folder.store_key(Store::Libsql), SqlOptions::default(), true).unwrap();
        sql.exec_script(SCHEMA, Wait::Block).unwrap();
        Fixture { tmp, folder, sql: Arc::new(sql) }
    }

    pub fn dir(&self) -> &Path {
        self.folder.dir()
    }

    pub fn snapshot_path(&self) -> PathBuf {
        self.dir().join(aico_data_core::analytics::SNAPSHOT_FILE)
    }

    pub fn open(&self) -> AnalyticsStore {
        self.open_with(AnalyticsOptions::default())
    }

    pub fn open_with(&self, opts: AnalyticsOptions) -> AnalyticsStore {
        AnalyticsStore::open(self.sql.clone(), self.folder.store_key(Store::Duckdb), self.dir(), opts).unwrap()
    }

    pub fn exec(&self, sql: &str) {
        self.sql.exec_script(sql, Wait::Block).unwrap();
    }

    pub fn run(&self, sql: &str, params: Vec<Value>) {
        self.sql.run(sql, &Params::Positional(params), Wait::Block).unwrap();
    }

    /// Rows of a libSQL query.
    pub fn sqlite(&self, sql: &str) -> Vec<Vec<Value>> {
        let mut rows = OwnedRows::default();
        self.sql.query(sql, &Params::None, &mut rows, Wait::Block).unwrap();
        rows.rows
    }

    /// Inserts `n` messages spread over `days` days before NOW_MS, over `convs` conversations
    /// of two users, with deterministic sentiment and response times.
    pub fn seed(&self, convs: usize, n: usize, days: i64) {
        let mut script = String::new();
        for c in 0..convs {
            script += &format!("INSERT INTO conversations (id, user_id, title) VALUES ('c{c}', 'u{}', 'conversation {c}');", c % 2);
        }
        for i in 0..n {
            let at_ms = NOW_MS - 1 - (i as i64 * 7_919_113) % (days * 86_400_000);
            let at = aico_data_core::analytics::time::format_iso_micros(at_ms * 1000);
            let sentiment = ((i * 37) % 201) as f64 / 100.0 - 1.0;
            let role = if i % 2 == 0 { "user" } else { "assistant" };
            script += &format!(
                "INSERT INTO messages (id, conversation_id, user_id, role, content, created_at, sentiment, response_time_ms) \
                 VALUES ('m{i}', 'c{}', 'u{}', '{role}', 'message {i} {CANARY}', '{at}', {sentiment}, {});",
                i % convs,
                (i % convs) % 2,
                (i * 131) % 5000
            );
        }
        self.sql.exec_script(&script, Wait::Block).unwrap();
    }
}

/// Every byte of every file under `dir`.
pub fn all_bytes(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(all_bytes(&p));
            } else if let Ok(b) = std::fs::read(&p) {
                out.extend(b);
            }
        }
    }
    out
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Rows of an analytics query.
pub fn duck(store: &AnalyticsStore, sql: &str) -> Vec<Vec<Value>> {
    let mut rows = OwnedRows::default();
    store.query(sql, &Params::None, &mut rows).unwrap();
    rows.rows
}

pub fn int(v: &Value) -> i64 {
    match v {
        Value::Integer(i) => *i,
        other => panic!("not an integer: {other:?}"),
    }
}

pub fn real(v: &Value) -> f64 {
    match v {
        Value::Real(f) => *f,
        Value::Integer(i) => *i as f64,
        other => panic!("not a number: {other:?}"),
    }
}
