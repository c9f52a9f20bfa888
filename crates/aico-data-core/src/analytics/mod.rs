//! DuckDB analytics engine. This module opens the engine safely (offline, no plaintext spill);
//! the ETL and reports build on it.

use duckdb::{Config, Connection};

use crate::error::{Error, Result};

/// An in-memory DuckDB whose temp directory is disabled (`temp_directory = ''`), so operators
/// never spill plaintext pages to disk, and whose extension autoinstall/autoload are off, so
/// it never reaches the network.
pub struct AnalyticsEngine {
    conn: Connection,
}

fn map(e: duckdb::Error) -> Error {
    Error::Sql(format!("duckdb: {e}"))
}

impl AnalyticsEngine {
    pub fn open_in_memory(memory_limit_mb: u32, threads: u32) -> Result<AnalyticsEngine> {
        let config = Config::default()
            .enable_autoload_extension(false)
            .map_err(map)?
            .with("autoinstall_known_extensions", "false")
            .map_err(map)?
            .with("temp_directory", "")
            .map_err(map)?
            .with("memory_limit", &format!("{memory_limit_mb}MB"))
            .map_err(map)?
            .threads(threads.max(1) as i64)
            .map_err(map)?;
        let conn = Connection::open_in_memory_with_flags(config).map_err(map)?;
        Ok(AnalyticsEngine { conn })
    }

    /// Runs a statement list without results.
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        self.conn.execute_batch(sql).map_err(map)
    }

    /// Reads one setting's current value as text.
    pub fn setting(&self, name: &str) -> Result<String> {
        self.conn
            .query_row("SELECT current_setting(?)::VARCHAR", [name], |r| r.get::<_, String>(0))
            .map_err(map)
    }

    /// Runs a query whose single result is an integer.
    pub fn query_i64(&self, sql: &str) -> Result<i64> {
        self.conn.query_row(sql, [], |r| r.get::<_, i64>(0)).map_err(map)
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
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
        e.execute_batch("CREATE TABLE t AS SELECT range AS i FROM range(100000)").unwrap();
        assert_eq!(e.query_i64("SELECT sum(i) FROM t").unwrap(), 4_999_950_000);
        assert_eq!(
            e.query_i64("SELECT CAST(quantile_cont(i, 0.5) AS BIGINT) FROM t").unwrap(),
            49_999
        );
    }
}
