//! Change tracking in libSQL, installed by the analytics layer itself (idempotently, before
//! each sync): a change log written by triggers inside the writing transaction. The tracked
//! tables themselves are not altered (no extra column), so `SELECT *`, table-rebuild
//! migrations and device sync see them exactly as their schema declares them.
//!
//! ```sql
//! CREATE TABLE _aico_analytics_clock (id INTEGER PRIMARY KEY CHECK (id = 1), epoch TEXT NOT NULL,
//!   pruned_upto INTEGER NOT NULL DEFAULT 0);
//! CREATE TABLE _aico_analytics_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, tbl TEXT NOT NULL, row_key NOT NULL);
//! -- per tracked table T with key K:
//! AFTER INSERT ON T: log (T, NEW.K)
//! AFTER UPDATE ON T: log (T, NEW.K), and (T, OLD.K) when the key changed
//! AFTER DELETE ON T: log (T, OLD.K)
//! ```
//!
//! SQLite has a single writer, so `seq` grows in commit order and a reader's snapshot always
//! holds a prefix of it: the keys logged in (watermark, position] are exactly the rows that
//! changed since the last sync; a logged key whose row is gone (or soft-deleted) is a deletion.
//! `position` is the AUTOINCREMENT high-water mark, which never goes back even when the log is
//! pruned. `epoch` is random per database, so a snapshot made against another database is
//! detected; a restored older copy shows a position below the snapshot's watermark. Entries at
//! or below the watermark of the last durable snapshot are pruned; `pruned_upto` records it, so
//! a snapshot older than that rebuilds instead of missing changes.

use crate::analytics::raw::{quote_ident, quote_literal};
use crate::error::{Error, Result};
use crate::sql::{OwnedRows, Params, SqlConn, SqlStore, Value, Wait};

use super::mapping::TableMapping;

pub const CLOCK_TABLE: &str = "_aico_analytics_clock";
pub const CHANGES_TABLE: &str = "_aico_analytics_changes";

const CLOCK_DDL: &str = "\
CREATE TABLE IF NOT EXISTS _aico_analytics_clock (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  epoch TEXT NOT NULL,
  pruned_upto INTEGER NOT NULL DEFAULT 0
);
INSERT OR IGNORE INTO _aico_analytics_clock (id, epoch) VALUES (1, lower(hex(randomblob(16))));
CREATE TABLE IF NOT EXISTS _aico_analytics_changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  tbl TEXT NOT NULL,
  row_key NOT NULL
);
";

fn trigger_names(table: &str) -> [String; 3] {
    ["insert", "update", "delete"].map(|op| format!("_aico_analytics_{table}_{op}"))
}

/// The triggers that log the changes of one table (after [`CLOCK_DDL`]).
pub fn table_ddl(m: &TableMapping) -> String {
    let t = quote_ident(&m.table);
    let k = quote_ident(&m.key);
    let lit = quote_literal(&m.table);
    let [ins, upd, del] = trigger_names(&m.table).map(|n| quote_ident(&n));
    let log = |row: &str| format!("INSERT INTO _aico_analytics_changes (tbl, row_key) VALUES ({lit}, {row}.{k});");
    format!(
        "CREATE TRIGGER IF NOT EXISTS {ins} AFTER INSERT ON {t} BEGIN\n  {}\nEND;\n\
         CREATE TRIGGER IF NOT EXISTS {upd} AFTER UPDATE ON {t} BEGIN\n  {}\n  \
         INSERT INTO _aico_analytics_changes (tbl, row_key) SELECT {lit}, OLD.{k} WHERE OLD.{k} IS NOT NEW.{k};\nEND;\n\
         CREATE TRIGGER IF NOT EXISTS {del} AFTER DELETE ON {t} BEGIN\n  {}\nEND;\n",
        log("NEW"),
        log("NEW"),
        log("OLD"),
    )
}

fn strings(conn: &SqlConn, sql: &str, params: Vec<Value>) -> Result<Vec<String>> {
    let mut rows = OwnedRows::default();
    conn.query(sql, &Params::Positional(params), &mut rows)?;
    Ok(rows
        .rows
        .into_iter()
        .filter_map(|r| match r.into_iter().next() {
            Some(Value::Text(s)) => Some(s),
            Some(Value::Integer(i)) => Some(i.to_string()),
            _ => None,
        })
        .collect())
}

/// Column names of a libSQL table (empty when it does not exist).
pub(crate) fn table_columns(conn: &SqlConn, table: &str) -> Result<Vec<String>> {
    strings(conn, "SELECT name FROM pragma_table_info(?1)", vec![Value::Text(table.into())])
}

/// Whether all three change-log triggers of `table` exist.
pub(crate) fn is_tracked(conn: &SqlConn, table: &str) -> Result<bool> {
    let names = trigger_names(table);
    let found = strings(
        conn,
        "SELECT name FROM sqlite_schema WHERE type = 'trigger' AND name IN (?1, ?2, ?3)",
        names.iter().map(|n| Value::Text(n.clone())).collect(),
    )?;
    Ok(found.len() == names.len())
}

/// Installs whatever part of the tracking is missing. Returns the tables whose triggers were
/// (re)installed: changes to them may have gone unlogged, so they must be rebuilt.
pub fn ensure_tracking(sql: &SqlStore, mappings: &[TableMapping]) -> Result<Vec<String>> {
    let mut script = String::new();
    let mut installed = Vec::new();
    sql.with_reader(|conn| {
        if table_columns(conn, CLOCK_TABLE)?.is_empty() || table_columns(conn, CHANGES_TABLE)?.is_empty() {
            script += CLOCK_DDL;
        }
        for m in mappings {
            // A table that does not exist yet is tracked at the first sync after it does.
            if !table_columns(conn, &m.table)?.is_empty() && !is_tracked(conn, &m.table)? {
                script += &table_ddl(m);
                installed.push(m.table.clone());
            }
        }
        Ok(())
    })?;
    if !script.is_empty() {
        sql.exec_script(&script, Wait::Block)?;
    }
    Ok(installed)
}

/// The change log as one reader snapshot sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Clock {
    /// Highest sequence number ever logged.
    pub seq: i64,
    pub epoch: String,
    pub pruned_upto: i64,
}

/// Reads the clock; `None` when tracking is not installed.
pub(crate) fn read_clock(conn: &SqlConn) -> Result<Option<Clock>> {
    if table_columns(conn, CLOCK_TABLE)?.is_empty() || table_columns(conn, CHANGES_TABLE)?.is_empty() {
        return Ok(None);
    }
    let mut rows = OwnedRows::default();
    conn.query(
        "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = '_aico_analytics_changes'), 0), epoch, pruned_upto \
         FROM _aico_analytics_clock WHERE id = 1",
        &Params::None,
        &mut rows,
    )?;
    match rows.rows.into_iter().next().as_deref() {
        Some([Value::Integer(seq), Value::Text(epoch), Value::Integer(pruned)]) => {
            Ok(Some(Clock { seq: *seq, epoch: epoch.clone(), pruned_upto: *pruned }))
        }
        Some(_) => Err(Error::Corrupt("the analytics change clock row is malformed".into())),
        None => Ok(None),
    }
}

/// Deletes change-log entries up to `upto` (covered by a durable snapshot) and records it.
pub fn prune_changes(sql: &SqlStore, upto: i64) -> Result<u64> {
    let p = || Params::Positional(vec![Value::Integer(upto)]);
    let res = sql.batch(
        &[
            ("DELETE FROM _aico_analytics_changes WHERE seq <= ?1".into(), p()),
            ("UPDATE _aico_analytics_clock SET pruned_upto = max(pruned_upto, ?1) WHERE id = 1".into(), p()),
        ],
        Wait::Block,
    )?;
    Ok(res.first().map_or(0, |r| r.changes))
}
