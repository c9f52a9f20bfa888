//! The C-API side of the engine: opening the database with a hardened configuration, and a
//! second connection for the ETL. The ETL needs what duckdb-rs does not expose: an appender
//! fed with whole data chunks, statements inside the same explicit transaction as that
//! appender, and the prepared-statement type for the read-only check.

use std::ffi::{c_char, CStr, CString};
use std::ptr;

use duckdb::ffi;

use crate::error::{Error, Result};

fn cstring(s: &str, what: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::invalid(format!("{what} contains a NUL byte")))
}

/// Takes ownership of a C string DuckDB allocated (freed with `duckdb_free`).
unsafe fn take_message(p: *mut c_char) -> String {
    if p.is_null() {
        return "unknown DuckDB error".into();
    }
    let s = CStr::from_ptr(p).to_string_lossy().into_owned();
    ffi::duckdb_free(p.cast());
    s
}

/// Reads a C string DuckDB owns.
unsafe fn borrowed_message(p: *const c_char) -> String {
    if p.is_null() {
        "unknown DuckDB error".into()
    } else {
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

/// Maps a DuckDB error message to the core's codes: file or network access refused by the
/// configuration is `NOT_AUTHORIZED`, constraint failures are `CONSTRAINT`, the rest `SQL_ERROR`.
pub(crate) fn error_from_message(msg: String) -> Error {
    if msg.starts_with("Permission Error") {
        Error::NotAuthorized(msg)
    } else if msg.starts_with("Constraint Error") {
        Error::Constraint(msg)
    } else if msg.starts_with("Out of Memory Error") {
        Error::Sql(format!("{msg} (analytics runs in memory without spill files: raise memoryLimitMb)"))
    } else {
        Error::Sql(msg)
    }
}

/// An in-memory database handle; closed on drop (after every connection to it).
pub(crate) struct RawDatabase {
    db: ffi::duckdb_database,
}

// SAFETY: a duckdb_database may be used from any thread; DuckDB synchronises internally.
unsafe impl Send for RawDatabase {}

impl RawDatabase {
    /// Opens an in-memory database with `settings` applied at startup, before any SQL runs.
    pub(crate) fn open_in_memory(settings: &[(&str, String)]) -> Result<RawDatabase> {
        unsafe {
            let mut config: ffi::duckdb_config = ptr::null_mut();
            if ffi::duckdb_create_config(&mut config) != ffi::DuckDBSuccess {
                return Err(Error::Internal("duckdb_create_config failed".into()));
            }
            for (name, value) in settings {
                let (n, v) = (cstring(name, "setting")?, cstring(value, "setting value")?);
                if ffi::duckdb_set_config(config, n.as_ptr(), v.as_ptr()) != ffi::DuckDBSuccess {
                    ffi::duckdb_destroy_config(&mut config);
                    return Err(Error::Internal(format!("DuckDB rejected setting {name}={value:?}")));
                }
            }
            let mut db: ffi::duckdb_database = ptr::null_mut();
            let mut err: *mut c_char = ptr::null_mut();
            let path = c":memory:";
            let rc = ffi::duckdb_open_ext(path.as_ptr(), &mut db, config, &mut err);
            ffi::duckdb_destroy_config(&mut config);
            if rc != ffi::DuckDBSuccess {
                return Err(Error::Internal(format!("cannot open DuckDB: {}", take_message(err))));
            }
            Ok(RawDatabase { db })
        }
    }

    pub(crate) fn handle(&self) -> ffi::duckdb_database {
        self.db
    }
}

impl Drop for RawDatabase {
    fn drop(&mut self) {
        unsafe { ffi::duckdb_close(&mut self.db) }
    }
}

/// What a prepared statement does, as far as the read-only check cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StatementKind {
    Select,
    Other(u32),
}

/// A connection used through the C API.
pub(crate) struct RawConn {
    con: ffi::duckdb_connection,
}

// SAFETY: a connection may move between threads; the owner serialises its use (the store's
// mutex), which is all DuckDB requires.
unsafe impl Send for RawConn {}

/// An owned `duckdb_result`, destroyed on drop.
struct QueryResult(ffi::duckdb_result);

impl Drop for QueryResult {
    fn drop(&mut self) {
        unsafe { ffi::duckdb_destroy_result(&mut self.0) }
    }
}

impl RawConn {
    pub(crate) fn connect(db: &RawDatabase) -> Result<RawConn> {
        let mut con: ffi::duckdb_connection = ptr::null_mut();
        if unsafe { ffi::duckdb_connect(db.handle(), &mut con) } != ffi::DuckDBSuccess {
            return Err(Error::Internal("duckdb_connect failed".into()));
        }
        Ok(RawConn { con })
    }

    pub(crate) fn handle(&self) -> ffi::duckdb_connection {
        self.con
    }

    fn run(&self, sql: &str) -> Result<QueryResult> {
        let c = cstring(sql, "SQL")?;
        unsafe {
            let mut res = QueryResult(std::mem::zeroed());
            if ffi::duckdb_query(self.con, c.as_ptr(), &mut res.0) != ffi::DuckDBSuccess {
                return Err(error_from_message(borrowed_message(ffi::duckdb_result_error(&mut res.0))));
            }
            Ok(res)
        }
    }

    /// Runs statements without parameters; returns the rows the last one changed.
    pub(crate) fn execute(&self, sql: &str) -> Result<u64> {
        let mut res = self.run(sql)?;
        Ok(unsafe { ffi::duckdb_rows_changed(&mut res.0) })
    }

    /// The first row of a query whose columns are all integers (`None` for NULL or no row).
    pub(crate) fn query_i64s(&self, sql: &str) -> Result<Vec<Option<i64>>> {
        let mut res = self.run(sql)?;
        unsafe {
            let cols = ffi::duckdb_column_count(&mut res.0);
            let has_row = ffi::duckdb_row_count(&mut res.0) > 0;
            Ok((0..cols)
                .map(|c| {
                    if !has_row || ffi::duckdb_value_is_null(&mut res.0, c, 0) {
                        None
                    } else {
                        Some(ffi::duckdb_value_int64(&mut res.0, c, 0))
                    }
                })
                .collect())
        }
    }

    /// Prepares `sql` (without running it) and tells what kind of statement it is. Several
    /// statements in one string fail here.
    pub(crate) fn statement_kind(&self, sql: &str) -> Result<StatementKind> {
        let c = cstring(sql, "SQL")?;
        unsafe {
            let mut stmt: ffi::duckdb_prepared_statement = ptr::null_mut();
            let rc = ffi::duckdb_prepare(self.con, c.as_ptr(), &mut stmt);
            let out = if rc != ffi::DuckDBSuccess {
                Err(error_from_message(borrowed_message(ffi::duckdb_prepare_error(stmt))))
            } else {
                Ok(match ffi::duckdb_prepared_statement_type(stmt) {
                    ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_SELECT => StatementKind::Select,
                    other => StatementKind::Other(other),
                })
            };
            ffi::duckdb_destroy_prepare(&mut stmt);
            out
        }
    }
}

impl Drop for RawConn {
    fn drop(&mut self) {
        unsafe { ffi::duckdb_disconnect(&mut self.con) }
    }
}

/// Quotes an identifier for DuckDB and SQLite alike.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes a text literal for DuckDB and SQLite alike.
pub(crate) fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

pub(crate) unsafe fn appender_error(app: ffi::duckdb_appender) -> String {
    borrowed_message(ffi::duckdb_appender_error(app))
}

pub(crate) fn c_name(name: &str) -> Result<CString> {
    cstring(name, "table name")
}
