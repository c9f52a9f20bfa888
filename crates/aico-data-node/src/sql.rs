//! The encrypted SQL store as a JS class: synchronous methods run on the JS thread (hot
//! paths), `*Async` methods run on the libuv pool and resolve with the same shapes.

use std::ptr;
use std::sync::Arc;

use aico_data_core::sql::{OwnedRows, Params, RunResult, SandboxPolicy, SqlStore, Stmt, TxId, Wait};
use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;

use crate::convert::{params_of, read_params, read_string, JsRowBuilder, RowShape};
use crate::error::{invalid, OrThrow};
use crate::statement::NativeStatement;

#[napi]
pub struct NativeSql {
    store: Arc<SqlStore>,
}

impl NativeSql {
    pub fn new(store: SqlStore) -> Self {
        NativeSql { store: Arc::new(store) }
    }

    /// The shared store, for Rust-side consumers (the analytics ETL).
    pub(crate) fn store(&self) -> Arc<SqlStore> {
        self.store.clone()
    }
}

/// Runs `query` into a row builder (objects, or arrays with `arrays`; `one` stops after a row)
/// and returns the rows as JS values.
fn rows_js<'e>(
    env: &'e Env,
    arrays: Option<bool>,
    one: Option<bool>,
    query: impl FnOnce(&mut JsRowBuilder) -> aico_data_core::Result<()>,
) -> Result<Unknown<'e>> {
    let mut b = unsafe { JsRowBuilder::new(env.raw(), arrays.unwrap_or(false), one.unwrap_or(false))? };
    query(&mut b).or_throw()?;
    Ok(unknown(env, unsafe { b.result()? }))
}

pub(crate) fn tx_id(id: i64) -> Result<TxId> {
    u64::try_from(id).map_err(|_| invalid("transaction id must be a positive integer"))
}

pub(crate) unsafe fn run_result_js(env: sys::napi_env, r: RunResult) -> Result<sys::napi_value> {
    let mut obj = ptr::null_mut();
    sys::napi_create_object(env, &mut obj);
    let mut changes = ptr::null_mut();
    sys::napi_create_double(env, r.changes as f64, &mut changes);
    let mut rowid = ptr::null_mut();
    if r.last_insert_rowid.unsigned_abs() < (1u64 << 53) {
        sys::napi_create_int64(env, r.last_insert_rowid, &mut rowid);
    } else {
        sys::napi_create_bigint_int64(env, r.last_insert_rowid, &mut rowid);
    }
    sys::napi_set_named_property(env, obj, c"changes".as_ptr(), changes);
    sys::napi_set_named_property(env, obj, c"lastInsertRowid".as_ptr(), rowid);
    Ok(obj)
}

/// Reads `[[sql, params?], ...]` or `[sql, ...]` for batches.
unsafe fn read_stmts(env: sys::napi_env, list: sys::napi_value) -> Result<Vec<Stmt>> {
    let mut is_array = false;
    sys::napi_is_array(env, list, &mut is_array);
    if !is_array {
        return Err(invalid("batch takes an array of statements"));
    }
    let mut len = 0u32;
    sys::napi_get_array_length(env, list, &mut len);
    let mut out = Vec::with_capacity(len as usize);
    for i in 0..len {
        let mut el = ptr::null_mut();
        sys::napi_get_element(env, list, i, &mut el);
        let mut t = 0;
        sys::napi_typeof(env, el, &mut t);
        if t == sys::ValueType::napi_string {
            out.push((read_string(env, el)?, Params::None));
            continue;
        }
        let mut pair = false;
        sys::napi_is_array(env, el, &mut pair);
        if !pair {
            return Err(invalid(format!("batch statement {}: expected a string or [sql, params]", i + 1)));
        }
        let mut sql = ptr::null_mut();
        sys::napi_get_element(env, el, 0, &mut sql);
        sys::napi_typeof(env, sql, &mut t);
        if t != sys::ValueType::napi_string {
            return Err(invalid(format!("batch statement {}: SQL must be a string", i + 1)));
        }
        let mut p = ptr::null_mut();
        sys::napi_get_element(env, el, 1, &mut p);
        let params = read_params(env, p).map_err(|e| invalid(format!("batch statement {}: {}", i + 1, e.reason)))?;
        out.push((read_string(env, sql)?, params));
    }
    Ok(out)
}

pub(crate) fn unknown<'e>(env: &'e Env, v: sys::napi_value) -> Unknown<'e> {
    unsafe { Unknown::from_raw_unchecked(env.raw(), v) }
}

#[napi]
impl NativeSql {
    // ---- synchronous API (JS thread) ----

    #[napi]
    pub fn run<'e>(&self, env: &'e Env, sql: String, params: Option<Unknown<'_>>) -> Result<Unknown<'e>> {
        let p = params_of(params)?;
        let r = self.store.run(&sql, &p, Wait::FailIfTxOpen).or_throw()?;
        Ok(unknown(env, unsafe { run_result_js(env.raw(), r)? }))
    }

    /// Rows as objects (or arrays with `arrays`); `limit` stops early (1 for queryOne).
    #[napi]
    pub fn query<'e>(
        &self,
        env: &'e Env,
        sql: String,
        params: Option<Unknown<'_>>,
        arrays: Option<bool>,
        one: Option<bool>,
    ) -> Result<Unknown<'e>> {
        let p = params_of(params)?;
        rows_js(env, arrays, one, |b| self.store.query(&sql, &p, b, Wait::FailIfTxOpen))
    }

    /// A prepared statement: checked now (syntax, the authorizer; inside `tx` when given, so it
    /// may use tables that transaction created), executed later without passing the SQL again.
    #[napi]
    pub fn prepare(&self, sql: String, tx: Option<i64>) -> Result<NativeStatement> {
        let tx = tx.map(tx_id).transpose()?;
        let info = self.store.describe(&sql, tx).or_throw()?;
        Ok(NativeStatement::new(self.store.clone(), sql, info))
    }

    #[napi]
    pub fn exec(&self, script: String) -> Result<()> {
        self.store.exec_script(&script, Wait::FailIfTxOpen).or_throw()
    }

    #[napi]
    pub fn batch<'e>(&self, env: &'e Env, stmts: Unknown<'_>) -> Result<Unknown<'e>> {
        let raw = stmts.value();
        let list = unsafe { read_stmts(raw.env, raw.value)? };
        let results = self.store.batch(&list, Wait::FailIfTxOpen).or_throw()?;
        Ok(unknown(env, unsafe { results_js(env.raw(), &results)? }))
    }

    #[napi]
    pub fn begin(&self) -> Result<i64> {
        self.store.begin(Wait::FailIfTxOpen).map(|id| id as i64).or_throw()
    }

    #[napi]
    pub fn tx_run<'e>(&self, env: &'e Env, tx: i64, sql: String, params: Option<Unknown<'_>>) -> Result<Unknown<'e>> {
        let p = params_of(params)?;
        let r = self.store.tx_run(tx_id(tx)?, &sql, &p).or_throw()?;
        Ok(unknown(env, unsafe { run_result_js(env.raw(), r)? }))
    }

    #[napi]
    pub fn tx_query<'e>(
        &self,
        env: &'e Env,
        tx: i64,
        sql: String,
        params: Option<Unknown<'_>>,
        arrays: Option<bool>,
        one: Option<bool>,
    ) -> Result<Unknown<'e>> {
        let p = params_of(params)?;
        let tx = tx_id(tx)?;
        rows_js(env, arrays, one, |b| self.store.tx_query(tx, &sql, &p, b))
    }

    #[napi]
    pub fn tx_exec(&self, tx: i64, script: String) -> Result<()> {
        self.store.tx_exec_script(tx_id(tx)?, &script).or_throw()
    }

    #[napi]
    pub fn commit(&self, tx: i64) -> Result<()> {
        self.store.commit(tx_id(tx)?).or_throw()
    }

    #[napi]
    pub fn rollback(&self, tx: i64) -> Result<()> {
        self.store.rollback(tx_id(tx)?).or_throw()
    }

    // ---- asynchronous API (libuv pool) ----

    #[napi(ts_return_type = "Promise<{ changes: number; lastInsertRowid: number | bigint }>")]
    pub fn run_async(&self, sql: String, params: Option<Unknown<'_>>) -> Result<AsyncTask<SqlTask>> {
        Ok(self.task(SqlOp::Run(None, sql, params_of(params)?)))
    }

    #[napi(ts_return_type = "Promise<unknown>")]
    pub fn query_async(
        &self,
        sql: String,
        params: Option<Unknown<'_>>,
        arrays: Option<bool>,
        one: Option<bool>,
    ) -> Result<AsyncTask<SqlTask>> {
        let one = one.unwrap_or(false);
        Ok(self.task(SqlOp::Query(None, sql, params_of(params)?, shape_of(arrays), one)))
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn exec_async(&self, script: String) -> AsyncTask<SqlTask> {
        self.task(SqlOp::Exec(None, script))
    }

    #[napi(ts_return_type = "Promise<Array<{ changes: number; lastInsertRowid: number | bigint }>>")]
    pub fn batch_async(&self, stmts: Unknown<'_>) -> Result<AsyncTask<SqlTask>> {
        let raw = stmts.value();
        let list = unsafe { read_stmts(raw.env, raw.value)? };
        Ok(self.task(SqlOp::Batch(list)))
    }

    #[napi(ts_return_type = "Promise<number>")]
    pub fn begin_async(&self) -> AsyncTask<SqlTask> {
        self.task(SqlOp::Begin)
    }

    #[napi(ts_return_type = "Promise<{ changes: number; lastInsertRowid: number | bigint }>")]
    pub fn tx_run_async(&self, tx: i64, sql: String, params: Option<Unknown<'_>>) -> Result<AsyncTask<SqlTask>> {
        Ok(self.task(SqlOp::Run(Some(tx_id(tx)?), sql, params_of(params)?)))
    }

    #[napi(ts_return_type = "Promise<unknown>")]
    pub fn tx_query_async(
        &self,
        tx: i64,
        sql: String,
        params: Option<Unknown<'_>>,
        arrays: Option<bool>,
        one: Option<bool>,
    ) -> Result<AsyncTask<SqlTask>> {
        let one = one.unwrap_or(false);
        Ok(self.task(SqlOp::Query(Some(tx_id(tx)?), sql, params_of(params)?, shape_of(arrays), one)))
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn tx_exec_async(&self, tx: i64, script: String) -> Result<AsyncTask<SqlTask>> {
        Ok(self.task(SqlOp::Exec(Some(tx_id(tx)?), script)))
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn commit_async(&self, tx: i64) -> Result<AsyncTask<SqlTask>> {
        Ok(self.task(SqlOp::Finish(tx_id(tx)?, true)))
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn rollback_async(&self, tx: i64) -> Result<AsyncTask<SqlTask>> {
        Ok(self.task(SqlOp::Finish(tx_id(tx)?, false)))
    }

    // ---- plugin sandboxes (async) ----

    /// Runs one statement with only objects named `prefix*` reachable (DDL when `allowDdl`).
    #[napi(ts_return_type = "Promise<{ changes: number; lastInsertRowid: number | bigint }>")]
    pub fn sandboxed_run_async(
        &self,
        prefix: String,
        allow_ddl: bool,
        tx: Option<i64>,
        sql: String,
        params: Option<Unknown<'_>>,
    ) -> Result<AsyncTask<SqlTask>> {
        let policy = SandboxPolicy::new(&prefix, allow_ddl).or_throw()?;
        let tx = tx.map(tx_id).transpose()?;
        Ok(self.sandboxed_task(policy, SqlOp::Run(tx, sql, params_of(params)?)))
    }

    #[napi(ts_return_type = "Promise<unknown>")]
    #[allow(clippy::too_many_arguments)]
    pub fn sandboxed_query_async(
        &self,
        prefix: String,
        allow_ddl: bool,
        tx: Option<i64>,
        sql: String,
        params: Option<Unknown<'_>>,
        arrays: Option<bool>,
        one: Option<bool>,
    ) -> Result<AsyncTask<SqlTask>> {
        let policy = SandboxPolicy::new(&prefix, allow_ddl).or_throw()?;
        let tx = tx.map(tx_id).transpose()?;
        let op = SqlOp::Query(tx, sql, params_of(params)?, shape_of(arrays), one.unwrap_or(false));
        Ok(self.sandboxed_task(policy, op))
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn sandboxed_exec_async(&self, prefix: String, allow_ddl: bool, tx: Option<i64>, script: String) -> Result<AsyncTask<SqlTask>> {
        let policy = SandboxPolicy::new(&prefix, allow_ddl).or_throw()?;
        let tx = tx.map(tx_id).transpose()?;
        Ok(self.sandboxed_task(policy, SqlOp::Exec(tx, script)))
    }

    // ---- maintenance ----

    /// Problems found by `PRAGMA quick_check` (or `integrity_check` with `full`); empty = ok.
    #[napi]
    pub fn integrity_check(&self, full: Option<bool>) -> Result<Vec<String>> {
        self.store.integrity_check(full.unwrap_or(false)).or_throw()
    }

    #[napi]
    pub fn health_check(&self) -> Result<u32> {
        self.store.health_check().map(|n| n as u32).or_throw()
    }

    #[napi]
    pub fn stats(&self) -> SqlStats {
        let s = self.store.stats();
        SqlStats {
            readers_open: s.readers_open as u32,
            readers_idle: s.readers_idle as u32,
            readers_max: s.readers_max as u32,
            in_transaction: self.store.in_transaction(),
        }
    }

    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.store.is_closed()
    }

    #[napi]
    pub fn close(&self) {
        self.store.close()
    }

    fn task(&self, op: SqlOp) -> AsyncTask<SqlTask> {
        SqlTask::new(self.store.clone(), op)
    }

    fn sandboxed_task(&self, policy: SandboxPolicy, op: SqlOp) -> AsyncTask<SqlTask> {
        AsyncTask::new(SqlTask { store: self.store.clone(), op: Some(op), policy: Some(policy) })
    }
}

#[napi(object)]
pub struct SqlStats {
    pub readers_open: u32,
    pub readers_idle: u32,
    pub readers_max: u32,
    pub in_transaction: bool,
}

unsafe fn results_js(env: sys::napi_env, results: &[RunResult]) -> Result<sys::napi_value> {
    let mut arr = ptr::null_mut();
    sys::napi_create_array_with_length(env, results.len(), &mut arr);
    for (i, r) in results.iter().enumerate() {
        let v = run_result_js(env, *r)?;
        sys::napi_set_element(env, arr, i as u32, v);
    }
    Ok(arr)
}

fn shape_of(arrays: Option<bool>) -> RowShape {
    if arrays.unwrap_or(false) {
        RowShape::Arrays
    } else {
        RowShape::Objects
    }
}

pub enum SqlOp {
    Run(Option<TxId>, String, Params),
    /// Runs one statement once per parameter set, atomically.
    RunMany(Option<TxId>, String, Vec<Params>),
    Query(Option<TxId>, String, Params, RowShape, bool),
    Exec(Option<TxId>, String),
    Batch(Vec<Stmt>),
    Begin,
    Finish(TxId, bool),
}

pub enum SqlOut {
    Run(RunResult),
    Rows(OwnedRows, RowShape, bool),
    Batch(Vec<RunResult>),
    Tx(TxId),
    Unit,
}

pub struct SqlTask {
    store: Arc<SqlStore>,
    op: Option<SqlOp>,
    /// Set for plugin-sandboxed statements.
    policy: Option<SandboxPolicy>,
}

impl SqlTask {
    pub(crate) fn new(store: Arc<SqlStore>, op: SqlOp) -> AsyncTask<SqlTask> {
        AsyncTask::new(SqlTask { store, op: Some(op), policy: None })
    }
}

impl Task for SqlTask {
    type Output = SqlOut;
    type JsValue = SqlOutJs;

    fn compute(&mut self) -> Result<SqlOut> {
        let s = &self.store;
        let op = self.op.take().ok_or_else(|| invalid("task already ran"))?;
        if let Some(policy) = &self.policy {
            return sandboxed(s, policy, op).or_throw();
        }
        let out = match op {
            SqlOp::Run(None, sql, p) => s.run(&sql, &p, Wait::Block).map(SqlOut::Run),
            SqlOp::Run(Some(tx), sql, p) => s.tx_run(tx, &sql, &p).map(SqlOut::Run),
            SqlOp::RunMany(None, sql, list) => s.run_many(&sql, &list, Wait::Block).map(SqlOut::Run),
            SqlOp::RunMany(Some(tx), sql, list) => s.tx_run_many(tx, &sql, &list).map(SqlOut::Run),
            SqlOp::Query(tx, sql, p, shape, one) => {
                let mut rows = if one { OwnedRows::with_limit(1) } else { OwnedRows::default() };
                match tx {
                    None => s.query(&sql, &p, &mut rows, Wait::Block),
                    Some(tx) => s.tx_query(tx, &sql, &p, &mut rows),
                }
                .map(|_| SqlOut::Rows(rows, shape, one))
            }
            SqlOp::Exec(None, sql) => s.exec_script(&sql, Wait::Block).map(|_| SqlOut::Unit),
            SqlOp::Exec(Some(tx), sql) => s.tx_exec_script(tx, &sql).map(|_| SqlOut::Unit),
            SqlOp::Batch(list) => s.batch(&list, Wait::Block).map(SqlOut::Batch),
            SqlOp::Begin => s.begin(Wait::Block).map(SqlOut::Tx),
            SqlOp::Finish(tx, true) => s.commit(tx).map(|_| SqlOut::Unit),
            SqlOp::Finish(tx, false) => s.rollback(tx).map(|_| SqlOut::Unit),
        };
        out.or_throw()
    }

    fn resolve(&mut self, _env: Env, out: SqlOut) -> Result<SqlOutJs> {
        Ok(SqlOutJs(out))
    }
}

fn sandboxed(s: &SqlStore, policy: &SandboxPolicy, op: SqlOp) -> aico_data_core::Result<SqlOut> {
    match op {
        SqlOp::Run(tx, sql, p) => s.sandboxed_run(policy, tx, &sql, &p, Wait::Block).map(SqlOut::Run),
        SqlOp::Query(tx, sql, p, shape, one) => {
            let mut rows = if one { OwnedRows::with_limit(1) } else { OwnedRows::default() };
            s.sandboxed_query(policy, tx, &sql, &p, &mut rows, Wait::Block).map(|_| SqlOut::Rows(rows, shape, one))
        }
        SqlOp::Exec(tx, sql) => s.sandboxed_exec(policy, tx, &sql, Wait::Block).map(|_| SqlOut::Unit),
        _ => Err(aico_data_core::Error::invalid("this operation cannot be sandboxed")),
    }
}

/// Converts an async result to JS on the JS thread.
pub struct SqlOutJs(pub(crate) SqlOut);

crate::convert::untyped_js_output!(SqlOutJs);

impl ToNapiValue for SqlOutJs {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        match val.0 {
            SqlOut::Run(r) => run_result_js(env, r),
            SqlOut::Batch(rs) => results_js(env, &rs),
            SqlOut::Tx(id) => {
                let mut v = ptr::null_mut();
                sys::napi_create_int64(env, id as i64, &mut v);
                Ok(v)
            }
            SqlOut::Unit => {
                let mut v = ptr::null_mut();
                sys::napi_get_undefined(env, &mut v);
                Ok(v)
            }
            SqlOut::Rows(rows, shape, one) => {
                let mut b = JsRowBuilder::with_shape(env, shape, one, None)?;
                b.push_owned(&rows).or_throw()?;
                b.result()
            }
        }
    }
}
