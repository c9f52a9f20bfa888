//! Appends rows to a DuckDB table a data chunk (2,048 rows) at a time, writing values
//! straight into the chunk's vectors: no per-value C call except for strings. Fed by the
//! libSQL reader as a [`RowSink`] (the ETL) or by Arrow batches (snapshot restore).

use std::marker::PhantomData;
use std::ptr;

use duckdb::arrow::array::{Array, AsArray, RecordBatch};
use duckdb::arrow::datatypes::{DataType, Float64Type, Int64Type, TimeUnit, TimestampMicrosecondType};
use duckdb::ffi;

use super::column_type::ColumnType;
use super::raw::{appender_error, c_name, RawConn};
use super::time::parse_iso_micros;
use crate::error::{Error, Result};
use crate::sql::{RowSink, RowView, ValueRef};

struct Column {
    ty: ColumnType,
    vector: ffi::duckdb_vector,
    data: *mut u8,
    validity: *mut u64,
}

/// An appender on one table (or temporary staging table) of the ETL connection.
pub(crate) struct ChunkAppender<'c> {
    appender: ffi::duckdb_appender,
    chunk: ffi::duckdb_data_chunk,
    columns: Vec<Column>,
    len: usize,
    capacity: usize,
    rows: u64,
    coerced: u64,
    table: String,
    _conn: PhantomData<&'c RawConn>,
}

impl<'c> ChunkAppender<'c> {
    /// An appender for `table`, whose columns must have exactly `types`, in order.
    pub(crate) fn new(conn: &'c RawConn, table: &str, types: &[ColumnType]) -> Result<Self> {
        let name = c_name(table)?;
        unsafe {
            let mut appender: ffi::duckdb_appender = ptr::null_mut();
            if ffi::duckdb_appender_create(conn.handle(), ptr::null(), name.as_ptr(), &mut appender) != ffi::DuckDBSuccess {
                let msg = appender_error(appender);
                ffi::duckdb_appender_destroy(&mut appender);
                return Err(Error::Internal(format!("cannot append to {table}: {msg}")));
            }
            let mut logical: Vec<ffi::duckdb_logical_type> =
                types.iter().map(|t| ffi::duckdb_create_logical_type(t.duckdb_type())).collect();
            let chunk = ffi::duckdb_create_data_chunk(logical.as_mut_ptr(), logical.len() as u64);
            for t in &mut logical {
                ffi::duckdb_destroy_logical_type(t);
            }
            let columns =
                types.iter().map(|&ty| Column { ty, vector: ptr::null_mut(), data: ptr::null_mut(), validity: ptr::null_mut() }).collect();
            let mut app = ChunkAppender {
                appender,
                chunk,
                columns,
                len: 0,
                capacity: ffi::duckdb_vector_size() as usize,
                rows: 0,
                coerced: 0,
                table: table.to_string(),
                _conn: PhantomData,
            };
            app.bind_vectors();
            Ok(app)
        }
    }

    /// (Re)reads the vector pointers; they change when the chunk is reset.
    fn bind_vectors(&mut self) {
        for (i, c) in self.columns.iter_mut().enumerate() {
            unsafe {
                c.vector = ffi::duckdb_data_chunk_get_vector(self.chunk, i as u64);
                c.data = ffi::duckdb_vector_get_data(c.vector).cast();
                c.validity = ptr::null_mut();
            }
        }
    }

    /// Values that did not fit their column type and were stored as NULL.
    pub(crate) fn coerced(&self) -> u64 {
        self.coerced
    }

    fn set_null(&mut self, col: usize) {
        self.set_null_at(col, self.len);
    }

    fn set_null_at(&mut self, col: usize, row: usize) {
        let c = &mut self.columns[col];
        unsafe {
            if c.validity.is_null() {
                ffi::duckdb_vector_ensure_validity_writable(c.vector);
                c.validity = ffi::duckdb_vector_get_validity(c.vector);
            }
            ffi::duckdb_validity_set_row_invalid(c.validity, row as u64);
        }
    }

    fn put_i64(&mut self, col: usize, v: i64) {
        unsafe { *self.columns[col].data.cast::<i64>().add(self.len) = v }
    }

    fn put_f64(&mut self, col: usize, v: f64) {
        unsafe { *self.columns[col].data.cast::<f64>().add(self.len) = v }
    }

    fn put_bool(&mut self, col: usize, v: bool) {
        unsafe { *self.columns[col].data.cast::<bool>().add(self.len) = v }
    }

    fn put_str(&mut self, col: usize, bytes: &[u8]) {
        // VARCHAR must be valid UTF-8; SQLite does not check, so repair rather than lose the row.
        let fixed;
        let bytes = match std::str::from_utf8(bytes) {
            Ok(_) => bytes,
            Err(_) => {
                fixed = String::from_utf8_lossy(bytes).into_owned();
                fixed.as_bytes()
            }
        };
        self.assign_str(col, self.len, bytes);
    }

    /// Stores valid UTF-8 `bytes` at `row` of a VARCHAR column.
    fn assign_str(&mut self, col: usize, row: usize, bytes: &[u8]) {
        unsafe {
            ffi::duckdb_unsafe_vector_assign_string_element_len(
                self.columns[col].vector,
                row as u64,
                bytes.as_ptr().cast(),
                bytes.len() as u64,
            )
        }
    }

    fn coerce_failed(&mut self, col: usize) {
        self.coerced += 1;
        self.set_null(col);
    }

    /// Writes one libSQL value into column `col` of the current row, converting it to the
    /// column's type. A value that cannot be converted is stored as NULL and counted.
    pub(crate) fn put(&mut self, col: usize, v: ValueRef<'_>) {
        match (self.columns[col].ty, v) {
            (_, ValueRef::Null) => self.set_null(col),
            (ColumnType::Text, ValueRef::Text(t) | ValueRef::Blob(t)) => self.put_str(col, t),
            (ColumnType::Text, ValueRef::Integer(i)) => self.put_str(col, i.to_string().as_bytes()),
            (ColumnType::Text, ValueRef::Real(f)) => self.put_str(col, f.to_string().as_bytes()),
            (ColumnType::Integer, ValueRef::Integer(i)) => self.put_i64(col, i),
            (ColumnType::Integer, ValueRef::Real(f)) if f.is_finite() => self.put_i64(col, f as i64),
            (ColumnType::Integer, ValueRef::Text(t)) => match parse_num::<i64>(t) {
                Some(i) => self.put_i64(col, i),
                None => self.coerce_failed(col),
            },
            (ColumnType::Real, ValueRef::Real(f)) => self.put_f64(col, f),
            (ColumnType::Real, ValueRef::Integer(i)) => self.put_f64(col, i as f64),
            (ColumnType::Real, ValueRef::Text(t)) => match parse_num::<f64>(t) {
                Some(f) => self.put_f64(col, f),
                None => self.coerce_failed(col),
            },
            (ColumnType::Timestamp(unit), ValueRef::Text(t)) => {
                // A number in a TEXT-affinity column arrives as text: read it as an epoch value.
                let epoch = || parse_num::<i64>(t).and_then(|n| n.checked_mul(unit.micros_per_unit()));
                match parse_iso_micros(t).or_else(epoch) {
                    Some(us) => self.put_i64(col, us),
                    None => self.coerce_failed(col),
                }
            }
            (ColumnType::Timestamp(unit), ValueRef::Integer(i)) => match i.checked_mul(unit.micros_per_unit()) {
                Some(us) => self.put_i64(col, us),
                None => self.coerce_failed(col),
            },
            (ColumnType::Timestamp(unit), ValueRef::Real(f)) if f.is_finite() => {
                self.put_i64(col, (f * unit.micros_per_unit() as f64) as i64)
            }
            (ColumnType::Boolean, ValueRef::Integer(i)) => self.put_bool(col, i != 0),
            (ColumnType::Boolean, ValueRef::Real(f)) => self.put_bool(col, f != 0.0),
            (ColumnType::Boolean, ValueRef::Text(t)) => match t {
                b"true" | b"TRUE" | b"1" => self.put_bool(col, true),
                b"false" | b"FALSE" | b"0" => self.put_bool(col, false),
                _ => self.coerce_failed(col),
            },
            _ => self.coerce_failed(col),
        }
    }

    /// Ends the current row; a full chunk goes to the appender.
    pub(crate) fn end_row(&mut self) -> Result<()> {
        self.len += 1;
        self.rows += 1;
        if self.len == self.capacity {
            self.flush_chunk()?;
        }
        Ok(())
    }

    fn flush_chunk(&mut self) -> Result<()> {
        if self.len == 0 {
            return Ok(());
        }
        unsafe {
            ffi::duckdb_data_chunk_set_size(self.chunk, self.len as u64);
            if ffi::duckdb_append_data_chunk(self.appender, self.chunk) != ffi::DuckDBSuccess {
                return Err(super::raw::error_from_message(format!("appending to {}: {}", self.table, appender_error(self.appender))));
            }
            ffi::duckdb_data_chunk_reset(self.chunk);
        }
        self.len = 0;
        self.bind_vectors();
        Ok(())
    }

    /// Appends every row of an Arrow batch whose columns have this appender's types, column by
    /// column (numbers are copied as slices; Arrow strings are valid UTF-8 already).
    pub(crate) fn append_batch(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.num_columns() != self.columns.len() {
            return Err(Error::Corrupt(format!(
                "{}: batch has {} columns, the table {}",
                self.table,
                batch.num_columns(),
                self.columns.len()
            )));
        }
        for (i, c) in self.columns.iter().enumerate() {
            let got = batch.column(i).data_type();
            let want = c.ty.arrow_type();
            let same = got == &want
                || matches!((got, &want), (DataType::Timestamp(TimeUnit::Microsecond, _), DataType::Timestamp(..)))
                || matches!((got, &want), (DataType::LargeUtf8 | DataType::Utf8View, DataType::Utf8));
            if !same {
                return Err(Error::Corrupt(format!("{}: column {i} is {got}, expected {want}", self.table)));
            }
        }
        let n = batch.num_rows();
        let mut start = 0;
        while start < n {
            let take = (self.capacity - self.len).min(n - start);
            for col in 0..self.columns.len() {
                let a = batch.column(col);
                let at = self.len;
                match self.columns[col].ty {
                    ColumnType::Integer => self.copy_slice(col, at, &a.as_primitive::<Int64Type>().values()[start..start + take]),
                    ColumnType::Timestamp(_) => {
                        self.copy_slice(col, at, &a.as_primitive::<TimestampMicrosecondType>().values()[start..start + take])
                    }
                    ColumnType::Real => self.copy_slice(col, at, &a.as_primitive::<Float64Type>().values()[start..start + take]),
                    ColumnType::Boolean => {
                        let b = a.as_boolean();
                        for i in 0..take {
                            unsafe { *self.columns[col].data.cast::<bool>().add(at + i) = b.value(start + i) }
                        }
                    }
                    ColumnType::Text => {
                        for i in 0..take {
                            let r = start + i;
                            if a.is_null(r) {
                                continue;
                            }
                            let text = match a.data_type() {
                                DataType::LargeUtf8 => a.as_string::<i64>().value(r),
                                DataType::Utf8View => a.as_string_view().value(r),
                                _ => a.as_string::<i32>().value(r),
                            };
                            self.assign_str(col, at + i, text.as_bytes());
                        }
                    }
                }
                if a.null_count() > 0 {
                    for i in 0..take {
                        if a.is_null(start + i) {
                            self.set_null_at(col, at + i);
                        }
                    }
                }
            }
            self.len += take;
            self.rows += take as u64;
            start += take;
            if self.len == self.capacity {
                self.flush_chunk()?;
            }
        }
        Ok(())
    }

    fn copy_slice<T: Copy>(&mut self, col: usize, at: usize, values: &[T]) {
        debug_assert!(at + values.len() <= self.capacity);
        unsafe { std::ptr::copy_nonoverlapping(values.as_ptr(), self.columns[col].data.cast::<T>().add(at), values.len()) }
    }

    /// Appends what is buffered and closes the appender; returns the rows appended.
    pub(crate) fn finish(mut self) -> Result<u64> {
        self.flush_chunk()?;
        unsafe {
            if ffi::duckdb_appender_close(self.appender) != ffi::DuckDBSuccess {
                return Err(super::raw::error_from_message(format!("appending to {}: {}", self.table, appender_error(self.appender))));
            }
        }
        Ok(self.rows)
    }
}

fn parse_num<T: std::str::FromStr>(t: &[u8]) -> Option<T> {
    std::str::from_utf8(t).ok()?.trim().parse().ok()
}

impl Drop for ChunkAppender<'_> {
    fn drop(&mut self) {
        unsafe {
            ffi::duckdb_destroy_data_chunk(&mut self.chunk);
            ffi::duckdb_appender_destroy(&mut self.appender);
        }
    }
}

impl RowSink for ChunkAppender<'_> {
    fn columns(&mut self, names: &[&str]) -> Result<()> {
        if names.len() != self.columns.len() {
            return Err(Error::Internal(format!(
                "{}: source query returns {} columns, the table has {}",
                self.table,
                names.len(),
                self.columns.len()
            )));
        }
        Ok(())
    }

    fn row(&mut self, row: &dyn RowView) -> Result<bool> {
        for i in 0..self.columns.len() {
            let v = row.get(i)?;
            self.put(i, v);
        }
        self.end_row()?;
        Ok(true)
    }
}
