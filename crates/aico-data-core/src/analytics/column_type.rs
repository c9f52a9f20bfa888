//! The column types the analytics tables use, in DuckDB and in Arrow.

use duckdb::arrow::datatypes::{DataType, TimeUnit};
use duckdb::ffi;

use super::time::EpochUnit;

/// Type of one analytics column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// `VARCHAR`.
    Text,
    /// `BIGINT`.
    Integer,
    /// `DOUBLE`.
    Real,
    /// `TIMESTAMP` (UTC). Source text is parsed as ISO-8601; source numbers are epoch values
    /// in the given unit.
    Timestamp(EpochUnit),
    /// `BOOLEAN` (source integers: non-zero is true).
    Boolean,
}

impl ColumnType {
    pub fn sql(self) -> &'static str {
        match self {
            ColumnType::Text => "VARCHAR",
            ColumnType::Integer => "BIGINT",
            ColumnType::Real => "DOUBLE",
            ColumnType::Timestamp(_) => "TIMESTAMP",
            ColumnType::Boolean => "BOOLEAN",
        }
    }

    pub(crate) fn duckdb_type(self) -> ffi::DUCKDB_TYPE {
        match self {
            ColumnType::Text => ffi::DUCKDB_TYPE_DUCKDB_TYPE_VARCHAR,
            ColumnType::Integer => ffi::DUCKDB_TYPE_DUCKDB_TYPE_BIGINT,
            ColumnType::Real => ffi::DUCKDB_TYPE_DUCKDB_TYPE_DOUBLE,
            ColumnType::Timestamp(_) => ffi::DUCKDB_TYPE_DUCKDB_TYPE_TIMESTAMP,
            ColumnType::Boolean => ffi::DUCKDB_TYPE_DUCKDB_TYPE_BOOLEAN,
        }
    }

    /// The Arrow type DuckDB exports this column as.
    pub(crate) fn arrow_type(self) -> DataType {
        match self {
            ColumnType::Text => DataType::Utf8,
            ColumnType::Integer => DataType::Int64,
            ColumnType::Real => DataType::Float64,
            ColumnType::Timestamp(_) => DataType::Timestamp(TimeUnit::Microsecond, None),
            ColumnType::Boolean => DataType::Boolean,
        }
    }

    /// Stable text for fingerprints (the epoch unit matters: it changes the values).
    pub(crate) fn fingerprint(self) -> String {
        match self {
            ColumnType::Timestamp(u) => format!("TIMESTAMP/{}", u.label()),
            other => other.sql().to_string(),
        }
    }
}
