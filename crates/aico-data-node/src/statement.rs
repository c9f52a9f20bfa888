//! A prepared statement as a JS class. The SQL is checked once when it is made (syntax, the
//! authorizer); each call then crosses Node-API with only its parameters, and object rows
//! reuse the column-name keys made on the first call (kept as references until finalize).

use std::cell::RefCell;
use std::ptr;
use std::sync::Arc;

use aico_data_core::sql::{Params, SqlStore, StatementInfo, TxId, Wait};
use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;

use crate::convert::{params_of, read_params, JsRowBuilder, PresetKeys, RowShape};
use crate::cursor::NativeCursor;
use crate::error::{invalid, OrThrow};
use crate::sql::{run_result_js, tx_id, unknown, SqlOp, SqlTask};

#[napi(custom_finalize)]
pub struct NativeStatement {
    store: Arc<SqlStore>,
    sql: String,
    info: StatementInfo,
    keys: RefCell<KeyCache>,
}

/// Object-row keys of the last call, and the column names they were made for.
#[derive(Default)]
struct KeyCache {
    names: Vec<String>,
    refs: Vec<sys::napi_ref>,
}

impl NativeStatement {
    pub(crate) fn new(store: Arc<SqlStore>, sql: String, info: StatementInfo) -> Self {
        NativeStatement { store, sql, info, keys: RefCell::new(KeyCache::default()) }
    }

    fn rows<'e>(&self, env: &'e Env, params: Option<Unknown<'_>>, tx: Option<i64>, shape: Option<u32>, one: bool) -> Result<Unknown<'e>> {
        let shape = RowShape::from_code(shape.unwrap_or(0))?;
        let p = params_of(params)?;
        let tx = tx.map(tx_id).transpose()?;
        let raw = env.raw();
        let cache = self.keys.borrow();
        let preset = if shape == RowShape::Objects {
            let mut keys = Vec::with_capacity(cache.refs.len());
            for r in &cache.refs {
                let mut v = ptr::null_mut();
                unsafe { sys::napi_get_reference_value(raw, *r, &mut v) };
                keys.push(v);
            }
            Some(PresetKeys { names: &cache.names, keys })
        } else {
            None
        };
        let mut b = unsafe { JsRowBuilder::with_shape(raw, shape, one, preset)? };
        match tx {
            Some(tx) => self.store.tx_query(tx, &self.sql, &p, &mut b),
            None => self.store.query(&self.sql, &p, &mut b, Wait::FailIfTxOpen),
        }
        .or_throw()?;
        let out = unsafe { b.result()? };
        if let Some(names) = b.made_names.take() {
            let made: Vec<sys::napi_value> = b.keys().to_vec();
            drop(b);
            drop(cache);
            unsafe { self.keep_keys(raw, names, &made) };
        }
        Ok(unknown(env, out))
    }

    /// Replaces the kept keys (first call, or the columns changed under a schema change).
    unsafe fn keep_keys(&self, env: sys::napi_env, names: Vec<String>, keys: &[sys::napi_value]) {
        let mut cache = self.keys.borrow_mut();
        for r in cache.refs.drain(..) {
            sys::napi_delete_reference(env, r);
        }
        for k in keys {
            let mut r = ptr::null_mut();
            if sys::napi_create_reference(env, *k, 1, &mut r) != sys::Status::napi_ok {
                // Without every key kept the next call just makes them again.
                for r in cache.refs.drain(..) {
                    sys::napi_delete_reference(env, r);
                }
                return;
            }
            cache.refs.push(r);
        }
        cache.names = names;
    }
}

impl ObjectFinalize for NativeStatement {
    fn finalize(self, env: Env) -> Result<()> {
        for r in self.keys.into_inner().refs {
            unsafe { sys::napi_delete_reference(env.raw(), r) };
        }
        Ok(())
    }
}

/// Reads a list of parameter sets (each an array or a plain object) for `runMany`.
fn params_list(list: Unknown<'_>) -> Result<Vec<Params>> {
    let raw = list.value();
    let (env, v) = (raw.env, raw.value);
    let mut is_array = false;
    unsafe { sys::napi_is_array(env, v, &mut is_array) };
    if !is_array {
        return Err(invalid("runMany takes an array of parameter sets"));
    }
    let mut len = 0u32;
    unsafe { sys::napi_get_array_length(env, v, &mut len) };
    let mut out = Vec::with_capacity(len as usize);
    for i in 0..len {
        let mut el = ptr::null_mut();
        unsafe { sys::napi_get_element(env, v, i, &mut el) };
        out.push(unsafe { read_params(env, el) }.map_err(|e| invalid(format!("parameter set {}: {}", i + 1, e.reason)))?);
    }
    Ok(out)
}

#[napi]
impl NativeStatement {
    /// The SQL text it was prepared from.
    #[napi(getter)]
    pub fn source(&self) -> String {
        self.sql.clone()
    }

    /// Makes no direct change to the database.
    #[napi(getter)]
    pub fn readonly(&self) -> bool {
        self.info.readonly
    }

    /// Result column names at prepare time.
    #[napi(getter)]
    pub fn columns(&self) -> Vec<String> {
        self.info.columns.clone()
    }

    #[napi(getter)]
    pub fn parameter_count(&self) -> u32 {
        self.info.parameters as u32
    }

    // ---- synchronous (JS thread) ----

    /// The first row (`undefined` when none). `shape`: 0 object, 1 array, 2 first column.
    #[napi]
    pub fn get<'e>(&self, env: &'e Env, params: Option<Unknown<'_>>, tx: Option<i64>, shape: Option<u32>) -> Result<Unknown<'e>> {
        self.rows(env, params, tx, shape, true)
    }

    #[napi]
    pub fn all<'e>(&self, env: &'e Env, params: Option<Unknown<'_>>, tx: Option<i64>, shape: Option<u32>) -> Result<Unknown<'e>> {
        self.rows(env, params, tx, shape, false)
    }

    #[napi]
    pub fn run<'e>(&self, env: &'e Env, params: Option<Unknown<'_>>, tx: Option<i64>) -> Result<Unknown<'e>> {
        let p = params_of(params)?;
        let r = match tx.map(tx_id).transpose()? {
            Some(tx) => self.store.tx_run(tx, &self.sql, &p),
            None => self.store.run(&self.sql, &p, Wait::FailIfTxOpen),
        }
        .or_throw()?;
        Ok(unknown(env, unsafe { run_result_js(env.raw(), r)? }))
    }

    /// Runs once per parameter set in one native call, atomically (inside `tx` when given).
    #[napi]
    pub fn run_many<'e>(&self, env: &'e Env, list: Unknown<'_>, tx: Option<i64>) -> Result<Unknown<'e>> {
        let sets = params_list(list)?;
        let r = match tx.map(tx_id).transpose()? {
            Some(tx) => self.store.tx_run_many(tx, &self.sql, &sets),
            None => self.store.run_many(&self.sql, &sets, Wait::FailIfTxOpen),
        }
        .or_throw()?;
        Ok(unknown(env, unsafe { run_result_js(env.raw(), r)? }))
    }

    /// A cursor over the rows, read a batch at a time on a reader of its own. Only for
    /// statements that make no change (a write would hold the writer while JS iterates).
    #[napi]
    pub fn iterate(&self, params: Option<Unknown<'_>>, shape: Option<u32>) -> Result<NativeCursor> {
        if !self.info.readonly {
            return Err(invalid("iterate() reads rows: this statement changes the database (use all() or run())"));
        }
        NativeCursor::open(self.store.clone(), self.sql.clone(), params_of(params)?, RowShape::from_code(shape.unwrap_or(0))?)
    }

    // ---- asynchronous (libuv pool) ----

    #[napi(ts_return_type = "Promise<unknown>")]
    pub fn get_async(&self, params: Option<Unknown<'_>>, tx: Option<i64>, shape: Option<u32>) -> Result<AsyncTask<SqlTask>> {
        self.query_task(params, tx, shape, true)
    }

    #[napi(ts_return_type = "Promise<unknown>")]
    pub fn all_async(&self, params: Option<Unknown<'_>>, tx: Option<i64>, shape: Option<u32>) -> Result<AsyncTask<SqlTask>> {
        self.query_task(params, tx, shape, false)
    }

    #[napi(ts_return_type = "Promise<{ changes: number; lastInsertRowid: number | bigint }>")]
    pub fn run_async(&self, params: Option<Unknown<'_>>, tx: Option<i64>) -> Result<AsyncTask<SqlTask>> {
        let tx: Option<TxId> = tx.map(tx_id).transpose()?;
        Ok(SqlTask::new(self.store.clone(), SqlOp::Run(tx, self.sql.clone(), params_of(params)?)))
    }

    #[napi(ts_return_type = "Promise<{ changes: number; lastInsertRowid: number | bigint }>")]
    pub fn run_many_async(&self, list: Unknown<'_>, tx: Option<i64>) -> Result<AsyncTask<SqlTask>> {
        let tx: Option<TxId> = tx.map(tx_id).transpose()?;
        Ok(SqlTask::new(self.store.clone(), SqlOp::RunMany(tx, self.sql.clone(), params_list(list)?)))
    }
}

impl NativeStatement {
    fn query_task(&self, params: Option<Unknown<'_>>, tx: Option<i64>, shape: Option<u32>, one: bool) -> Result<AsyncTask<SqlTask>> {
        let shape = RowShape::from_code(shape.unwrap_or(0))?;
        let tx: Option<TxId> = tx.map(tx_id).transpose()?;
        Ok(SqlTask::new(self.store.clone(), SqlOp::Query(tx, self.sql.clone(), params_of(params)?, shape, one)))
    }
}
