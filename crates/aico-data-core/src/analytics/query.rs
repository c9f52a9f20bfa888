//! Callers' queries: the read-only check, parameter binding, and results as rows (through a
//! [`RowSink`]) or as Arrow IPC bytes.

use duckdb::arrow::array::RecordBatch;
use duckdb::arrow::datatypes::SchemaRef;
use duckdb::types::{ToSql, ToSqlOutput, Value as DuckValue, ValueRef as DuckValueRef};
use duckdb::{params_from_iter, Connection, Statement};

use super::arrow_rows::send_batch;
use super::ipc::IpcStream;
use super::raw::{error_from_message, RawConn, StatementKind};
use crate::error::{Error, Result};
use crate::sql::{Params, RowSink, Value};

pub(crate) fn map_duckdb_error(e: duckdb::Error) -> Error {
    use duckdb::Error as E;
    match e {
        E::DuckDBFailure(code, msg) => error_from_message(msg.unwrap_or_else(|| code.to_string())),
        E::InvalidParameterCount(given, expected) => Error::invalid(format!("statement takes {expected} parameter(s), {given} given")),
        E::InvalidParameterName(name) => Error::invalid(format!("statement has no parameter named ${name}")),
        E::NulError(_) => Error::invalid("SQL text contains a NUL byte"),
        other => Error::Sql(other.to_string()),
    }
}

/// Refuses anything but a single `SELECT` (no DDL, DML, SET, PRAGMA, CALL, COPY, ATTACH,
/// EXPLAIN ANALYZE...). `sql` is prepared on `conn`, not run.
pub(crate) fn ensure_read_only(conn: &RawConn, sql: &str) -> Result<()> {
    if sql.trim().is_empty() {
        return Err(Error::invalid("empty SQL"));
    }
    match conn.statement_kind(sql) {
        Ok(StatementKind::Select) => Ok(()),
        Ok(StatementKind::Other(kind)) => Err(Error::invalid(format!(
            "analytics queries are read-only: only a single SELECT is accepted (got statement type {kind}); \
             the analytics tables are derived from libSQL, write there instead"
        ))),
        Err(Error::Sql(m)) if m.contains("multiple statements") => {
            Err(Error::invalid("one statement per call: analytics queries take a single SELECT"))
        }
        Err(e) => Err(e),
    }
}

struct Bind<'a>(&'a Value);

impl ToSql for Bind<'_> {
    fn to_sql(&self) -> duckdb::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            Value::Null => ToSqlOutput::Owned(DuckValue::Null),
            Value::Integer(i) => ToSqlOutput::Owned(DuckValue::BigInt(*i)),
            Value::Real(f) => ToSqlOutput::Owned(DuckValue::Double(*f)),
            Value::Text(s) => ToSqlOutput::Borrowed(DuckValueRef::Text(s.as_bytes())),
            Value::Blob(b) => ToSqlOutput::Borrowed(DuckValueRef::Blob(b)),
        })
    }
}

/// Orders `params` by the statement's parameter positions (`?`, `$1`, or `$name`).
fn ordered<'p>(stmt: &Statement<'_>, params: &'p Params) -> Result<Vec<Bind<'p>>> {
    let expected = stmt.parameter_count();
    match params {
        Params::None if expected == 0 => Ok(Vec::new()),
        Params::None => Err(Error::invalid(format!("statement takes {expected} parameter(s), none given"))),
        Params::Positional(values) => {
            if values.len() != expected {
                return Err(Error::invalid(format!("statement takes {expected} parameter(s), {} given", values.len())));
            }
            Ok(values.iter().map(Bind).collect())
        }
        Params::Named(pairs) => {
            let mut out = Vec::with_capacity(expected);
            for i in 1..=expected {
                let name = stmt.parameter_name(i).map_err(map_duckdb_error)?;
                let v = pairs.iter().find(|(k, _)| *k == name).ok_or_else(|| Error::invalid(format!("missing parameter ${name}")))?;
                out.push(Bind(&v.1));
            }
            if let Some((extra, _)) = pairs.iter().find(|(k, _)| !(1..=expected).any(|i| stmt.parameter_name(i).is_ok_and(|n| n == *k))) {
                return Err(Error::invalid(format!("statement has no parameter named ${extra}")));
            }
            Ok(out)
        }
    }
}

/// Runs `sql` and hands each Arrow batch to `on_batch` (stop early by returning false).
/// Returns the result schema.
pub(crate) fn stream(
    conn: &Connection,
    sql: &str,
    params: &Params,
    mut on_batch: impl FnMut(&RecordBatch) -> Result<bool>,
) -> Result<SchemaRef> {
    let mut stmt = conn.prepare_cached(sql).map_err(map_duckdb_error)?;
    let binds = ordered(&stmt, params)?;
    let mut batches = stmt.stream_arrow(params_from_iter(binds)).map_err(map_duckdb_error)?;
    let schema = batches.get_schema();
    for batch in batches.by_ref() {
        if !on_batch(&batch.map_err(map_duckdb_error)?)? {
            break;
        }
    }
    Ok(schema)
}

/// Runs `sql` and sends its rows to `sink`.
pub(crate) fn rows(conn: &Connection, sql: &str, params: &Params, sink: &mut dyn RowSink) -> Result<()> {
    let mut named = false;
    stream(conn, sql, params, |batch| {
        if !named {
            let names: Vec<&str> = batch.schema_ref().fields().iter().map(|f| f.name().as_str()).collect();
            sink.columns(&names)?;
            named = true;
        }
        send_batch(batch, sink)
    })
    .and_then(|schema| {
        if !named {
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            sink.columns(&names)?;
        }
        Ok(())
    })
}

/// Runs `sql` and returns its result as one uncompressed Arrow IPC stream.
pub(crate) fn arrow_ipc(conn: &Connection, sql: &str, params: &Params) -> Result<Vec<u8>> {
    let mut batches = Vec::new();
    let schema = stream(conn, sql, params, |b| {
        batches.push(b.clone());
        Ok(true)
    })?;
    let mut out = IpcStream::new(&schema, false)?;
    for b in &batches {
        out.write(b)?;
    }
    out.finish()
}
