//! JS <-> SQL value conversion with raw Node-API calls (the hot path of every query).

use std::ptr;

use aico_data_core::sql::{OwnedRows, Params, RowSink, RowView, Value, ValueRef};
use aico_data_core::Error as CoreError;
use napi::sys::{self, napi_env, napi_value, ValueType};

use crate::error::invalid;

const MAX_SAFE: i64 = (1i64 << 53) - 1;

fn check(status: sys::napi_status, what: &str) -> napi::Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(napi::Error::new(napi::Status::GenericFailure, format!("[INTERNAL] Node-API call failed: {what}")))
    }
}

fn core_check(status: sys::napi_status, what: &str) -> aico_data_core::Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(CoreError::Internal(format!("Node-API call failed: {what}")))
    }
}

/// [`read_params`] of an optional argument (absent: no parameters).
pub fn params_of(p: Option<napi::bindgen_prelude::Unknown<'_>>) -> napi::Result<Params> {
    use napi::JsValue;
    match p {
        None => Ok(Params::None),
        Some(v) => {
            let raw = v.value();
            unsafe { read_params(raw.env, raw.value) }
        }
    }
}

/// Reads statement parameters: `undefined`/`null` (none), an array (positional) or a plain
/// object (named). Refuses anything else with `INVALID_ARGUMENT` naming the offender.
pub unsafe fn read_params(env: napi_env, v: napi_value) -> napi::Result<Params> {
    let t = type_of(env, v)?;
    if t == ValueType::napi_undefined || t == ValueType::napi_null {
        return Ok(Params::None);
    }
    if t != ValueType::napi_object {
        return Err(invalid("parameters must be an array or a plain object"));
    }
    let mut is_array = false;
    check(sys::napi_is_array(env, v, &mut is_array), "is_array")?;
    if is_array {
        let mut len = 0u32;
        check(sys::napi_get_array_length(env, v, &mut len), "array length")?;
        let mut out = Vec::with_capacity(len as usize);
        for i in 0..len {
            let mut el = ptr::null_mut();
            check(sys::napi_get_element(env, v, i, &mut el), "get element")?;
            out.push(read_value(env, el).map_err(|m| invalid(format!("parameter {}: {m}", i + 1)))?);
        }
        return Ok(Params::Positional(out));
    }
    if is_binary(env, v)? {
        return Err(invalid("parameters must be an array or a plain object, not a Buffer"));
    }
    let mut names = ptr::null_mut();
    check(sys::napi_get_property_names(env, v, &mut names), "property names")?;
    let mut len = 0u32;
    check(sys::napi_get_array_length(env, names, &mut len), "names length")?;
    let mut out = Vec::with_capacity(len as usize);
    for i in 0..len {
        let mut k = ptr::null_mut();
        check(sys::napi_get_element(env, names, i, &mut k), "name")?;
        let key = read_string(env, k)?;
        let mut el = ptr::null_mut();
        check(sys::napi_get_property(env, v, k, &mut el), "property")?;
        let name = key.trim_start_matches([':', '@', '$']).to_string();
        out.push((name, read_value(env, el).map_err(|m| invalid(format!("parameter {key}: {m}")))?));
    }
    Ok(Params::Named(out))
}

unsafe fn type_of(env: napi_env, v: napi_value) -> napi::Result<i32> {
    let mut t = 0;
    check(sys::napi_typeof(env, v, &mut t), "typeof")?;
    Ok(t)
}

pub unsafe fn read_string(env: napi_env, v: napi_value) -> napi::Result<String> {
    let mut len = 0usize;
    check(sys::napi_get_value_string_utf8(env, v, ptr::null_mut(), 0, &mut len), "string length")?;
    let mut buf = vec![0u8; len + 1];
    let mut written = 0usize;
    check(sys::napi_get_value_string_utf8(env, v, buf.as_mut_ptr().cast(), len + 1, &mut written), "string")?;
    buf.truncate(written);
    // Node writes valid UTF-8 (lone surrogates become U+FFFD).
    Ok(String::from_utf8_unchecked(buf))
}

unsafe fn is_binary(env: napi_env, v: napi_value) -> napi::Result<bool> {
    let mut b = false;
    check(sys::napi_is_typedarray(env, v, &mut b), "is_typedarray")?;
    Ok(b)
}

/// One JS value -> one SQL value. The error is a plain message; callers add the position.
unsafe fn read_value(env: napi_env, v: napi_value) -> Result<Value, String> {
    let t = type_of(env, v).map_err(|e| e.reason.clone())?;
    match t {
        ValueType::napi_null => Ok(Value::Null),
        ValueType::napi_undefined => Err("undefined is not a SQL value (use null)".into()),
        ValueType::napi_boolean => {
            let mut b = false;
            sys::napi_get_value_bool(env, v, &mut b);
            Ok(Value::Integer(b as i64))
        }
        ValueType::napi_number => {
            let mut f = 0f64;
            sys::napi_get_value_double(env, v, &mut f);
            if f.fract() == 0.0 && f.abs() <= MAX_SAFE as f64 {
                Ok(Value::Integer(f as i64))
            } else {
                Ok(Value::Real(f))
            }
        }
        ValueType::napi_bigint => {
            let mut i = 0i64;
            let mut lossless = false;
            sys::napi_get_value_bigint_int64(env, v, &mut i, &mut lossless);
            if lossless {
                Ok(Value::Integer(i))
            } else {
                Err("bigint outside the signed 64-bit range".into())
            }
        }
        ValueType::napi_string => read_string(env, v).map(Value::Text).map_err(|e| e.reason.clone()),
        ValueType::napi_object => {
            let mut is_ta = false;
            sys::napi_is_typedarray(env, v, &mut is_ta);
            if is_ta {
                let mut ty = 0;
                let mut len = 0usize;
                let mut data = ptr::null_mut();
                let mut ab = ptr::null_mut();
                let mut off = 0usize;
                sys::napi_get_typedarray_info(env, v, &mut ty, &mut len, &mut data, &mut ab, &mut off);
                if ty != sys::TypedarrayType::uint8_array {
                    return Err("only Uint8Array/Buffer binary values are supported".into());
                }
                let bytes = if len == 0 { Vec::new() } else { std::slice::from_raw_parts(data as *const u8, len).to_vec() };
                return Ok(Value::Blob(bytes));
            }
            let mut is_ab = false;
            sys::napi_is_arraybuffer(env, v, &mut is_ab);
            if is_ab {
                let mut data = ptr::null_mut();
                let mut len = 0usize;
                sys::napi_get_arraybuffer_info(env, v, &mut data, &mut len);
                let bytes = if len == 0 { Vec::new() } else { std::slice::from_raw_parts(data as *const u8, len).to_vec() };
                return Ok(Value::Blob(bytes));
            }
            let mut is_date = false;
            sys::napi_is_date(env, v, &mut is_date);
            if is_date {
                return Err("Date is not a SQL value (pass date.toISOString() or date.getTime())".into());
            }
            Err("objects and arrays are not SQL values (serialize with JSON.stringify)".into())
        }
        ValueType::napi_function => Err("a function is not a SQL value".into()),
        ValueType::napi_symbol => Err("a symbol is not a SQL value".into()),
        _ => Err("unsupported value type".into()),
    }
}

/// How a result row becomes a JS value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowShape {
    /// An object keyed by column name.
    Objects,
    /// An array in column order.
    Arrays,
    /// The first column's value alone.
    Pluck,
}

impl RowShape {
    /// The binding's wire form: 0 objects, 1 arrays, 2 pluck.
    pub fn from_code(code: u32) -> napi::Result<Self> {
        match code {
            0 => Ok(RowShape::Objects),
            1 => Ok(RowShape::Arrays),
            2 => Ok(RowShape::Pluck),
            _ => Err(invalid("row shape must be 0 (objects), 1 (arrays) or 2 (pluck)")),
        }
    }
}

/// Column keys a prepared statement made on an earlier call: reused while the statement's
/// columns keep these names, which saves creating the key strings on every call. Empty on
/// the first call; a mismatch makes new keys and reports their names in `made_names`.
pub struct PresetKeys<'n> {
    pub names: &'n [String],
    pub keys: Vec<napi_value>,
}

/// Builds JS values for result rows.
pub struct JsRowBuilder<'n> {
    env: napi_env,
    shape: RowShape,
    /// Keep only the first row (`queryOne`): no result array is built.
    one: bool,
    keys: Vec<napi_value>,
    ncols: usize,
    preset: Option<PresetKeys<'n>>,
    /// The statement's columns differed from the preset names (a schema change re-prepared
    /// it): `keys` holds new ones the caller may keep.
    pub columns_changed: bool,
    /// The names of the keys this builder had to make (object rows without matching preset keys).
    pub made_names: Option<Vec<String>>,
    rows: napi_value,
    first: napi_value,
    count: u32,
}

impl<'n> JsRowBuilder<'n> {
    /// `arrays`: rows as arrays instead of objects. `one`: stop after the first row.
    pub unsafe fn new(env: napi_env, arrays: bool, one: bool) -> napi::Result<Self> {
        Self::with_shape(env, if arrays { RowShape::Arrays } else { RowShape::Objects }, one, None)
    }

    pub unsafe fn with_shape(env: napi_env, shape: RowShape, one: bool, preset: Option<PresetKeys<'n>>) -> napi::Result<Self> {
        let mut rows = ptr::null_mut();
        if !one {
            check(sys::napi_create_array(env, &mut rows), "create array")?;
        }
        Ok(JsRowBuilder {
            env,
            shape,
            one,
            keys: Vec::new(),
            ncols: 0,
            preset,
            columns_changed: false,
            made_names: None,
            rows,
            first: ptr::null_mut(),
            count: 0,
        })
    }

    /// The column keys of the last result (JS strings), for the caller to keep.
    pub fn keys(&self) -> &[napi_value] {
        &self.keys
    }

    /// All rows (an array), or with `one` the first row or `undefined`.
    pub unsafe fn result(&self) -> napi::Result<napi_value> {
        if self.one {
            self.first()
        } else {
            Ok(self.rows)
        }
    }

    unsafe fn first(&self) -> napi::Result<napi_value> {
        if self.count > 0 {
            return Ok(self.first);
        }
        let mut out = ptr::null_mut();
        check(sys::napi_get_undefined(self.env, &mut out), "undefined")?;
        Ok(out)
    }

    unsafe fn value(&self, v: ValueRef<'_>) -> aico_data_core::Result<napi_value> {
        let env = self.env;
        let mut out = ptr::null_mut();
        let st = match v {
            ValueRef::Null => sys::napi_get_null(env, &mut out),
            ValueRef::Integer(i) if (-MAX_SAFE..=MAX_SAFE).contains(&i) => sys::napi_create_int64(env, i, &mut out),
            ValueRef::Integer(i) => sys::napi_create_bigint_int64(env, i, &mut out),
            ValueRef::Real(f) => sys::napi_create_double(env, f, &mut out),
            ValueRef::Text(t) => sys::napi_create_string_utf8(env, t.as_ptr().cast(), t.len() as isize, &mut out),
            ValueRef::Blob(b) => {
                let mut data = ptr::null_mut();
                sys::napi_create_buffer_copy(env, b.len(), b.as_ptr().cast(), &mut data, &mut out)
            }
        };
        core_check(st, "create value")?;
        Ok(out)
    }

    /// Converts rows collected off the JS thread (async API).
    pub unsafe fn push_owned(&mut self, owned: &OwnedRows) -> aico_data_core::Result<()> {
        let names: Vec<&str> = owned.columns.iter().map(String::as_str).collect();
        self.columns(&names)?;
        for r in &owned.rows {
            self.push_values(r.iter().map(Value::as_ref))?;
        }
        Ok(())
    }

    unsafe fn push_values<'a>(&mut self, mut values: impl Iterator<Item = ValueRef<'a>>) -> aico_data_core::Result<()> {
        let env = self.env;
        let mut row = ptr::null_mut();
        match self.shape {
            RowShape::Arrays => {
                core_check(sys::napi_create_array_with_length(env, self.ncols, &mut row), "row array")?;
                for (i, v) in values.enumerate() {
                    let jv = self.value(v)?;
                    core_check(sys::napi_set_element(env, row, i as u32, jv), "set element")?;
                }
            }
            RowShape::Objects => {
                core_check(sys::napi_create_object(env, &mut row), "row object")?;
                for (i, v) in values.enumerate() {
                    let jv = self.value(v)?;
                    core_check(sys::napi_set_property(env, row, self.keys[i], jv), "set property")?;
                }
            }
            RowShape::Pluck => {
                row = match values.next() {
                    Some(v) => self.value(v)?,
                    None => return Err(CoreError::invalid("pluck() needs a statement that returns a column")),
                };
            }
        }
        if self.one {
            self.first = row;
        } else {
            core_check(sys::napi_set_element(env, self.rows, self.count, row), "push row")?;
        }
        self.count += 1;
        Ok(())
    }
}

impl RowSink for JsRowBuilder<'_> {
    fn columns(&mut self, names: &[&str]) -> aico_data_core::Result<()> {
        self.ncols = names.len();
        if let Some(p) = self.preset.take() {
            if p.keys.len() == names.len() && p.names.len() == names.len() && p.names.iter().zip(names).all(|(a, b)| a == b) {
                self.keys = p.keys;
                return Ok(());
            }
            self.columns_changed = true;
        }
        self.keys.clear();
        if self.shape != RowShape::Objects {
            // Arrays and plucked values have no keys; an empty list still marks the change.
            return Ok(());
        }
        if self.columns_changed {
            self.made_names = Some(names.iter().map(|n| n.to_string()).collect());
        }
        for n in names {
            let mut k = ptr::null_mut();
            core_check(unsafe { sys::napi_create_string_utf8(self.env, n.as_ptr().cast(), n.len() as isize, &mut k) }, "column name")?;
            self.keys.push(k);
        }
        Ok(())
    }

    fn row(&mut self, row: &dyn RowView) -> aico_data_core::Result<bool> {
        let n = row.column_count();
        if n <= 8 {
            // Short rows (the common case) without a heap allocation.
            let mut vals = [ValueRef::Null; 8];
            for (i, slot) in vals.iter_mut().enumerate().take(n) {
                *slot = row.get(i)?;
            }
            unsafe { self.push_values(vals[..n].iter().copied())? };
        } else {
            let mut vals = Vec::with_capacity(n);
            for i in 0..n {
                vals.push(row.get(i)?);
            }
            unsafe { self.push_values(vals.into_iter())? };
        }
        Ok(!self.one)
    }
}

/// Declares an async task's output wrapper as `unknown` to the generated TypeScript (the
/// hand-written TS layer gives it its real type).
macro_rules! untyped_js_output {
    ($t:ty) => {
        impl napi::bindgen_prelude::TypeName for $t {
            fn type_name() -> &'static str {
                "unknown"
            }
            fn value_type() -> napi::ValueType {
                napi::ValueType::Unknown
            }
        }
    };
}
pub(crate) use untyped_js_output;
