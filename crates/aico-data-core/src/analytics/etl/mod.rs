//! Incremental ETL from libSQL into DuckDB, entirely in Rust.
//!
//! One sync is one libSQL read transaction (a consistent snapshot of every source table)
//! and one DuckDB transaction (callers' queries see the previous state until it commits;
//! a failure leaves nothing half-applied). Per table:
//!
//! - **full** (first sync, mapping changed, clock epoch changed, tracking missing, watermark
//!   outside the clock's range): the table is recreated and every live row is appended;
//! - **incremental**: the keys logged in (watermark, seq] are joined with their current rows
//!   and appended to a staging table, flagged as deleted when the row is gone or soft-deleted
//!   (the mapping's `soft_delete` column set); then, in DuckDB, rows with those keys are
//!   deleted and the staged live rows inserted.
//!
//! Rows travel from SQLite's statement straight into DuckDB data chunks ([`ChunkAppender`]),
//! with no per-row JavaScript and no intermediate row objects.

pub mod mapping;
pub(crate) mod state;
pub mod tracking;

use std::time::Instant;

use super::chunk::ChunkAppender;
use super::column_type::ColumnType;
use super::engine::AnalyticsEngine;
use super::raw::{quote_ident, RawConn};
use crate::error::Result;
use crate::sql::{Params, SqlConn, SqlStore, Value};
pub use mapping::{core_mappings, ColumnMapping, TableMapping};
use state::{TableState, REBUILD};
use tracking::{is_tracked, read_clock, table_columns, Clock};

/// What one sync did to one table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TableSync {
    pub table: String,
    pub inserted: u64,
    pub updated: u64,
    pub deleted: u64,
    /// The table was rebuilt from scratch (`inserted` is then its row count).
    pub full: bool,
    /// Values that did not fit their column type and were stored as NULL.
    pub coerced: u64,
}

/// What one sync did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SyncReport {
    pub tables: Vec<TableSync>,
    /// The change-clock position now reflected in DuckDB (-1 without change tracking).
    pub watermark: i64,
    pub ms: f64,
}

impl SyncReport {
    pub fn changed(&self) -> bool {
        self.tables.iter().any(|t| t.full || t.inserted + t.updated + t.deleted > 0)
    }
}

/// Brings the analytics tables up to date with libSQL.
pub(crate) fn sync(engine: &AnalyticsEngine, sql: &SqlStore, mappings: &[TableMapping]) -> Result<SyncReport> {
    let started = Instant::now();
    let states = state::load(engine.connection())?;
    let raw = engine.raw();
    raw.execute("BEGIN TRANSACTION")?;
    let out = sql.with_reader(|conn| {
        conn.exec_script("BEGIN")?;
        let res = sync_all(raw, conn, mappings, &states);
        let end = conn.exec_script("COMMIT");
        let res = res?;
        end.map(|_| res)
    });
    match out {
        Ok((tables, watermark)) => {
            raw.execute("COMMIT")?;
            Ok(SyncReport { tables, watermark, ms: started.elapsed().as_secs_f64() * 1000.0 })
        }
        Err(e) => {
            let _ = raw.execute("ROLLBACK");
            Err(e)
        }
    }
}

fn sync_all(raw: &RawConn, conn: &SqlConn, mappings: &[TableMapping], states: &[TableState]) -> Result<(Vec<TableSync>, i64)> {
    let clock = read_clock(conn)?;
    let mut out = Vec::with_capacity(mappings.len());
    for m in mappings {
        let present = table_columns(conn, &m.table)?;
        let fingerprint = m.fingerprint();
        let prev = states.iter().find(|s| s.table == m.table);
        let tracked = !present.is_empty() && is_tracked(conn, &m.table)?;
        let clock_here = clock.as_ref().filter(|_| tracked);
        let (report, watermark) = if present.is_empty() {
            // No source table (yet, or any more): an empty analytics table keeps reports working.
            raw.execute(&m.create_sql(&m.table, false, false))?;
            (TableSync { table: m.table.clone(), ..Default::default() }, REBUILD)
        } else {
            match (clock_here, prev) {
                (Some(c), Some(p)) if can_continue(p, c, &fingerprint) => (incremental(raw, conn, m, &present, p.watermark, c.seq)?, c.seq),
                (c, _) => (full(raw, conn, m, &present)?, c.map_or(REBUILD, |c| c.seq)),
            }
        };
        let epoch = clock.as_ref().map_or(String::new(), |c| c.epoch.clone());
        state::save(raw, &TableState { table: m.table.clone(), watermark, fingerprint, epoch })?;
        out.push(report);
    }
    Ok((out, clock.map_or(REBUILD, |c| c.seq)))
}

/// Whether a table synced to `p` can catch up incrementally with clock `c`.
fn can_continue(p: &TableState, c: &Clock, fingerprint: &str) -> bool {
    p.fingerprint == fingerprint && p.epoch == c.epoch && p.watermark >= 0 && p.watermark <= c.seq && p.watermark >= c.pruned_upto
}

fn soft_delete_present<'m>(m: &'m TableMapping, present: &[String]) -> Option<&'m str> {
    m.soft_delete.as_deref().filter(|sd| present.iter().any(|p| p.eq_ignore_ascii_case(sd)))
}

fn full(raw: &RawConn, conn: &SqlConn, m: &TableMapping, present: &[String]) -> Result<TableSync> {
    raw.execute(&m.create_sql(&m.table, false, false))?;
    let t = quote_ident(&m.table);
    let mut q = format!("SELECT {} FROM {t}", m.select_list(present, None)?);
    if let Some(sd) = soft_delete_present(m, present) {
        q += &format!(" WHERE {t}.{} IS NULL", quote_ident(sd));
    }
    let mut app = ChunkAppender::new(raw, &m.table, &m.types())?;
    conn.query(&q, &Params::None, &mut app)?;
    let coerced = app.coerced();
    let inserted = app.finish()?;
    Ok(TableSync { table: m.table.clone(), inserted, full: true, coerced, ..Default::default() })
}

fn incremental(raw: &RawConn, conn: &SqlConn, m: &TableMapping, present: &[String], from: i64, to: i64) -> Result<TableSync> {
    let mut report = TableSync { table: m.table.clone(), ..Default::default() };
    if from == to {
        return Ok(report);
    }
    let t = quote_ident(&m.table);
    let k = quote_ident(&m.key);
    let stage_name = format!("_aico_stage_{}", m.table);
    let stage = quote_ident(&stage_name);

    let mut deleted = format!("{t}.{k} IS NULL");
    if let Some(sd) = soft_delete_present(m, present) {
        deleted += &format!(" OR {t}.{} IS NOT NULL", quote_ident(sd));
    }
    let q = format!(
        "SELECT {}, {deleted} \
         FROM (SELECT DISTINCT row_key FROM _aico_analytics_changes WHERE tbl = ?3 AND seq > ?1 AND seq <= ?2) _chg \
         LEFT JOIN {t} ON {t}.{k} = _chg.row_key",
        m.select_list(present, Some("_chg.row_key"))?
    );
    raw.execute(&m.create_sql(&stage_name, false, true))?;
    let mut types = m.types();
    types.push(ColumnType::Boolean);
    let mut app = ChunkAppender::new(raw, &stage_name, &types)?;
    let range = Params::Positional(vec![Value::Integer(from), Value::Integer(to), Value::Text(m.table.clone())]);
    conn.query(&q, &range, &mut app)?;
    report.coerced = app.coerced();
    let staged = app.finish()?;

    if staged > 0 {
        let counts = raw.query_i64s(&format!(
            "SELECT count(*) FILTER (WHERE NOT s._deleted AND t.{k} IS NULL), \
                    count(*) FILTER (WHERE NOT s._deleted AND t.{k} IS NOT NULL) \
             FROM {stage} s LEFT JOIN {t} t ON t.{k} = s.{k}"
        ))?;
        let removed = raw.execute(&format!("DELETE FROM {t} WHERE {k} IN (SELECT {k} FROM {stage})"))?;
        let cols: Vec<String> = m.columns.iter().map(|c| quote_ident(&c.name)).collect();
        raw.execute(&format!("INSERT INTO {t} SELECT {} FROM {stage} WHERE NOT _deleted", cols.join(", ")))?;
        report.inserted = counts.first().copied().flatten().unwrap_or(0) as u64;
        report.updated = counts.get(1).copied().flatten().unwrap_or(0) as u64;
        report.deleted = removed.saturating_sub(report.updated);
    }
    raw.execute(&format!("DROP TABLE {stage}"))?;
    Ok(report)
}
