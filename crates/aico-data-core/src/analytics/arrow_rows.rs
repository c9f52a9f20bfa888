//! Walks Arrow batches (DuckDB's result format) row by row as [`RowView`]s, so a DuckDB
//! result reaches a [`RowSink`] (the binding's JavaScript row builder) in the same shape as a
//! libSQL result. Integers and doubles stay numbers; booleans become 0/1 as in SQLite; dates
//! and timestamps become ISO-8601 text; other types (decimals aside) their display text.

use duckdb::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use duckdb::arrow::datatypes::*;
use duckdb::arrow::util::display::{ArrayFormatter, FormatOptions};

use super::time::{format_date, format_iso_micros};
use crate::error::{Error, Result};
use crate::sql::{RowSink, RowView, ValueRef};

/// One column of a batch, downcast once.
enum Col<'a> {
    Null,
    I64(Vec<Option<i64>>),
    F64(Vec<Option<f64>>),
    Str(&'a dyn Array, Kind),
    /// Preformatted text (temporal and nested types).
    Text(Vec<Option<String>>),
}

#[derive(Clone, Copy)]
enum Kind {
    Utf8,
    LargeUtf8,
    Utf8View,
    Binary,
    LargeBinary,
}

fn ints<T: ArrowPrimitiveType>(a: &ArrayRef, f: impl Fn(T::Native) -> i64) -> Vec<Option<i64>> {
    a.as_primitive::<T>().iter().map(|v| v.map(&f)).collect()
}

fn timestamps(a: &ArrayRef, unit: &TimeUnit) -> Vec<Option<String>> {
    let micros = |v: i64| match unit {
        TimeUnit::Second => v.saturating_mul(1_000_000),
        TimeUnit::Millisecond => v.saturating_mul(1_000),
        TimeUnit::Microsecond => v,
        TimeUnit::Nanosecond => v.div_euclid(1_000),
    };
    let raw: Vec<Option<i64>> = match unit {
        TimeUnit::Second => ints::<TimestampSecondType>(a, |v| v),
        TimeUnit::Millisecond => ints::<TimestampMillisecondType>(a, |v| v),
        TimeUnit::Microsecond => ints::<TimestampMicrosecondType>(a, |v| v),
        TimeUnit::Nanosecond => ints::<TimestampNanosecondType>(a, |v| v),
    };
    raw.into_iter().map(|v| v.map(|v| format_iso_micros(micros(v)))).collect()
}

fn decimal(a: &ArrayRef, scale: i8) -> Col<'static> {
    let arr = a.as_primitive::<Decimal128Type>();
    if scale == 0 && arr.iter().all(|v| v.is_none_or(|v| i64::try_from(v).is_ok())) {
        return Col::I64(arr.iter().map(|v| v.map(|v| v as i64)).collect());
    }
    let div = 10f64.powi(scale as i32);
    Col::F64(arr.iter().map(|v| v.map(|v| v as f64 / div)).collect())
}

fn formatted(a: &ArrayRef) -> Result<Vec<Option<String>>> {
    let opts = FormatOptions::default();
    let f = ArrayFormatter::try_new(a.as_ref(), &opts).map_err(|e| Error::Internal(format!("formatting result: {e}")))?;
    Ok((0..a.len()).map(|i| if a.is_null(i) { None } else { Some(f.value(i).to_string()) }).collect())
}

fn column(a: &ArrayRef) -> Result<Col<'_>> {
    Ok(match a.data_type() {
        DataType::Null => Col::Null,
        DataType::Boolean => Col::I64(a.as_boolean().iter().map(|v| v.map(i64::from)).collect()),
        DataType::Int8 => Col::I64(ints::<Int8Type>(a, i64::from)),
        DataType::Int16 => Col::I64(ints::<Int16Type>(a, i64::from)),
        DataType::Int32 => Col::I64(ints::<Int32Type>(a, i64::from)),
        DataType::Int64 => Col::I64(ints::<Int64Type>(a, |v| v)),
        DataType::UInt8 => Col::I64(ints::<UInt8Type>(a, i64::from)),
        DataType::UInt16 => Col::I64(ints::<UInt16Type>(a, i64::from)),
        DataType::UInt32 => Col::I64(ints::<UInt32Type>(a, i64::from)),
        DataType::UInt64 => {
            let arr = a.as_primitive::<UInt64Type>();
            if arr.iter().all(|v| v.is_none_or(|v| v <= i64::MAX as u64)) {
                Col::I64(arr.iter().map(|v| v.map(|v| v as i64)).collect())
            } else {
                Col::F64(arr.iter().map(|v| v.map(|v| v as f64)).collect())
            }
        }
        DataType::Float16 => Col::F64(a.as_primitive::<Float16Type>().iter().map(|v| v.map(f64::from)).collect()),
        DataType::Float32 => Col::F64(a.as_primitive::<Float32Type>().iter().map(|v| v.map(f64::from)).collect()),
        DataType::Float64 => Col::F64(a.as_primitive::<Float64Type>().iter().collect()),
        DataType::Decimal128(_, scale) => decimal(a, *scale),
        DataType::Utf8 => Col::Str(a.as_ref(), Kind::Utf8),
        DataType::LargeUtf8 => Col::Str(a.as_ref(), Kind::LargeUtf8),
        DataType::Utf8View => Col::Str(a.as_ref(), Kind::Utf8View),
        DataType::Binary => Col::Str(a.as_ref(), Kind::Binary),
        DataType::LargeBinary => Col::Str(a.as_ref(), Kind::LargeBinary),
        DataType::Timestamp(unit, _) => Col::Text(timestamps(a, unit)),
        DataType::Date32 => Col::Text(a.as_primitive::<Date32Type>().iter().map(|v| v.map(|d| format_date(d as i64))).collect()),
        _ => Col::Text(formatted(a)?),
    })
}

struct BatchRow<'b, 'a> {
    cols: &'b [Col<'a>],
    row: usize,
}

impl RowView for BatchRow<'_, '_> {
    fn column_count(&self) -> usize {
        self.cols.len()
    }

    fn get(&self, index: usize) -> Result<ValueRef<'_>> {
        let r = self.row;
        let col = self.cols.get(index).ok_or_else(|| Error::Internal(format!("no column {index}")))?;
        Ok(match col {
            Col::Null => ValueRef::Null,
            Col::I64(v) => v[r].map_or(ValueRef::Null, ValueRef::Integer),
            Col::F64(v) => v[r].map_or(ValueRef::Null, ValueRef::Real),
            Col::Text(v) => v[r].as_deref().map_or(ValueRef::Null, |s| ValueRef::Text(s.as_bytes())),
            Col::Str(a, kind) => {
                if a.is_null(r) {
                    ValueRef::Null
                } else {
                    match kind {
                        Kind::Utf8 => ValueRef::Text(a.as_string::<i32>().value(r).as_bytes()),
                        Kind::LargeUtf8 => ValueRef::Text(a.as_string::<i64>().value(r).as_bytes()),
                        Kind::Utf8View => ValueRef::Text(a.as_string_view().value(r).as_bytes()),
                        Kind::Binary => ValueRef::Blob(a.as_binary::<i32>().value(r)),
                        Kind::LargeBinary => ValueRef::Blob(a.as_binary::<i64>().value(r)),
                    }
                }
            }
        })
    }
}

/// Sends every row of `batch` to `sink`; returns false when the sink asked to stop.
pub(crate) fn send_batch(batch: &RecordBatch, sink: &mut dyn RowSink) -> Result<bool> {
    let cols: Vec<Col<'_>> = batch.columns().iter().map(column).collect::<Result<_>>()?;
    for row in 0..batch.num_rows() {
        if !sink.row(&BatchRow { cols: &cols, row })? {
            return Ok(false);
        }
    }
    Ok(true)
}
