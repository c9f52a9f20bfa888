//! The analytics store: the engine, the ETL, the reports and the snapshots behind one
//! thread-safe handle. Every operation takes the store's lock; DuckDB parallelises inside
//! each query.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use duckdb::InterruptHandle;
use parking_lot::Mutex;

use super::engine::AnalyticsEngine;
use super::etl::state::{self, STATE_DDL};
use super::etl::tracking::{ensure_tracking, prune_changes};
use super::etl::{self, SyncReport};
use super::events::{AnalyticsEvent, EventLevel, EventLog};
use super::options::AnalyticsOptions;
use super::query;
use super::raw::quote_ident;
use super::reports::{Report, ReportParams};
use super::snapshot::{self, SnapshotInfo, SNAPSHOT_FILE};
use crate::error::{Error, Result};
use crate::keys::StoreKey;
use crate::sql::{Params, RowSink, SqlStore};

struct Inner {
    engine: AnalyticsEngine,
    /// Changed since the last snapshot.
    dirty: bool,
    last_sync: Option<SyncReport>,
    last_snapshot: Option<SnapshotInfo>,
    /// Log position pruned to by this store (snapshots off).
    pruned_to: i64,
}

/// Without snapshots, the change log is pruned once this many entries were synced.
const PRUNE_BATCH: i64 = 4096;

/// Row count of one analytics table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableStatus {
    pub table: String,
    pub rows: u64,
    pub watermark: i64,
}

/// What the store holds and how fresh it is.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyticsStatus {
    pub tables: Vec<TableStatus>,
    pub dirty: bool,
    pub snapshot_path: Option<PathBuf>,
    pub restored: Option<SnapshotInfo>,
    pub last_sync: Option<SyncReport>,
    pub last_snapshot: Option<SnapshotInfo>,
    pub memory_bytes: u64,
}

/// The analytics database of one data folder.
pub struct AnalyticsStore {
    inner: Mutex<Option<Inner>>,
    sql: Arc<SqlStore>,
    key: StoreKey,
    snapshot_path: Option<PathBuf>,
    opts: AnalyticsOptions,
    events: EventLog,
    interrupt: Arc<InterruptHandle>,
    restored: Option<SnapshotInfo>,
}

impl AnalyticsStore {
    /// Opens the analytics store of the folder `dir` over `sql`, keyed with the folder's
    /// DuckDB store key. A snapshot in `dir` is restored; one that fails to open (tampered,
    /// truncated, another key) is reported as an event and the next sync rebuilds instead.
    pub fn open(sql: Arc<SqlStore>, key: StoreKey, dir: &Path, opts: AnalyticsOptions) -> Result<AnalyticsStore> {
        for (i, m) in opts.mappings.iter().enumerate() {
            m.validate()?;
            if opts.mappings[..i].iter().any(|o| o.table == m.table) {
                return Err(Error::invalid(format!("table {} is mapped twice", m.table)));
            }
        }
        let engine = AnalyticsEngine::open(&opts.engine)?;
        engine.execute_batch(STATE_DDL)?;
        let events = EventLog::default();
        let snapshot_path = opts.snapshots.then(|| dir.join(SNAPSHOT_FILE));
        let mut restored = None;
        if let Some(path) = &snapshot_path {
            snapshot::remove_stale_tmp(path);
            match snapshot::restore(&engine, path, &key, &opts.mappings) {
                Ok(info) => {
                    if let Some(i) = &info {
                        events.push(
                            EventLevel::Info,
                            "snapshot_restored",
                            format!("restored {} rows of {} tables in {:.0} ms", i.rows, i.tables, i.ms),
                        );
                    }
                    restored = info;
                }
                Err(e) => events.push(
                    EventLevel::Warn,
                    "snapshot_rejected",
                    format!("the analytics snapshot could not be used and will be rebuilt from libSQL ([{}] {e})", e.code()),
                ),
            }
        }
        let interrupt = engine.connection().interrupt_handle();
        Ok(AnalyticsStore {
            inner: Mutex::new(Some(Inner { engine, dirty: false, last_sync: None, last_snapshot: None, pruned_to: 0 })),
            sql,
            key,
            snapshot_path,
            opts,
            events,
            interrupt,
            restored,
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> Result<T>) -> Result<T> {
        let mut g = self.inner.lock();
        match g.as_mut() {
            Some(inner) => f(inner),
            None => Err(Error::Closed("the analytics store")),
        }
    }

    /// Copies what changed in libSQL since the last sync (everything, the first time).
    pub fn sync(&self) -> Result<SyncReport> {
        self.with(|inner| {
            if self.opts.install_tracking {
                match ensure_tracking(&self.sql, &self.opts.mappings) {
                    Ok(installed) if !installed.is_empty() => {
                        state::invalidate(inner.engine.raw(), &installed)?;
                        self.events.push(
                            EventLevel::Info,
                            "tracking_installed",
                            format!("change tracking installed on {}", installed.join(", ")),
                        );
                    }
                    Ok(_) => {}
                    Err(e) => self.events.push(
                        EventLevel::Warn,
                        "tracking_failed",
                        format!("change tracking could not be installed; syncs rescan whole tables ([{}] {e})", e.code()),
                    ),
                }
            }
            let report = etl::sync(&inner.engine, &self.sql, &self.opts.mappings)?;
            if report.changed() {
                inner.dirty = true;
            }
            if self.snapshot_path.is_none() && report.watermark - inner.pruned_to >= PRUNE_BATCH {
                // Nothing durable depends on older log entries: the next open rebuilds anyway.
                // Batched, so that not every sync takes the writer.
                self.prune(report.watermark);
                inner.pruned_to = report.watermark;
            }
            inner.last_sync = Some(report.clone());
            Ok(report)
        })
    }

    fn prune(&self, upto: i64) {
        if self.sql.is_closed() {
            return; // the next snapshot prunes
        }
        if let Err(e) = prune_changes(&self.sql, upto) {
            self.events.push(EventLevel::Warn, "prune_failed", format!("change log not pruned ([{}] {e})", e.code()));
        }
    }

    /// Runs a read-only query (a single SELECT) and sends its rows to `sink`.
    pub fn query(&self, sql: &str, params: &Params, sink: &mut dyn RowSink) -> Result<()> {
        self.with(|inner| {
            query::ensure_read_only(inner.engine.raw(), sql)?;
            query::rows(inner.engine.connection(), sql, params, sink)
        })
    }

    /// Runs a read-only query and returns its result as Arrow IPC stream bytes.
    pub fn query_arrow(&self, sql: &str, params: &Params) -> Result<Vec<u8>> {
        self.with(|inner| {
            query::ensure_read_only(inner.engine.raw(), sql)?;
            query::arrow_ipc(inner.engine.connection(), sql, params)
        })
    }

    /// Runs a named report.
    pub fn report(&self, report: Report, params: &ReportParams, sink: &mut dyn RowSink) -> Result<()> {
        let bound = report.params(params)?;
        self.with(|inner| query::rows(inner.engine.connection(), report.sql(), &bound, sink))
    }

    /// Writes a sealed snapshot now and prunes the change-log entries it covers.
    pub fn snapshot(&self) -> Result<SnapshotInfo> {
        self.with(|inner| self.snapshot_locked(inner))
    }

    fn snapshot_locked(&self, inner: &mut Inner) -> Result<SnapshotInfo> {
        let path = self.snapshot_path.as_ref().ok_or_else(|| Error::invalid("snapshots are disabled for this analytics store"))?;
        let info = snapshot::write(&inner.engine, path, &self.key, &self.opts.mappings)?;
        inner.dirty = false;
        inner.last_snapshot = Some(info.clone());
        // Tables marked for rebuild (-1) are rebuilt from scratch and need no log entries.
        let states = state::load(inner.engine.connection())?;
        if let Some(min) = states.iter().map(|s| s.watermark).filter(|w| *w > 0).min() {
            self.prune(min);
        }
        Ok(info)
    }

    pub fn status(&self) -> Result<AnalyticsStatus> {
        self.with(|inner| {
            let conn = inner.engine.connection();
            let states = state::load(conn)?;
            let mut tables = Vec::new();
            for m in &self.opts.mappings {
                let rows =
                    conn.query_row(&format!("SELECT count(*) FROM {}", quote_ident(&m.table)), [], |r| r.get::<_, i64>(0)).unwrap_or(0);
                let watermark = states.iter().find(|s| s.table == m.table).map_or(state::REBUILD, |s| s.watermark);
                tables.push(TableStatus { table: m.table.clone(), rows: rows as u64, watermark });
            }
            let memory_bytes = conn
                .query_row("SELECT CAST(coalesce(sum(memory_usage_bytes), 0) AS BIGINT) FROM duckdb_memory()", [], |r| r.get::<_, i64>(0))
                .unwrap_or(0) as u64;
            Ok(AnalyticsStatus {
                tables,
                dirty: inner.dirty,
                snapshot_path: self.snapshot_path.clone(),
                restored: self.restored.clone(),
                last_sync: inner.last_sync.clone(),
                last_snapshot: inner.last_snapshot.clone(),
                memory_bytes,
            })
        })
    }

    /// Events since the last call (snapshot rejected, tracking installed, ...).
    pub fn take_events(&self) -> Vec<AnalyticsEvent> {
        self.events.take()
    }

    /// Cancels the query running now, if any (it fails with `SQL_ERROR` "Interrupted").
    pub fn interrupt(&self) {
        self.interrupt.interrupt();
    }

    /// Writes a final snapshot when something changed (and snapshots are on), then frees
    /// the engine. Later calls fail with `CLOSED`. Idempotent.
    pub fn close(&self) -> Result<Option<SnapshotInfo>> {
        let mut g = self.inner.lock();
        let Some(mut inner) = g.take() else { return Ok(None) };
        if self.snapshot_path.is_some() && self.opts.snapshot_on_close && inner.dirty {
            return self.snapshot_locked(&mut inner).map(Some);
        }
        Ok(None)
    }

    pub fn is_closed(&self) -> bool {
        self.inner.lock().is_none()
    }
}
