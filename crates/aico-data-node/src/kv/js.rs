//! Raw Node-API conversions for the KV binding: keys (string or bytes), values (bytes only),
//! namespaces, and the Buffers, arrays and objects it returns. Raw calls keep the hot
//! paths free of napi-rs references and external buffers (small values are copied).

use std::ffi::{c_char, CStr};
use std::ops::Deref;
use std::ptr;

use napi::sys::{self, napi_env, napi_value, ValueType};

use crate::error::invalid;

pub fn status(s: sys::napi_status, what: &str) -> napi::Result<()> {
    if s == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(napi::Error::new(napi::Status::GenericFailure, format!("[INTERNAL] Node-API call failed: {what}")))
    }
}

pub unsafe fn type_of(env: napi_env, v: napi_value) -> napi::Result<i32> {
    let mut t = 0;
    status(sys::napi_typeof(env, v, &mut t), "typeof")?;
    Ok(t)
}

fn type_name(t: i32) -> &'static str {
    match t {
        ValueType::napi_undefined => "undefined",
        ValueType::napi_null => "null",
        ValueType::napi_boolean => "a boolean",
        ValueType::napi_number => "a number",
        ValueType::napi_string => "a string",
        ValueType::napi_symbol => "a symbol",
        ValueType::napi_object => "an object",
        ValueType::napi_function => "a function",
        ValueType::napi_bigint => "a bigint",
        _ => "an unsupported value",
    }
}

pub unsafe fn is_nullish(env: napi_env, v: napi_value) -> napi::Result<bool> {
    let t = type_of(env, v)?;
    Ok(t == ValueType::napi_undefined || t == ValueType::napi_null)
}

const INLINE: usize = 256;

/// Bytes read from JS: borrowed from a Buffer/Uint8Array (valid during the call), or a
/// string's UTF-8, inline when short.
#[allow(clippy::large_enum_variant)] // on the stack by design: short keys need no allocation
pub enum Bytes<'a> {
    Borrowed(&'a [u8]),
    Inline([u8; INLINE], usize),
    Owned(Vec<u8>),
}

impl Deref for Bytes<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Borrowed(b) => b,
            Bytes::Inline(buf, len) => &buf[..*len],
            Bytes::Owned(v) => v,
        }
    }
}

unsafe fn binary<'a>(env: napi_env, v: napi_value) -> napi::Result<Option<&'a [u8]>> {
    let mut is_buffer = false;
    status(sys::napi_is_buffer(env, v, &mut is_buffer), "is_buffer")?;
    if !is_buffer {
        return Ok(None);
    }
    let mut data = ptr::null_mut();
    let mut len = 0usize;
    status(sys::napi_get_buffer_info(env, v, &mut data, &mut len), "buffer info")?;
    Ok(Some(if len == 0 { &[] } else { std::slice::from_raw_parts(data as *const u8, len) }))
}

unsafe fn utf8<'a>(env: napi_env, v: napi_value) -> napi::Result<Bytes<'a>> {
    let mut inline = [0u8; INLINE];
    let mut len = 0usize;
    status(sys::napi_get_value_string_utf8(env, v, inline.as_mut_ptr() as *mut c_char, INLINE, &mut len), "string")?;
    if len < INLINE - 1 {
        return Ok(Bytes::Inline(inline, len));
    }
    status(sys::napi_get_value_string_utf8(env, v, ptr::null_mut(), 0, &mut len), "string length")?;
    let mut buf = vec![0u8; len + 1];
    status(sys::napi_get_value_string_utf8(env, v, buf.as_mut_ptr() as *mut c_char, len + 1, &mut len), "string")?;
    buf.truncate(len);
    Ok(Bytes::Owned(buf))
}

/// A key: a string (its UTF-8 bytes) or a Buffer/Uint8Array.
pub unsafe fn key<'a>(env: napi_env, v: napi_value, what: &str) -> napi::Result<Bytes<'a>> {
    // Strings first, without a typeof: reading anything else as a string fails with
    // `napi_string_expected` (no exception), and keys are usually strings.
    let mut inline = [0u8; INLINE];
    let mut len = 0usize;
    match sys::napi_get_value_string_utf8(env, v, inline.as_mut_ptr() as *mut c_char, INLINE, &mut len) {
        sys::Status::napi_ok if len < INLINE - 1 => return Ok(Bytes::Inline(inline, len)),
        sys::Status::napi_ok => return utf8(env, v),
        sys::Status::napi_string_expected => {}
        _ => status(sys::Status::napi_generic_failure, "string")?,
    }
    let t = type_of(env, v)?;
    if t == ValueType::napi_object {
        if let Some(b) = binary(env, v)? {
            return Ok(Bytes::Borrowed(b));
        }
    }
    Err(invalid(format!("{what} must be a string, Buffer or Uint8Array, not {}", type_name(t))))
}

/// Where [`key_into`] left a key.
pub enum KeyRef<'a> {
    /// A Buffer/Uint8Array's bytes (valid during the call).
    Bytes(&'a [u8]),
    /// A string's UTF-8, appended to the arena at `(start, len)`.
    Span(usize, usize),
}

/// A key without allocating per key: bytes are borrowed, a string's UTF-8 is appended to
/// `arena`. `None` when `v` is neither (the caller builds the error message).
pub unsafe fn key_into<'a>(env: napi_env, v: napi_value, arena: &mut Vec<u8>) -> napi::Result<Option<KeyRef<'a>>> {
    let t = type_of(env, v)?;
    if t == ValueType::napi_string {
        let start = arena.len();
        arena.reserve(INLINE);
        let cap = arena.capacity() - start;
        let mut len = 0usize;
        status(sys::napi_get_value_string_utf8(env, v, arena.as_mut_ptr().add(start) as *mut c_char, cap, &mut len), "string")?;
        if len + 1 >= cap {
            status(sys::napi_get_value_string_utf8(env, v, ptr::null_mut(), 0, &mut len), "string length")?;
            arena.reserve(len + 1);
            let cap = arena.capacity() - start;
            status(sys::napi_get_value_string_utf8(env, v, arena.as_mut_ptr().add(start) as *mut c_char, cap, &mut len), "string")?;
        }
        arena.set_len(start + len);
        return Ok(Some(KeyRef::Span(start, len)));
    }
    if t == ValueType::napi_object {
        if let Some(b) = binary(env, v)? {
            return Ok(Some(KeyRef::Bytes(b)));
        }
    }
    Ok(None)
}

/// `[a, b]`: the two elements of a 2-element array, or `None` when `v` is not one.
pub unsafe fn pair(env: napi_env, v: napi_value) -> napi::Result<Option<(napi_value, napi_value)>> {
    let mut is_array = false;
    status(sys::napi_is_array(env, v, &mut is_array), "is_array")?;
    if !is_array {
        return Ok(None);
    }
    let mut len = 0u32;
    status(sys::napi_get_array_length(env, v, &mut len), "array length")?;
    if len != 2 {
        return Ok(None);
    }
    let (mut a, mut b) = (ptr::null_mut(), ptr::null_mut());
    status(sys::napi_get_element(env, v, 0, &mut a), "array element")?;
    status(sys::napi_get_element(env, v, 1, &mut b), "array element")?;
    Ok(Some((a, b)))
}

/// A value: a Buffer or Uint8Array (strings and objects go through the JSON layer).
pub unsafe fn value<'a>(env: napi_env, v: napi_value, what: &str) -> napi::Result<&'a [u8]> {
    let t = type_of(env, v)?;
    if t == ValueType::napi_object {
        if let Some(b) = binary(env, v)? {
            return Ok(b);
        }
    }
    Err(invalid(format!("{what} must be a Buffer or Uint8Array, not {} (use the JSON methods for other values)", type_name(t))))
}

/// A caller's scratch Buffer, written in place (valid during the call).
pub unsafe fn slab<'a>(env: napi_env, v: napi_value) -> napi::Result<&'a mut [u8]> {
    match binary(env, v)? {
        Some(b) => Ok(if b.is_empty() { &mut [] } else { std::slice::from_raw_parts_mut(b.as_ptr() as *mut u8, b.len()) }),
        None => Err(invalid("slab must be a Buffer")),
    }
}

pub unsafe fn string(env: napi_env, v: napi_value, what: &str) -> napi::Result<String> {
    let t = type_of(env, v)?;
    if t != ValueType::napi_string {
        return Err(invalid(format!("{what} must be a string, not {}", type_name(t))));
    }
    let b = utf8(env, v)?;
    Ok(String::from_utf8_lossy(&b).into_owned())
}

/// A namespace name, read without allocating (names are at most 64 bytes).
pub struct Name {
    buf: [u8; 72],
    len: usize,
}

impl Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

pub unsafe fn namespace(env: napi_env, v: napi_value) -> napi::Result<Name> {
    let mut name = Name { buf: [0u8; 72], len: 0 };
    match sys::napi_get_value_string_utf8(env, v, name.buf.as_mut_ptr() as *mut c_char, 72, &mut name.len) {
        sys::Status::napi_ok => {}
        sys::Status::napi_string_expected => {
            return Err(invalid(format!("namespace must be a string, not {}", type_name(type_of(env, v)?))))
        }
        s => status(s, "namespace")?,
    }
    if name.len > 64 || std::str::from_utf8(&name.buf[..name.len]).is_err() {
        return Err(invalid("namespace name is longer than 64 bytes"));
    }
    Ok(name)
}

pub unsafe fn array_items(env: napi_env, v: napi_value, what: &str) -> napi::Result<Vec<napi_value>> {
    let mut is_array = false;
    status(sys::napi_is_array(env, v, &mut is_array), "is_array")?;
    if !is_array {
        return Err(invalid(format!("{what} must be an array")));
    }
    let mut len = 0u32;
    status(sys::napi_get_array_length(env, v, &mut len), "array length")?;
    let mut out = Vec::with_capacity(len as usize);
    for i in 0..len {
        let mut el = ptr::null_mut();
        status(sys::napi_get_element(env, v, i, &mut el), "array element")?;
        out.push(el);
    }
    Ok(out)
}

pub unsafe fn property(env: napi_env, obj: napi_value, name: &CStr) -> napi::Result<napi_value> {
    let mut v = ptr::null_mut();
    status(sys::napi_get_named_property(env, obj, name.as_ptr(), &mut v), "property")?;
    Ok(v)
}

pub unsafe fn is_object(env: napi_env, v: napi_value) -> napi::Result<bool> {
    Ok(type_of(env, v)? == ValueType::napi_object)
}

pub unsafe fn bool_or(env: napi_env, v: napi_value, default: bool) -> napi::Result<bool> {
    if is_nullish(env, v)? {
        return Ok(default);
    }
    let mut b = false;
    status(sys::napi_get_value_bool(env, v, &mut b), "boolean").map_err(|_| invalid("expected a boolean"))?;
    Ok(b)
}

pub unsafe fn number_opt(env: napi_env, v: napi_value, what: &str) -> napi::Result<Option<f64>> {
    if is_nullish(env, v)? {
        return Ok(None);
    }
    let mut n = 0f64;
    status(sys::napi_get_value_double(env, v, &mut n), what).map_err(|_| invalid(format!("{what} must be a number")))?;
    Ok(Some(n))
}

// ---- output ----

pub unsafe fn buffer(env: napi_env, bytes: &[u8]) -> napi::Result<napi_value> {
    let mut out = ptr::null_mut();
    let mut data = ptr::null_mut();
    status(sys::napi_create_buffer_copy(env, bytes.len(), bytes.as_ptr().cast(), &mut data, &mut out), "create buffer")?;
    Ok(out)
}

/// A new Buffer of `len` bytes to fill (its memory is valid until the call returns).
pub unsafe fn buffer_uninit<'a>(env: napi_env, len: usize) -> napi::Result<(napi_value, &'a mut [u8])> {
    let mut out = ptr::null_mut();
    let mut data = ptr::null_mut();
    status(sys::napi_create_buffer(env, len, &mut data, &mut out), "create buffer")?;
    Ok((out, if len == 0 { &mut [] } else { std::slice::from_raw_parts_mut(data as *mut u8, len) }))
}

pub unsafe fn text(env: napi_env, bytes: &[u8]) -> napi::Result<napi_value> {
    let mut out = ptr::null_mut();
    status(sys::napi_create_string_utf8(env, bytes.as_ptr().cast(), bytes.len() as isize, &mut out), "create string")?;
    Ok(out)
}

pub unsafe fn undefined(env: napi_env) -> napi::Result<napi_value> {
    let mut out = ptr::null_mut();
    status(sys::napi_get_undefined(env, &mut out), "undefined")?;
    Ok(out)
}

pub unsafe fn boolean(env: napi_env, b: bool) -> napi::Result<napi_value> {
    let mut out = ptr::null_mut();
    status(sys::napi_get_boolean(env, b, &mut out), "boolean")?;
    Ok(out)
}

pub unsafe fn number(env: napi_env, n: f64) -> napi::Result<napi_value> {
    let mut out = ptr::null_mut();
    status(sys::napi_create_double(env, n, &mut out), "number")?;
    Ok(out)
}

pub unsafe fn array(env: napi_env, len: usize) -> napi::Result<napi_value> {
    let mut out = ptr::null_mut();
    status(sys::napi_create_array_with_length(env, len, &mut out), "array")?;
    Ok(out)
}

pub unsafe fn set_element(env: napi_env, arr: napi_value, i: usize, v: napi_value) -> napi::Result<()> {
    status(sys::napi_set_element(env, arr, i as u32, v), "set element")
}

pub unsafe fn object(env: napi_env) -> napi::Result<napi_value> {
    let mut out = ptr::null_mut();
    status(sys::napi_create_object(env, &mut out), "object")?;
    Ok(out)
}

pub unsafe fn set(env: napi_env, obj: napi_value, name: &CStr, v: napi_value) -> napi::Result<()> {
    status(sys::napi_set_named_property(env, obj, name.as_ptr(), v), "set property")
}
