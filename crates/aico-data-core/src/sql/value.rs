//! Values crossing the SQL boundary, and the sink that receives result rows without copies.

use crate::error::Result;

/// An owned SQL value (parameters, and rows collected for the async API).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// A borrowed SQL value, valid while the current row is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Integer(i64),
    Real(f64),
    /// UTF-8 as stored; SQLite does not validate it, so consumers decide how to handle bad bytes.
    Text(&'a [u8]),
    Blob(&'a [u8]),
}

impl Value {
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Real(f) => ValueRef::Real(*f),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }
    }
}

impl ValueRef<'_> {
    pub fn to_owned(self) -> Value {
        match self {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(f) => Value::Real(f),
            ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        }
    }
}

/// Statement parameters: none, by position (`?`, `?NNN`) or by name (`:a`, `@a`, `$a`).
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Params {
    #[default]
    None,
    Positional(Vec<Value>),
    /// Names without their sigil; each is matched against `:name`, `@name` and `$name`.
    Named(Vec<(String, Value)>),
}

/// What a write statement did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunResult {
    pub changes: u64,
    pub last_insert_rowid: i64,
}

/// What a prepared statement is: found once at prepare time, so a statement object need not
/// ask again per call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementInfo {
    /// Makes no direct change to the database (SQLite's `sqlite3_stmt_readonly`).
    pub readonly: bool,
    /// Result column names, in order (empty for statements that return no rows).
    pub columns: Vec<String>,
    /// How many parameters it takes.
    pub parameters: usize,
}

/// One row of a result, read column by column without copying.
pub trait RowView {
    fn column_count(&self) -> usize;
    fn get(&self, index: usize) -> Result<ValueRef<'_>>;
}

/// Receives a query's column names once, then its rows. Return `false` from `row` to stop
/// early (e.g. `queryOne`). The binding implements this to build JS values directly.
pub trait RowSink {
    fn columns(&mut self, names: &[&str]) -> Result<()>;
    fn row(&mut self, row: &dyn RowView) -> Result<bool>;
}

/// A sink that keeps rows as owned values (for the async API and Rust callers).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OwnedRows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
    /// Stop after this many rows (`None`: all).
    pub limit: Option<usize>,
}

impl OwnedRows {
    pub fn with_limit(limit: usize) -> Self {
        OwnedRows { limit: Some(limit), ..Default::default() }
    }
}

impl RowSink for OwnedRows {
    fn columns(&mut self, names: &[&str]) -> Result<()> {
        self.columns = names.iter().map(|s| s.to_string()).collect();
        Ok(())
    }

    fn row(&mut self, row: &dyn RowView) -> Result<bool> {
        let mut out = Vec::with_capacity(row.column_count());
        for i in 0..row.column_count() {
            out.push(row.get(i)?.to_owned());
        }
        self.rows.push(out);
        Ok(self.limit.is_none_or(|l| self.rows.len() < l))
    }
}
