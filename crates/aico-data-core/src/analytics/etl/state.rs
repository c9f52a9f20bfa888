//! What the analytics database knows about its own freshness: per table, the change-clock
//! watermark it is synced to, the mapping fingerprint it was built with, and the clock epoch.
//! Kept in DuckDB itself, so a snapshot carries it.

use duckdb::Connection;

use crate::analytics::column_type::ColumnType;
use crate::analytics::query::map_duckdb_error;
use crate::analytics::raw::{quote_literal, RawConn};
use crate::error::Result;

pub(crate) const STATE_TABLE: &str = "_aico_sync_state";
pub(crate) const STATE_DDL: &str =
    "CREATE TABLE IF NOT EXISTS _aico_sync_state (tbl VARCHAR, watermark BIGINT, fingerprint VARCHAR, epoch VARCHAR)";
/// Column types of [`STATE_TABLE`] (for snapshot restore).
pub(crate) const STATE_TYPES: [ColumnType; 4] = [ColumnType::Text, ColumnType::Integer, ColumnType::Text, ColumnType::Text];

/// Watermark of a table that must be rebuilt at the next sync (untracked, or never synced).
pub(crate) const REBUILD: i64 = -1;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableState {
    pub table: String,
    pub watermark: i64,
    pub fingerprint: String,
    pub epoch: String,
}

pub(crate) fn load(conn: &Connection) -> Result<Vec<TableState>> {
    let mut stmt = conn.prepare("SELECT tbl, watermark, fingerprint, epoch FROM _aico_sync_state").map_err(map_duckdb_error)?;
    let rows = stmt
        .query_map([], |r| Ok(TableState { table: r.get(0)?, watermark: r.get(1)?, fingerprint: r.get(2)?, epoch: r.get(3)? }))
        .map_err(map_duckdb_error)?;
    rows.collect::<duckdb::Result<Vec<_>>>().map_err(map_duckdb_error)
}

pub(crate) fn save(raw: &RawConn, s: &TableState) -> Result<()> {
    raw.execute(&format!(
        "DELETE FROM _aico_sync_state WHERE tbl = {t}; INSERT INTO _aico_sync_state VALUES ({t}, {}, {}, {})",
        s.watermark,
        quote_literal(&s.fingerprint),
        quote_literal(&s.epoch),
        t = quote_literal(&s.table),
    ))?;
    Ok(())
}

/// Forgets what is known about `tables`: they are rebuilt at the next sync.
pub(crate) fn invalidate(raw: &RawConn, tables: &[String]) -> Result<()> {
    for t in tables {
        raw.execute(&format!("UPDATE _aico_sync_state SET watermark = {REBUILD} WHERE tbl = {}", quote_literal(t)))?;
    }
    Ok(())
}
