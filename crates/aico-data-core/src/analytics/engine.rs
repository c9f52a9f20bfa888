//! The DuckDB engine: one in-memory database, hardened at startup, with two connections: a
//! duckdb-rs connection for callers' queries and a C-API connection for the ETL.

use duckdb::Connection;

use super::options::EngineOptions;
use super::raw::{RawConn, RawDatabase};
use crate::error::{Error, Result};

/// Settings applied before any SQL runs. `lock_configuration` comes last: after it, no
/// statement can change any of them back.
fn hardened_settings(opts: &EngineOptions) -> Vec<(&'static str, String)> {
    vec![
        // No spill files: an operator that outgrows memory fails instead of writing
        // plaintext pages to disk.
        ("temp_directory", String::new()),
        // SQL cannot read or write files or the network: COPY TO, read_csv, ATTACH, INSTALL.
        ("enable_external_access", "false".into()),
        // Offline: no extension is downloaded or loaded behind our back.
        ("autoinstall_known_extensions", "false".into()),
        ("autoload_known_extensions", "false".into()),
        ("allow_community_extensions", "false".into()),
        ("allow_persistent_secrets", "false".into()),
        ("memory_limit", format!("{}MB", opts.memory_limit_mb.max(16))),
        ("threads", opts.threads.max(1).to_string()),
        ("lock_configuration", "true".into()),
    ]
}

fn map(e: duckdb::Error) -> Error {
    super::query::map_duckdb_error(e)
}

/// An in-memory, offline DuckDB that never spills to disk.
pub struct AnalyticsEngine {
    // Field order is drop order: both connections close before the database.
    conn: Connection,
    raw: RawConn,
    /// Held only to outlive the connections above.
    _db: RawDatabase,
}

impl AnalyticsEngine {
    pub fn open(opts: &EngineOptions) -> Result<AnalyticsEngine> {
        let db = RawDatabase::open_in_memory(&hardened_settings(opts))?;
        let raw = RawConn::connect(&db)?;
        // SAFETY: `db` outlives `conn` (field order above) and is not closed by duckdb-rs.
        let conn = unsafe { Connection::open_from_raw(db.handle()) }.map_err(map)?;
        Ok(AnalyticsEngine { conn, raw, _db: db })
    }

    /// Opens an engine with `memory_limit_mb` and `threads` (smoke checks, `doctor`).
    pub fn open_in_memory(memory_limit_mb: u32, threads: u32) -> Result<AnalyticsEngine> {
        Self::open(&EngineOptions { memory_limit_mb, threads })
    }

    /// Runs a statement list without results (internal use: not read-only checked).
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        self.conn.execute_batch(sql).map_err(map)
    }

    /// DuckDB's version string (`SELECT version()`, e.g. `v1.1.3`).
    pub fn version(&self) -> Result<String> {
        self.conn.query_row("SELECT version()", [], |r| r.get::<_, String>(0)).map_err(map)
    }

    /// Build check (used by `doctor` and the foundation tests): a small in-memory engine
    /// (offline, no spill) sums `range(rows)`.
    pub fn smoke(rows: u32) -> Result<i64> {
        Self::open_in_memory(128, 1)?.query_i64(&format!("SELECT sum(i)::BIGINT FROM range({rows}) t(i)"))
    }

    /// Reads one setting's current value as text.
    pub fn setting(&self, name: &str) -> Result<String> {
        self.conn.query_row("SELECT current_setting(?)::VARCHAR", [name], |r| r.get::<_, String>(0)).map_err(map)
    }

    /// Runs a query whose single result is an integer.
    pub fn query_i64(&self, sql: &str) -> Result<i64> {
        self.conn.query_row(sql, [], |r| r.get::<_, i64>(0)).map_err(map)
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn raw(&self) -> &RawConn {
        &self.raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_offline_without_spill_and_aggregates() {
        let e = AnalyticsEngine::open_in_memory(256, 2).unwrap();
        assert_eq!(e.setting("temp_directory").unwrap(), "");
        assert_eq!(e.setting("autoinstall_known_extensions").unwrap(), "false");
        assert_eq!(e.setting("autoload_known_extensions").unwrap(), "false");
        assert_eq!(e.setting("enable_external_access").unwrap(), "false");
        assert_eq!(e.setting("lock_configuration").unwrap(), "true");
        e.execute_batch("CREATE TABLE t AS SELECT range AS i FROM range(100000)").unwrap();
        assert_eq!(e.query_i64("SELECT sum(i) FROM t").unwrap(), 4_999_950_000);
        assert_eq!(e.query_i64("SELECT quantile_disc(i, 0.5) FROM t").unwrap(), 49_999);
    }

    #[test]
    fn settings_cannot_be_changed_back_from_sql() {
        let e = AnalyticsEngine::open_in_memory(64, 1).unwrap();
        for stmt in ["SET temp_directory='/tmp/spill'", "SET enable_external_access=true", "PRAGMA memory_limit='10GB'"] {
            assert!(e.execute_batch(stmt).is_err(), "{stmt} was accepted");
        }
        assert_eq!(e.setting("temp_directory").unwrap(), "");
    }

    #[test]
    fn version_and_smoke() {
        let v = AnalyticsEngine::open_in_memory(64, 1).unwrap().version().unwrap();
        assert!(v.starts_with('v') && v.contains('.'), "{v}");
        assert_eq!(AnalyticsEngine::smoke(1000).unwrap(), 499_500);
    }
}
