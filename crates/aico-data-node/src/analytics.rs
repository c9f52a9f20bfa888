//! The analytics store (DuckDB, derived from libSQL) as a JS class. Every method that can
//! take long (sync, queries, reports, snapshots, close) runs on the libuv pool.

use std::ptr;
use std::sync::Arc;

use aico_data_core::analytics::{AnalyticsOptions, AnalyticsStatus, AnalyticsStore, Report, ReportParams, SnapshotInfo, SyncReport};
use aico_data_core::keys::Store;
use aico_data_core::sql::{OwnedRows, Params};
use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;

use crate::convert::{params_of, JsRowBuilder};
use crate::error::{invalid, to_napi, OrThrow};
use crate::folder::NativeFolder;
use crate::sql::NativeSql;

/// Options of `openAnalytics`.
#[napi(object)]
pub struct AnalyticsOpenOptions {
    /// DuckDB memory limit in MiB (default 1024). Nothing spills to disk beyond it.
    pub memory_limit_mb: Option<u32>,
    /// DuckDB worker threads (default: cores, at most 4).
    pub threads: Option<u32>,
    /// Keep sealed snapshots in the data folder (default true).
    pub snapshots: Option<bool>,
    /// Snapshot on close when something changed (default true).
    pub snapshot_on_close: Option<bool>,
    /// Install change tracking (triggers) in libSQL when missing (default true).
    pub install_tracking: Option<bool>,
}

fn to_options(o: Option<AnalyticsOpenOptions>) -> AnalyticsOptions {
    let mut opts = AnalyticsOptions::default();
    if let Some(o) = o {
        if let Some(v) = o.memory_limit_mb {
            opts.engine.memory_limit_mb = v
        }
        if let Some(v) = o.threads {
            opts.engine.threads = v
        }
        if let Some(v) = o.snapshots {
            opts.snapshots = v
        }
        if let Some(v) = o.snapshot_on_close {
            opts.snapshot_on_close = v
        }
        if let Some(v) = o.install_tracking {
            opts.install_tracking = v
        }
    }
    opts
}

pub struct OpenAnalyticsTask {
    parts: Option<(std::path::PathBuf, aico_data_core::keys::StoreKey, Arc<aico_data_core::sql::SqlStore>)>,
    opts: AnalyticsOptions,
}

impl Task for OpenAnalyticsTask {
    type Output = AnalyticsStore;
    type JsValue = NativeAnalytics;

    fn compute(&mut self) -> Result<AnalyticsStore> {
        let (dir, key, sql) = self.parts.take().ok_or_else(|| invalid("task already ran"))?;
        AnalyticsStore::open(sql, key, &dir, self.opts.clone()).or_throw()
    }

    fn resolve(&mut self, _env: Env, store: AnalyticsStore) -> Result<NativeAnalytics> {
        Ok(NativeAnalytics { store: Arc::new(store) })
    }
}

/// Opens the analytics store of `folder` over its SQL store `sql` (restoring the sealed
/// snapshot when there is one). Resolves with a `NativeAnalytics`.
#[napi(ts_return_type = "Promise<NativeAnalytics>")]
pub fn open_analytics(
    folder: &NativeFolder,
    sql: &NativeSql,
    options: Option<AnalyticsOpenOptions>,
) -> Result<AsyncTask<OpenAnalyticsTask>> {
    let key = folder.store_key(Store::Duckdb)?;
    let dir = std::path::PathBuf::from(folder.dir()?);
    Ok(AsyncTask::new(OpenAnalyticsTask { parts: Some((dir, key, sql.store())), opts: to_options(options) }))
}

/// Parameters of a report (each report reads the ones it documents).
#[napi(object)]
pub struct AnalyticsReportOptions {
    pub days: Option<u32>,
    pub weeks: Option<u32>,
    pub user_id: Option<String>,
    pub role: Option<String>,
    pub utc_offset_minutes: Option<i32>,
    pub window_days: Option<u32>,
    /// "Now" in epoch milliseconds (default: the clock).
    pub now_ms: Option<f64>,
}

#[napi(object)]
pub struct TableSyncJs {
    pub name: String,
    pub inserted: f64,
    pub updated: f64,
    pub deleted: f64,
    pub full: bool,
    pub coerced: f64,
}

#[napi(object)]
pub struct SyncReportJs {
    pub tables: Vec<TableSyncJs>,
    pub watermark: f64,
    pub ms: f64,
}

fn sync_js(r: SyncReport) -> SyncReportJs {
    SyncReportJs {
        tables: r
            .tables
            .into_iter()
            .map(|t| TableSyncJs {
                name: t.table,
                inserted: t.inserted as f64,
                updated: t.updated as f64,
                deleted: t.deleted as f64,
                full: t.full,
                coerced: t.coerced as f64,
            })
            .collect(),
        watermark: r.watermark as f64,
        ms: r.ms,
    }
}

#[napi(object)]
pub struct SnapshotInfoJs {
    pub bytes: f64,
    pub tables: u32,
    pub rows: f64,
    pub ms: f64,
}

fn snapshot_js(s: SnapshotInfo) -> SnapshotInfoJs {
    SnapshotInfoJs { bytes: s.bytes as f64, tables: s.tables, rows: s.rows as f64, ms: s.ms }
}

#[napi(object)]
pub struct AnalyticsTableStatusJs {
    pub name: String,
    pub rows: f64,
    pub watermark: f64,
}

#[napi(object)]
pub struct AnalyticsStatusJs {
    pub tables: Vec<AnalyticsTableStatusJs>,
    pub dirty: bool,
    pub snapshot_path: Option<String>,
    pub restored: Option<SnapshotInfoJs>,
    pub last_sync: Option<SyncReportJs>,
    pub last_snapshot: Option<SnapshotInfoJs>,
    pub memory_bytes: f64,
}

fn status_js(s: AnalyticsStatus) -> AnalyticsStatusJs {
    AnalyticsStatusJs {
        tables: s
            .tables
            .into_iter()
            .map(|t| AnalyticsTableStatusJs { name: t.table, rows: t.rows as f64, watermark: t.watermark as f64 })
            .collect(),
        dirty: s.dirty,
        snapshot_path: s.snapshot_path.map(|p| p.display().to_string()),
        restored: s.restored.map(snapshot_js),
        last_sync: s.last_sync.map(sync_js),
        last_snapshot: s.last_snapshot.map(snapshot_js),
        memory_bytes: s.memory_bytes as f64,
    }
}

#[napi(object)]
pub struct AnalyticsEventJs {
    pub at_ms: f64,
    pub level: String,
    pub kind: String,
    pub message: String,
}

#[napi]
pub struct NativeAnalytics {
    store: Arc<AnalyticsStore>,
}

#[napi]
impl NativeAnalytics {
    #[napi(ts_return_type = "Promise<SyncReportJs>")]
    pub fn sync_async(&self) -> AsyncTask<AnalyticsTask> {
        self.task(AnalyticsOp::Sync)
    }

    /// Rows of a read-only query (objects, or arrays with `arrays`).
    #[napi(ts_return_type = "Promise<unknown[]>")]
    pub fn query_async(&self, sql: String, params: Option<Unknown<'_>>, arrays: Option<bool>) -> Result<AsyncTask<AnalyticsTask>> {
        Ok(self.task(AnalyticsOp::Query(sql, params_of(params)?, arrays.unwrap_or(false))))
    }

    /// The result of a read-only query as Arrow IPC stream bytes.
    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn query_arrow_async(&self, sql: String, params: Option<Unknown<'_>>) -> Result<AsyncTask<AnalyticsTask>> {
        Ok(self.task(AnalyticsOp::Arrow(sql, params_of(params)?)))
    }

    /// Rows of the report `name` (`dailyMetrics`, `activityHeatmap`, ...).
    #[napi(ts_return_type = "Promise<unknown[]>")]
    pub fn report_async(&self, name: String, options: Option<AnalyticsReportOptions>) -> Result<AsyncTask<AnalyticsTask>> {
        let report = Report::parse(&name).or_throw()?;
        let p = options.map_or_else(ReportParams::default, |o| ReportParams {
            days: o.days,
            weeks: o.weeks,
            user_id: o.user_id,
            role: o.role,
            utc_offset_minutes: o.utc_offset_minutes,
            window_days: o.window_days,
            now_ms: o.now_ms.map(|v| v as i64),
        });
        Ok(self.task(AnalyticsOp::Report(report, p)))
    }

    #[napi(ts_return_type = "Promise<SnapshotInfoJs>")]
    pub fn snapshot_async(&self) -> AsyncTask<AnalyticsTask> {
        self.task(AnalyticsOp::Snapshot)
    }

    /// Writes a final snapshot when something changed, then frees the engine.
    #[napi(ts_return_type = "Promise<SnapshotInfoJs | null>")]
    pub fn close_async(&self) -> AsyncTask<AnalyticsTask> {
        self.task(AnalyticsOp::Close)
    }

    #[napi]
    pub fn status(&self) -> Result<AnalyticsStatusJs> {
        self.store.status().map(status_js).or_throw()
    }

    /// Events since the last call (snapshot rejected and rebuilt, tracking installed, ...).
    #[napi]
    pub fn take_events(&self) -> Vec<AnalyticsEventJs> {
        self.store
            .take_events()
            .into_iter()
            .map(|e| AnalyticsEventJs {
                at_ms: e.at_ms as f64,
                level: e.level.as_str().to_string(),
                kind: e.kind.to_string(),
                message: e.message,
            })
            .collect()
    }

    /// Cancels the running query, if any.
    #[napi]
    pub fn interrupt(&self) {
        self.store.interrupt()
    }

    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.store.is_closed()
    }

    fn task(&self, op: AnalyticsOp) -> AsyncTask<AnalyticsTask> {
        AsyncTask::new(AnalyticsTask { store: self.store.clone(), op: Some(op) })
    }
}

pub enum AnalyticsOp {
    Sync,
    Query(String, Params, bool),
    Arrow(String, Params),
    Report(Report, ReportParams),
    Snapshot,
    Close,
}

pub enum AnalyticsOut {
    Sync(SyncReport),
    Rows(OwnedRows, bool),
    Bytes(Vec<u8>),
    Snapshot(Option<SnapshotInfo>),
}

pub struct AnalyticsTask {
    store: Arc<AnalyticsStore>,
    op: Option<AnalyticsOp>,
}

impl Task for AnalyticsTask {
    type Output = AnalyticsOut;
    type JsValue = AnalyticsOutJs;

    fn compute(&mut self) -> Result<AnalyticsOut> {
        let s = &self.store;
        let op = self.op.take().ok_or_else(|| invalid("task already ran"))?;
        let out = match op {
            AnalyticsOp::Sync => s.sync().map(AnalyticsOut::Sync),
            AnalyticsOp::Query(sql, p, arrays) => {
                let mut rows = OwnedRows::default();
                s.query(&sql, &p, &mut rows).map(|_| AnalyticsOut::Rows(rows, arrays))
            }
            AnalyticsOp::Arrow(sql, p) => s.query_arrow(&sql, &p).map(AnalyticsOut::Bytes),
            AnalyticsOp::Report(r, p) => {
                let mut rows = OwnedRows::default();
                s.report(r, &p, &mut rows).map(|_| AnalyticsOut::Rows(rows, false))
            }
            AnalyticsOp::Snapshot => s.snapshot().map(|i| AnalyticsOut::Snapshot(Some(i))),
            AnalyticsOp::Close => s.close().map(AnalyticsOut::Snapshot),
        };
        out.or_throw()
    }

    fn resolve(&mut self, _env: Env, out: AnalyticsOut) -> Result<AnalyticsOutJs> {
        Ok(AnalyticsOutJs(out))
    }
}

/// Converts an async result to JS on the JS thread.
pub struct AnalyticsOutJs(AnalyticsOut);

crate::convert::untyped_js_output!(AnalyticsOutJs);

impl ToNapiValue for AnalyticsOutJs {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        match val.0 {
            AnalyticsOut::Sync(r) => SyncReportJs::to_napi_value(env, sync_js(r)),
            AnalyticsOut::Rows(rows, arrays) => {
                let mut b = JsRowBuilder::new(env, arrays, false)?;
                b.push_owned(&rows).map_err(to_napi)?;
                b.result()
            }
            AnalyticsOut::Bytes(bytes) => Buffer::to_napi_value(env, Buffer::from(bytes)),
            AnalyticsOut::Snapshot(Some(i)) => SnapshotInfoJs::to_napi_value(env, snapshot_js(i)),
            AnalyticsOut::Snapshot(None) => {
                let mut v = ptr::null_mut();
                sys::napi_get_null(env, &mut v);
                Ok(v)
            }
        }
    }
}
