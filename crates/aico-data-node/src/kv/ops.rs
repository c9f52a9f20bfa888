//! KV operations as values: parsed from JS once, run either on the JS thread (sync
//! methods) or on the libuv pool (`*Async` methods), converted back to JS the same way.

use std::ops::Bound;
use std::sync::Arc;

use aico_data_core::kv::{whole_ms, EnqueueOptions, KvStore, Leased, MessageId, ScanPage, ScanRange, Settle, Ttl, Unsealed, WriteOp};
use napi::bindgen_prelude::*;
use napi::sys::{napi_env, napi_value};

use super::js;
use crate::error::{invalid, OrThrow};

/// `ttlMs` from JS (the rule: [`Ttl::from_ms`]).
pub fn ttl(ms: Option<f64>) -> Result<Ttl> {
    Ttl::from_ms(ms).or_throw()
}

/// A non-negative number of milliseconds (or a count) from JS (the rule: [`whole_ms`]).
pub fn ms(x: f64, what: &str) -> Result<u64> {
    whole_ms(x, what).or_throw()
}

pub enum KvOp {
    Get(String, Vec<u8>),
    Put(String, Vec<u8>, Vec<u8>, Ttl),
    Delete(String, Vec<u8>),
    GetMany(String, Vec<Vec<u8>>),
    PutMany(String, Vec<(Vec<u8>, Vec<u8>)>, Ttl),
    Batch(Vec<WriteOp>),
    Scan { ns: String, range: ScanRange, after: Option<Vec<u8>>, limit: usize, keys_only: bool, string_keys: bool },
    Enqueue(String, Vec<Vec<u8>>, EnqueueOptions),
    Lease(String, usize, u64),
    Settle(MessageId, Settle),
    Flush,
}

pub enum KvOut {
    Value(Option<Unsealed>),
    Values(Vec<Option<Unsealed>>),
    Page(ScanPage, bool, bool),
    Seqs(Vec<u64>),
    Leased(Vec<Leased>),
    Bool(bool),
    Unit,
}

pub fn run(kv: &KvStore, op: KvOp) -> Result<KvOut> {
    let out = match op {
        KvOp::Get(ns, k) => kv.get(&ns, &k).map(KvOut::Value),
        KvOp::Put(ns, k, v, t) => kv.put(&ns, &k, &v, t).map(|_| KvOut::Unit),
        KvOp::Delete(ns, k) => kv.delete(&ns, &k).map(|_| KvOut::Unit),
        KvOp::GetMany(ns, keys) => kv.get_many(&ns, &keys).map(KvOut::Values),
        KvOp::PutMany(ns, entries, t) => kv.put_many(&ns, &entries, t).map(|_| KvOut::Unit),
        KvOp::Batch(ops) => kv.write_batch(&ops).map(|_| KvOut::Unit),
        KvOp::Scan { ns, range, after, limit, keys_only, string_keys } => {
            kv.scan(&ns, &range, after.as_deref(), limit, keys_only).map(|p| KvOut::Page(p, keys_only, string_keys))
        }
        KvOp::Enqueue(topic, payloads, o) => kv.enqueue_many(&topic, &payloads, o).map(KvOut::Seqs),
        KvOp::Lease(topic, n, vis) => kv.lease(&topic, n, vis).map(KvOut::Leased),
        KvOp::Settle(id, how) => kv.settle(&id, how).map(KvOut::Bool),
        KvOp::Flush => kv.flush().map(|_| KvOut::Unit),
    };
    out.or_throw()
}

// ---- JS -> op arguments ----

/// Prefixes an `INVALID_ARGUMENT` message with where it happened (`operation 3: ...`).
fn within(e: napi::Error, place: &str) -> napi::Error {
    match e.reason.strip_prefix("[INVALID_ARGUMENT] ") {
        Some(rest) => invalid(format!("{place}: {}", rest.strip_prefix("invalid argument: ").unwrap_or(rest))),
        None => e,
    }
}

pub unsafe fn owned_key(env: napi_env, v: napi_value, what: &str) -> Result<Vec<u8>> {
    Ok(js::key(env, v, what)?.to_vec())
}

pub unsafe fn keys(env: napi_env, list: napi_value) -> Result<Vec<Vec<u8>>> {
    let b = borrowed_keys(env, list)?;
    Ok(b.keys().into_iter().map(<[u8]>::to_vec).collect())
}

/// `[key, ...]` borrowed for a call on the JS thread (string keys in one arena).
pub struct BorrowedKeys<'a> {
    arena: Vec<u8>,
    items: Vec<KeyAt<'a>>,
}

impl BorrowedKeys<'_> {
    pub fn keys(&self) -> Vec<&[u8]> {
        self.items
            .iter()
            .map(|k| match k {
                KeyAt::Arena(at, len) => &self.arena[*at..*at + *len],
                KeyAt::Bytes(b) => *b,
            })
            .collect()
    }
}

pub unsafe fn borrowed_keys<'a>(env: napi_env, list: napi_value) -> Result<BorrowedKeys<'a>> {
    let items = js::array_items(env, list, "keys")?;
    let mut out = BorrowedKeys { arena: Vec::with_capacity(items.len() * 24), items: Vec::with_capacity(items.len()) };
    for (i, k) in items.into_iter().enumerate() {
        out.items.push(match js::key_into(env, k, &mut out.arena)? {
            Some(js::KeyRef::Bytes(b)) => KeyAt::Bytes(b),
            Some(js::KeyRef::Span(at, len)) => KeyAt::Arena(at, len),
            None => return Err(js::key(env, k, &format!("key {}", i + 1)).err().unwrap_or_else(|| invalid("bad key"))),
        });
    }
    Ok(out)
}

/// Values packed into one Buffer: `n` little-endian i32 lengths (-1: missing or expired),
/// then the values back to back. One Buffer for the whole batch instead of one per value.
pub unsafe fn packed_values(env: napi_env, values: &[Option<Unsealed>]) -> Result<napi_value> {
    let total: usize = values.iter().map(|v| v.as_ref().map_or(0, |v| v.bytes().len())).sum();
    let head = values.len() * 4;
    let (out, dst) = js::buffer_uninit(env, head + total)?;
    let mut at = head;
    for (i, v) in values.iter().enumerate() {
        let len: i32 = match v {
            Some(v) => {
                let b = v.bytes();
                dst[at..at + b.len()].copy_from_slice(b);
                at += b.len();
                b.len() as i32
            }
            None => -1,
        };
        dst[4 * i..4 * i + 4].copy_from_slice(&len.to_le_bytes());
    }
    Ok(out)
}

/// `[[key, value], ...]`, copied (for the libuv pool).
pub unsafe fn entries(env: napi_env, list: napi_value) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let b = borrowed_entries(env, list)?;
    Ok(b.pairs().into_iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect())
}

/// `[[key, value], ...]` borrowed for a call that runs on the JS thread: values stay in their
/// Buffers, string keys are written one after another into one arena. No per-entry
/// allocation (error messages are formatted only on error).
pub struct BorrowedEntries<'a> {
    arena: Vec<u8>,
    items: Vec<(KeyAt<'a>, &'a [u8])>,
}

enum KeyAt<'a> {
    Arena(usize, usize),
    Bytes(&'a [u8]),
}

impl BorrowedEntries<'_> {
    pub fn pairs(&self) -> Vec<(&[u8], &[u8])> {
        self.items
            .iter()
            .map(|(k, v)| {
                let k: &[u8] = match k {
                    KeyAt::Arena(at, len) => &self.arena[*at..*at + *len],
                    KeyAt::Bytes(b) => b,
                };
                (k, *v)
            })
            .collect()
    }
}

pub unsafe fn borrowed_entries<'a>(env: napi_env, list: napi_value) -> Result<BorrowedEntries<'a>> {
    let items = js::array_items(env, list, "entries")?;
    let mut out = BorrowedEntries { arena: Vec::with_capacity(items.len() * 24), items: Vec::with_capacity(items.len()) };
    for (i, pair) in items.into_iter().enumerate() {
        let (k, v) = match js::pair(env, pair)? {
            Some(kv) => kv,
            None => return Err(invalid(format!("entry {} must be a [key, value] pair", i + 1))),
        };
        let key = match js::key_into(env, k, &mut out.arena)? {
            Some(js::KeyRef::Bytes(b)) => KeyAt::Bytes(b),
            Some(js::KeyRef::Span(at, len)) => KeyAt::Arena(at, len),
            None => return Err(js::key(env, k, &format!("entry {} key", i + 1)).err().unwrap_or_else(|| invalid("bad key"))),
        };
        let value = match js::value(env, v, "value") {
            Ok(b) => b,
            Err(_) => return Err(js::value(env, v, &format!("entry {} value", i + 1)).err().unwrap_or_else(|| invalid("bad value"))),
        };
        out.items.push((key, value));
    }
    Ok(out)
}

/// `[{ type: 'put' | 'del', ns, key, value?, ttlMs? }, ...]`
pub unsafe fn write_ops(env: napi_env, list: napi_value) -> Result<Vec<WriteOp>> {
    let items = js::array_items(env, list, "batch operations")?;
    let mut out = Vec::with_capacity(items.len());
    for (i, op) in items.into_iter().enumerate() {
        let at = |e: napi::Error| within(e, &format!("operation {}", i + 1));
        if !js::is_object(env, op)? {
            return Err(invalid(format!("operation {} must be an object {{ type, ns, key, value?, ttlMs? }}", i + 1)));
        }
        let kind = js::string(env, js::property(env, op, c"type")?, "type").map_err(at)?;
        let ns = js::string(env, js::property(env, op, c"ns")?, "ns").map_err(at)?;
        let key = owned_key(env, js::property(env, op, c"key")?, "key").map_err(at)?;
        out.push(match kind.as_str() {
            "put" => {
                let value = js::value(env, js::property(env, op, c"value")?, "value").map_err(at)?;
                let t = ttl(js::number_opt(env, js::property(env, op, c"ttlMs")?, "ttlMs").map_err(at)?).map_err(at)?;
                WriteOp::Put { ns, key, value: value.to_vec(), ttl: t }
            }
            "del" | "delete" => WriteOp::Delete { ns, key },
            other => return Err(invalid(format!("operation {}: type must be 'put' or 'del', not {other:?}", i + 1))),
        });
    }
    Ok(out)
}

unsafe fn bound(env: napi_env, obj: napi_value, incl: &std::ffi::CStr, excl: &std::ffi::CStr) -> Result<Bound<Vec<u8>>> {
    let i = js::property(env, obj, incl)?;
    let e = js::property(env, obj, excl)?;
    match (js::is_nullish(env, i)?, js::is_nullish(env, e)?) {
        (true, true) => Ok(Bound::Unbounded),
        (false, true) => Ok(Bound::Included(owned_key(env, i, incl.to_str().unwrap_or("bound"))?)),
        (true, false) => Ok(Bound::Excluded(owned_key(env, e, excl.to_str().unwrap_or("bound"))?)),
        (false, false) => Err(invalid(format!("give at most one of {} and {}", incl.to_str().unwrap_or(""), excl.to_str().unwrap_or("")))),
    }
}

/// `{ prefix?, gt?, gte?, lt?, lte?, reverse? }`
pub unsafe fn range(env: napi_env, obj: napi_value) -> Result<ScanRange> {
    if js::is_nullish(env, obj)? {
        return Ok(ScanRange::default());
    }
    if !js::is_object(env, obj)? {
        return Err(invalid("scan range must be an object { prefix?, gt?, gte?, lt?, lte?, reverse? }"));
    }
    let mut r = ScanRange {
        lower: bound(env, obj, c"gte", c"gt")?,
        upper: bound(env, obj, c"lte", c"lt")?,
        reverse: js::bool_or(env, js::property(env, obj, c"reverse")?, false)?,
    };
    let prefix = js::property(env, obj, c"prefix")?;
    if !js::is_nullish(env, prefix)? {
        r = r.with_prefix(&js::key(env, prefix, "prefix")?);
    }
    Ok(r)
}

// ---- results -> JS ----

unsafe fn opt_value(env: napi_env, v: &Option<Unsealed>) -> Result<napi_value> {
    match v {
        Some(v) => js::buffer(env, v.bytes()),
        None => js::undefined(env),
    }
}

/// `{ keys, values?, last?, done }`
unsafe fn page(env: napi_env, p: &ScanPage, keys_only: bool, string_keys: bool) -> Result<napi_value> {
    let keys = js::array(env, p.entries.len())?;
    let values = if keys_only { None } else { Some(js::array(env, p.entries.len())?) };
    for (i, (k, v)) in p.entries.iter().enumerate() {
        js::set_element(env, keys, i, if string_keys { js::text(env, k)? } else { js::buffer(env, k)? })?;
        if let Some(values) = values {
            js::set_element(env, values, i, opt_value(env, v)?)?;
        }
    }
    let obj = js::object(env)?;
    js::set(env, obj, c"keys", keys)?;
    if let Some(values) = values {
        js::set(env, obj, c"values", values)?;
    }
    if let Some(last) = &p.last {
        js::set(env, obj, c"last", js::buffer(env, last)?)?;
    }
    js::set(env, obj, c"done", js::boolean(env, p.done)?)?;
    Ok(obj)
}

unsafe fn leased(env: napi_env, list: &[Leased]) -> Result<napi_value> {
    let arr = js::array(env, list.len())?;
    for (i, m) in list.iter().enumerate() {
        let o = js::object(env)?;
        js::set(env, o, c"id", js::text(env, m.id.to_string().as_bytes())?)?;
        js::set(env, o, c"topic", js::text(env, m.id.topic.as_bytes())?)?;
        js::set(env, o, c"seq", js::number(env, m.id.seq as f64)?)?;
        js::set(env, o, c"attempt", js::number(env, m.id.attempt as f64)?)?;
        js::set(env, o, c"payload", js::buffer(env, &m.payload)?)?;
        js::set(env, o, c"enqueuedAt", js::number(env, m.enqueued_at as f64)?)?;
        js::set(env, o, c"leaseUntil", js::number(env, m.lease_until as f64)?)?;
        js::set_element(env, arr, i, o)?;
    }
    Ok(arr)
}

pub unsafe fn out_js(env: napi_env, out: &KvOut) -> Result<napi_value> {
    match out {
        KvOut::Value(v) => opt_value(env, v),
        KvOut::Values(vs) => {
            let arr = js::array(env, vs.len())?;
            for (i, v) in vs.iter().enumerate() {
                js::set_element(env, arr, i, opt_value(env, v)?)?;
            }
            Ok(arr)
        }
        KvOut::Page(p, keys_only, string_keys) => page(env, p, *keys_only, *string_keys),
        KvOut::Seqs(seqs) => {
            let arr = js::array(env, seqs.len())?;
            for (i, s) in seqs.iter().enumerate() {
                js::set_element(env, arr, i, js::number(env, *s as f64)?)?;
            }
            Ok(arr)
        }
        KvOut::Leased(list) => leased(env, list),
        KvOut::Bool(b) => js::boolean(env, *b),
        KvOut::Unit => js::undefined(env),
    }
}

/// An operation on the libuv pool; resolves with the same JS shape as its sync twin.
pub struct KvTask {
    pub store: Arc<KvStore>,
    pub op: Option<KvOp>,
}

impl Task for KvTask {
    type Output = KvOut;
    type JsValue = KvOutJs;

    fn compute(&mut self) -> Result<KvOut> {
        let op = self.op.take().ok_or_else(|| invalid("task already ran"))?;
        run(&self.store, op)
    }

    fn resolve(&mut self, _env: Env, out: KvOut) -> Result<KvOutJs> {
        Ok(KvOutJs(out))
    }
}

pub struct KvOutJs(KvOut);

crate::convert::untyped_js_output!(KvOutJs);

impl ToNapiValue for KvOutJs {
    unsafe fn to_napi_value(env: napi_env, val: Self) -> Result<napi_value> {
        out_js(env, &val.0)
    }
}
