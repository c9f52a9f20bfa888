//! The encrypted RocksDB key-value store as a JS class (`NativeKv`), opened with
//! `openKv(folder, options)`. Sync methods run on the JS thread; `*Async` twins run on the
//! libuv pool and resolve with the same shapes. Conversions only: the logic is in
//! `aico_data_core::kv`.

mod fast;
mod js;
mod ops;

use std::path::PathBuf;
use std::sync::Arc;

use aico_data_core::keys::{Store, StoreKey};
use aico_data_core::kv::{EnqueueOptions, KvOptions, KvStore, MessageId, NamespaceOptions, OnLocked, QueueDepth, Settle, Wait, KV_DIR};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::error::{invalid, OrThrow};
use crate::folder::NativeFolder;
use ops::{ms, ttl, KvOp, KvTask};

/// Options of one namespace.
#[napi(object)]
pub struct NativeKvNamespaceOptions {
    /// Default time to live (ms) of values put without `ttlMs`; 0 or absent: no expiry.
    pub ttl_ms: Option<f64>,
    /// 'lz4' (default), 'zstd' or 'none'.
    pub compression: Option<String>,
}

#[napi(object)]
pub struct NativeKvNamespaceDef {
    pub name: String,
    pub ttl_ms: Option<f64>,
    pub compression: Option<String>,
}

#[napi(object)]
pub struct NativeKvOpenOptions {
    /// fsync the write-ahead log on every write (default false: survives a process crash,
    /// not a power loss).
    pub sync: Option<bool>,
    pub cache_mib: Option<u32>,
    pub write_buffer_mib: Option<u32>,
    /// Namespaces to create (or update) at open.
    pub namespaces: Option<Vec<NativeKvNamespaceDef>>,
    /// Queue deliveries before a message is dead-lettered (default 5).
    pub max_attempts: Option<u32>,
    /// 'error' (default: LOCKED) or 'readOnly' (open a read-only secondary instance).
    pub on_locked: Option<String>,
    /// Open read-only (a secondary instance following the writer).
    pub read_only: Option<bool>,
}

#[napi(object)]
pub struct NativeKvNamespaceInfo {
    pub name: String,
    pub ttl_ms: Option<f64>,
    pub compression: String,
    pub builtin: bool,
}

#[napi(object)]
pub struct NativeKvEnqueueOptions {
    pub delay_ms: Option<f64>,
    pub max_attempts: Option<u32>,
}

#[napi(object)]
pub struct NativeKvQueueDepth {
    pub ready: f64,
    pub waiting: f64,
    pub dead: f64,
}

#[napi(object)]
pub struct NativeKvDeadLetter {
    pub topic: String,
    pub seq: f64,
    pub attempts: u32,
    pub payload: Buffer,
    pub enqueued_at: f64,
    pub died_at: f64,
}

fn namespace_options(ttl_ms: Option<f64>, compression: Option<String>) -> Result<NamespaceOptions> {
    NamespaceOptions::parse(ttl_ms, compression.as_deref()).or_throw()
}

fn kv_options(o: Option<NativeKvOpenOptions>) -> Result<KvOptions> {
    let mut opts = KvOptions::default();
    let Some(o) = o else { return Ok(opts) };
    if let Some(v) = o.sync {
        opts.sync = v;
    }
    if let Some(v) = o.cache_mib {
        opts.cache_mib = v as usize;
    }
    if let Some(v) = o.write_buffer_mib {
        opts.write_buffer_mib = v as usize;
    }
    if let Some(v) = o.max_attempts {
        opts.queue.max_attempts = v;
    }
    if let Some(v) = o.read_only {
        opts.read_only = v;
    }
    if let Some(s) = o.on_locked {
        opts.on_locked = OnLocked::parse(&s).or_throw()?;
    }
    for d in o.namespaces.unwrap_or_default() {
        opts.namespaces.push((d.name, namespace_options(d.ttl_ms, d.compression)?));
    }
    Ok(opts)
}

fn folder_kv(folder: &NativeFolder) -> Result<(PathBuf, StoreKey)> {
    Ok((PathBuf::from(folder.dir()?).join(KV_DIR), folder.store_key(Store::Rocksdb)?))
}

/// Opens the KV store of `folder` (`<folder>/kv`) on the JS thread. `LOCKED` when another
/// process or handle holds it (unless `onLocked: 'readOnly'`).
#[napi]
pub fn open_kv(folder: &NativeFolder, options: Option<NativeKvOpenOptions>) -> Result<NativeKv> {
    let (path, key) = folder_kv(folder)?;
    let store = Arc::new(KvStore::open(&path, key, kv_options(options)?).or_throw()?);
    folder.stores.add_kv(&store);
    Ok(NativeKv { store })
}

pub struct OpenKvTask {
    stores: Arc<aico_data_core::folder::OpenStores>,
    path: PathBuf,
    key: Option<StoreKey>,
    opts: Option<KvOptions>,
}

impl Task for OpenKvTask {
    type Output = KvStore;
    type JsValue = NativeKv;

    fn compute(&mut self) -> Result<KvStore> {
        let key = self.key.take().ok_or_else(|| invalid("task already ran"))?;
        KvStore::open(&self.path, key, self.opts.take().unwrap_or_default()).or_throw()
    }

    fn resolve(&mut self, _env: Env, store: KvStore) -> Result<NativeKv> {
        let store = Arc::new(store);
        self.stores.add_kv(&store);
        Ok(NativeKv { store })
    }
}

/// `openKv` off the JS thread (replaying a large write-ahead log can take a while).
#[napi(ts_return_type = "Promise<NativeKv>")]
pub fn open_kv_async(folder: &NativeFolder, options: Option<NativeKvOpenOptions>) -> Result<AsyncTask<OpenKvTask>> {
    let (path, key) = folder_kv(folder)?;
    Ok(AsyncTask::new(OpenKvTask { stores: folder.stores.clone(), path, key: Some(key), opts: Some(kv_options(options)?) }))
}

fn unknown<'e>(env: &'e Env, v: napi::sys::napi_value) -> Unknown<'e> {
    unsafe { Unknown::from_raw_unchecked(env.raw(), v) }
}

fn message_id(id: &str) -> Result<MessageId> {
    MessageId::parse(id).or_throw()
}

#[napi]
pub struct NativeKv {
    store: Arc<KvStore>,
}

#[napi]
impl NativeKv {
    // ---- hot paths: borrowed arguments, no copies ----

    #[napi(ts_args_type = "ns: string, key: string | Uint8Array", ts_return_type = "Buffer | undefined")]
    pub fn get<'e>(&self, env: &'e Env, ns: Unknown<'_>, key: Unknown<'_>) -> Result<Unknown<'e>> {
        self.get_with(env, ns, key, Wait::Block)
    }

    /// The async API's first attempt: `get` from memory only; `false` when the value is not
    /// in memory (then call `getAsync`).
    #[napi(ts_args_type = "ns: string, key: string | Uint8Array", ts_return_type = "Buffer | undefined | false")]
    pub fn try_get<'e>(&self, env: &'e Env, ns: Unknown<'_>, key: Unknown<'_>) -> Result<Unknown<'e>> {
        self.get_with(env, ns, key, Wait::Inline)
    }

    /// A plain function `(ns, key, slab, offset) => number | Buffer` bound to this store (no
    /// class-method overhead on the hottest call): `get` into the caller's scratch `slab` at
    /// `offset`. Returns the value's length (its bytes are at `slab[offset..offset + length]`),
    /// -1 when missing or expired, or a Buffer of its own when it does not fit. With `inline`,
    /// it reads from memory only and returns -2 when the value is not in memory (then call
    /// `getAsync`). The TS wrapper hands out views of the slab, as Node's Buffer pool does.
    #[napi(ts_return_type = "(ns: string, key: string | Uint8Array, slab: Buffer, offset: number) => number | Buffer")]
    pub fn get_into_fn<'e>(&self, env: &'e Env, inline: bool) -> Result<Unknown<'e>> {
        let wait = if inline { Wait::Inline } else { Wait::Block };
        Ok(unknown(env, unsafe { fast::get_into_fn(env.raw(), &self.store, wait)? }))
    }

    #[napi(ts_args_type = "ns: string, key: string | Uint8Array")]
    pub fn has(&self, env: &Env, ns: Unknown<'_>, key: Unknown<'_>) -> Result<bool> {
        unsafe {
            let ns = js::namespace(env.raw(), ns.value().value)?;
            let key = js::key(env.raw(), key.value().value, "key")?;
            self.store.has(&ns, &key).or_throw()
        }
    }

    #[napi(ts_args_type = "ns: string, key: string | Uint8Array, value: Uint8Array, ttlMs?: number")]
    pub fn put(&self, env: &Env, ns: Unknown<'_>, key: Unknown<'_>, value: Unknown<'_>, ttl_ms: Option<f64>) -> Result<()> {
        self.put_with(env, ns, key, value, ttl_ms, Wait::Block).map(|_| ())
    }

    /// The async API's first attempt: `put` unless it would wait (fsync, write slowdown,
    /// large value); `false` then, nothing written (call `putAsync`).
    #[napi(ts_args_type = "ns: string, key: string | Uint8Array, value: Uint8Array, ttlMs?: number")]
    pub fn try_put(&self, env: &Env, ns: Unknown<'_>, key: Unknown<'_>, value: Unknown<'_>, ttl_ms: Option<f64>) -> Result<bool> {
        self.put_with(env, ns, key, value, ttl_ms, Wait::Inline)
    }

    #[napi(ts_args_type = "ns: string, key: string | Uint8Array")]
    pub fn delete(&self, env: &Env, ns: Unknown<'_>, key: Unknown<'_>) -> Result<()> {
        self.delete_with(env, ns, key, Wait::Block).map(|_| ())
    }

    #[napi(ts_args_type = "ns: string, key: string | Uint8Array")]
    pub fn try_delete(&self, env: &Env, ns: Unknown<'_>, key: Unknown<'_>) -> Result<bool> {
        self.delete_with(env, ns, key, Wait::Inline)
    }

    #[napi(ts_args_type = "ns: string, keys: Array<string | Uint8Array>", ts_return_type = "Array<Buffer | undefined> | false")]
    pub fn try_get_many<'e>(&self, env: &'e Env, ns: String, keys: Unknown<'_>) -> Result<Unknown<'e>> {
        let keys = unsafe { ops::keys(env.raw(), keys.value().value)? };
        match self.store.get_many_as(&ns, &keys, Wait::Inline).or_throw()? {
            Some(values) => self.out(env, &ops::KvOut::Values(values)),
            None => self.out(env, &ops::KvOut::Bool(false)),
        }
    }

    /// `getMany` with the values packed into one Buffer: `keys.length` little-endian i32
    /// lengths (-1: missing or expired), then the values back to back.
    #[napi(ts_args_type = "ns: string, keys: Array<string | Uint8Array>", ts_return_type = "Buffer")]
    pub fn get_many_packed<'e>(&self, env: &'e Env, ns: String, keys: Unknown<'_>) -> Result<Unknown<'e>> {
        let e = env.raw();
        unsafe {
            let keys = ops::borrowed_keys(e, keys.value().value)?;
            let values = self.store.get_many(&ns, &keys.keys()).or_throw()?;
            Ok(unknown(env, ops::packed_values(e, &values)?))
        }
    }

    /// `getManyPacked` from memory only; `false` when a value is not in memory.
    #[napi(ts_args_type = "ns: string, keys: Array<string | Uint8Array>", ts_return_type = "Buffer | false")]
    pub fn try_get_many_packed<'e>(&self, env: &'e Env, ns: String, keys: Unknown<'_>) -> Result<Unknown<'e>> {
        let e = env.raw();
        unsafe {
            let keys = ops::borrowed_keys(e, keys.value().value)?;
            let out = match self.store.get_many_as(&ns, &keys.keys(), Wait::Inline).or_throw()? {
                Some(values) => ops::packed_values(e, &values)?,
                None => js::boolean(e, false)?,
            };
            Ok(unknown(env, out))
        }
    }

    #[napi(ts_args_type = "ns: string, entries: Array<[string | Uint8Array, Uint8Array]>, ttlMs?: number")]
    pub fn try_put_many(&self, env: &Env, ns: String, entries: Unknown<'_>, ttl_ms: Option<f64>) -> Result<bool> {
        let entries = unsafe { ops::borrowed_entries(env.raw(), entries.value().value)? };
        self.store.put_many_as(&ns, &entries.pairs(), ttl(ttl_ms)?, Wait::Inline).or_throw()
    }

    #[napi(ts_args_type = "ops: Array<{ type: 'put' | 'del'; ns: string; key: string | Uint8Array; value?: Uint8Array; ttlMs?: number }>")]
    pub fn try_write_batch(&self, env: &Env, list: Unknown<'_>) -> Result<bool> {
        let list = unsafe { ops::write_ops(env.raw(), list.value().value)? };
        self.store.write_batch_as(&list, Wait::Inline).or_throw()
    }

    // ---- the rest: parsed into an op, run here or on the pool ----

    #[napi(ts_args_type = "ns: string, keys: Array<string | Uint8Array>", ts_return_type = "Array<Buffer | undefined>")]
    pub fn get_many<'e>(&self, env: &'e Env, ns: String, keys: Unknown<'_>) -> Result<Unknown<'e>> {
        let op = KvOp::GetMany(ns, unsafe { ops::keys(env.raw(), keys.value().value)? });
        self.sync(env, op)
    }

    #[napi(ts_args_type = "ns: string, entries: Array<[string | Uint8Array, Uint8Array]>, ttlMs?: number")]
    pub fn put_many(&self, env: &Env, ns: String, entries: Unknown<'_>, ttl_ms: Option<f64>) -> Result<()> {
        let entries = unsafe { ops::borrowed_entries(env.raw(), entries.value().value)? };
        self.store.put_many(&ns, &entries.pairs(), ttl(ttl_ms)?).or_throw()
    }

    #[napi(ts_args_type = "ops: Array<{ type: 'put' | 'del'; ns: string; key: string | Uint8Array; value?: Uint8Array; ttlMs?: number }>")]
    pub fn write_batch(&self, env: &Env, list: Unknown<'_>) -> Result<()> {
        let op = KvOp::Batch(unsafe { ops::write_ops(env.raw(), list.value().value)? });
        self.sync(env, op).map(|_| ())
    }

    /// One page of a scan: `{ keys, values?, last?, done }`; pass `last` as `after` to go on.
    #[napi(
        ts_args_type = "ns: string, range: { prefix?: string | Uint8Array; gt?: string | Uint8Array; gte?: string | Uint8Array; lt?: string | Uint8Array; lte?: string | Uint8Array; reverse?: boolean } | undefined, after: Uint8Array | undefined, limit: number, keysOnly: boolean, stringKeys: boolean",
        ts_return_type = "{ keys: Array<string | Buffer>; values?: Buffer[]; last?: Buffer; done: boolean }"
    )]
    #[allow(clippy::too_many_arguments)]
    pub fn scan<'e>(
        &self,
        env: &'e Env,
        ns: String,
        range: Unknown<'_>,
        after: Unknown<'_>,
        limit: u32,
        keys_only: bool,
        string_keys: bool,
    ) -> Result<Unknown<'e>> {
        let op = self.scan_op(env, ns, range, after, limit, keys_only, string_keys)?;
        self.sync(env, op)
    }

    #[napi(ts_args_type = "ns: string, key: string | Uint8Array", ts_return_type = "Promise<Buffer | undefined>")]
    pub fn get_async(&self, env: &Env, ns: String, key: Unknown<'_>) -> Result<AsyncTask<KvTask>> {
        let key = unsafe { ops::owned_key(env.raw(), key.value().value, "key")? };
        Ok(self.task(KvOp::Get(ns, key)))
    }

    #[napi(ts_args_type = "ns: string, key: string | Uint8Array, value: Uint8Array, ttlMs?: number", ts_return_type = "Promise<void>")]
    pub fn put_async(&self, env: &Env, ns: String, key: Unknown<'_>, value: Unknown<'_>, ttl_ms: Option<f64>) -> Result<AsyncTask<KvTask>> {
        let e = env.raw();
        let key = unsafe { ops::owned_key(e, key.value().value, "key")? };
        let value = unsafe { js::value(e, value.value().value, "value")? }.to_vec();
        Ok(self.task(KvOp::Put(ns, key, value, ttl(ttl_ms)?)))
    }

    #[napi(ts_args_type = "ns: string, key: string | Uint8Array", ts_return_type = "Promise<void>")]
    pub fn delete_async(&self, env: &Env, ns: String, key: Unknown<'_>) -> Result<AsyncTask<KvTask>> {
        let key = unsafe { ops::owned_key(env.raw(), key.value().value, "key")? };
        Ok(self.task(KvOp::Delete(ns, key)))
    }

    #[napi(ts_args_type = "ns: string, keys: Array<string | Uint8Array>", ts_return_type = "Promise<Array<Buffer | undefined>>")]
    pub fn get_many_async(&self, env: &Env, ns: String, keys: Unknown<'_>) -> Result<AsyncTask<KvTask>> {
        Ok(self.task(KvOp::GetMany(ns, unsafe { ops::keys(env.raw(), keys.value().value)? })))
    }

    #[napi(
        ts_args_type = "ns: string, entries: Array<[string | Uint8Array, Uint8Array]>, ttlMs?: number",
        ts_return_type = "Promise<void>"
    )]
    pub fn put_many_async(&self, env: &Env, ns: String, entries: Unknown<'_>, ttl_ms: Option<f64>) -> Result<AsyncTask<KvTask>> {
        let entries = unsafe { ops::entries(env.raw(), entries.value().value)? };
        Ok(self.task(KvOp::PutMany(ns, entries, ttl(ttl_ms)?)))
    }

    #[napi(
        ts_args_type = "ops: Array<{ type: 'put' | 'del'; ns: string; key: string | Uint8Array; value?: Uint8Array; ttlMs?: number }>",
        ts_return_type = "Promise<void>"
    )]
    pub fn write_batch_async(&self, env: &Env, list: Unknown<'_>) -> Result<AsyncTask<KvTask>> {
        Ok(self.task(KvOp::Batch(unsafe { ops::write_ops(env.raw(), list.value().value)? })))
    }

    #[napi(
        ts_args_type = "ns: string, range: { prefix?: string | Uint8Array; gt?: string | Uint8Array; gte?: string | Uint8Array; lt?: string | Uint8Array; lte?: string | Uint8Array; reverse?: boolean } | undefined, after: Uint8Array | undefined, limit: number, keysOnly: boolean, stringKeys: boolean",
        ts_return_type = "Promise<{ keys: Array<string | Buffer>; values?: Buffer[]; last?: Buffer; done: boolean }>"
    )]
    #[allow(clippy::too_many_arguments)]
    pub fn scan_async(
        &self,
        env: &Env,
        ns: String,
        range: Unknown<'_>,
        after: Unknown<'_>,
        limit: u32,
        keys_only: bool,
        string_keys: bool,
    ) -> Result<AsyncTask<KvTask>> {
        Ok(self.task(self.scan_op(env, ns, range, after, limit, keys_only, string_keys)?))
    }

    // ---- namespaces and maintenance ----

    #[napi]
    pub fn clear(&self, ns: String) -> Result<()> {
        self.store.clear(&ns).or_throw()
    }

    #[napi]
    pub fn define_namespace(&self, name: String, options: Option<NativeKvNamespaceOptions>) -> Result<()> {
        let o = match options {
            Some(o) => namespace_options(o.ttl_ms, o.compression)?,
            None => NamespaceOptions::default(),
        };
        self.store.define_namespace(&name, o).or_throw()
    }

    #[napi]
    pub fn drop_namespace(&self, name: String) -> Result<()> {
        self.store.drop_namespace(&name).or_throw()
    }

    #[napi]
    pub fn namespaces(&self) -> Result<Vec<NativeKvNamespaceInfo>> {
        Ok(self
            .store
            .namespaces()
            .or_throw()?
            .into_iter()
            .map(|n| NativeKvNamespaceInfo {
                name: n.name,
                ttl_ms: n.options.ttl_ms.map(|t| t as f64),
                compression: n.options.compression.name().to_string(),
                builtin: n.builtin,
            })
            .collect())
    }

    /// Removes deleted keys from every file (flush, compact all, reopen in place).
    #[napi]
    pub fn scrub(&self) -> Result<()> {
        self.store.scrub().or_throw()
    }

    /// Compacts one namespace (or all): expired values leave the disk.
    #[napi]
    pub fn compact(&self, ns: Option<String>) -> Result<()> {
        self.store.compact(ns.as_deref()).or_throw()
    }

    #[napi]
    pub fn flush(&self) -> Result<()> {
        self.store.flush().or_throw()
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn flush_async(&self) -> AsyncTask<KvTask> {
        self.task(KvOp::Flush)
    }

    /// Read-only instances: catch up with the writer.
    #[napi]
    pub fn refresh(&self) -> Result<()> {
        self.store.refresh().or_throw()
    }

    #[napi(getter)]
    pub fn read_only(&self) -> bool {
        self.store.access() == aico_data_core::kv::Access::ReadOnly
    }

    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.store.is_closed()
    }

    /// Writes this open's WAL replay dropped from the damage on; null when none.
    #[napi(getter)]
    pub fn wal_dropped_writes(&self) -> Option<f64> {
        self.store.wal_replay().map(|r| r.dropped_writes as f64)
    }

    #[napi(getter)]
    pub fn path(&self) -> String {
        self.store.path().display().to_string()
    }

    /// Flushes and closes now (waits for running calls). Idempotent.
    #[napi]
    pub fn close(&self) -> Result<()> {
        self.store.close().or_throw()
    }

    // ---- queue ----

    #[napi(ts_args_type = "topic: string, payloads: Uint8Array[], options?: NativeKvEnqueueOptions")]
    pub fn enqueue(&self, env: &Env, topic: String, payloads: Unknown<'_>, options: Option<NativeKvEnqueueOptions>) -> Result<Vec<f64>> {
        let op = self.enqueue_op(env, topic, payloads, options)?;
        match ops::run(&self.store, op)? {
            ops::KvOut::Seqs(s) => Ok(s.into_iter().map(|s| s as f64).collect()),
            _ => Err(invalid("unexpected enqueue result")),
        }
    }

    #[napi(ts_args_type = "topic: string, payloads: Uint8Array[], options?: NativeKvEnqueueOptions", ts_return_type = "Promise<number[]>")]
    pub fn enqueue_async(
        &self,
        env: &Env,
        topic: String,
        payloads: Unknown<'_>,
        options: Option<NativeKvEnqueueOptions>,
    ) -> Result<AsyncTask<KvTask>> {
        Ok(self.task(self.enqueue_op(env, topic, payloads, options)?))
    }

    #[napi(
        ts_return_type = "Array<{ id: string; topic: string; seq: number; attempt: number; payload: Buffer; enqueuedAt: number; leaseUntil: number }>"
    )]
    pub fn lease<'e>(&self, env: &'e Env, topic: String, max: u32, visibility_ms: f64) -> Result<Unknown<'e>> {
        self.sync(env, KvOp::Lease(topic, max as usize, ms(visibility_ms, "visibilityMs")?))
    }

    #[napi(
        ts_return_type = "Promise<Array<{ id: string; topic: string; seq: number; attempt: number; payload: Buffer; enqueuedAt: number; leaseUntil: number }>>"
    )]
    pub fn lease_async(&self, topic: String, max: u32, visibility_ms: f64) -> Result<AsyncTask<KvTask>> {
        Ok(self.task(KvOp::Lease(topic, max as usize, ms(visibility_ms, "visibilityMs")?)))
    }

    /// Settles a delivery: 'ack', 'nack' (visible again after `ms`) or 'extend' (hidden
    /// `ms` longer). False when `id` is not the message's current delivery.
    #[napi(ts_args_type = "id: string, how: 'ack' | 'nack' | 'extend', ms?: number")]
    pub fn settle(&self, id: String, how: String, ms_arg: Option<f64>) -> Result<bool> {
        self.store.settle(&message_id(&id)?, settle(&how, ms_arg)?).or_throw()
    }

    #[napi(ts_args_type = "id: string, how: 'ack' | 'nack' | 'extend', ms?: number", ts_return_type = "Promise<boolean>")]
    pub fn settle_async(&self, id: String, how: String, ms_arg: Option<f64>) -> Result<AsyncTask<KvTask>> {
        Ok(self.task(KvOp::Settle(message_id(&id)?, settle(&how, ms_arg)?)))
    }

    #[napi]
    pub fn dead_letters(&self, topic: String, limit: Option<u32>) -> Result<Vec<NativeKvDeadLetter>> {
        let list = self.store.dead_letters(&topic, limit.unwrap_or(u32::MAX) as usize).or_throw()?;
        Ok(list
            .into_iter()
            .map(|d| NativeKvDeadLetter {
                topic: d.topic,
                seq: d.seq as f64,
                attempts: d.attempts,
                payload: Buffer::from(d.payload),
                enqueued_at: d.enqueued_at as f64,
                died_at: d.died_at as f64,
            })
            .collect())
    }

    #[napi]
    pub fn redrive(&self, topic: String) -> Result<f64> {
        self.store.redrive(&topic).map(|n| n as f64).or_throw()
    }

    #[napi]
    pub fn depth(&self, topic: String) -> Result<NativeKvQueueDepth> {
        let QueueDepth { ready, waiting, dead } = self.store.depth(&topic).or_throw()?;
        Ok(NativeKvQueueDepth { ready: ready as f64, waiting: waiting as f64, dead: dead as f64 })
    }
}

fn settle(how: &str, ms_arg: Option<f64>) -> Result<Settle> {
    Settle::parse(how, ms_arg).or_throw()
}

impl NativeKv {
    fn sync<'e>(&self, env: &'e Env, op: KvOp) -> Result<Unknown<'e>> {
        let out = ops::run(&self.store, op)?;
        self.out(env, &out)
    }

    fn out<'e>(&self, env: &'e Env, out: &ops::KvOut) -> Result<Unknown<'e>> {
        Ok(unknown(env, unsafe { ops::out_js(env.raw(), out)? }))
    }

    /// `Buffer | undefined`, or `false` when an inline read would need the disk.
    fn get_with<'e>(&self, env: &'e Env, ns: Unknown<'_>, key: Unknown<'_>, wait: Wait) -> Result<Unknown<'e>> {
        let e = env.raw();
        unsafe {
            let ns = js::namespace(e, ns.value().value)?;
            let key = js::key(e, key.value().value, "key")?;
            let out = match self.store.get_as(&ns, &key, wait).or_throw()? {
                Some(Some(v)) => js::buffer(e, v.bytes())?,
                Some(None) => js::undefined(e)?,
                None => js::boolean(e, false)?,
            };
            Ok(unknown(env, out))
        }
    }

    fn put_with(&self, env: &Env, ns: Unknown<'_>, key: Unknown<'_>, value: Unknown<'_>, ttl_ms: Option<f64>, wait: Wait) -> Result<bool> {
        let e = env.raw();
        unsafe {
            let ns = js::namespace(e, ns.value().value)?;
            let key = js::key(e, key.value().value, "key")?;
            let value = js::value(e, value.value().value, "value")?;
            self.store.put_as(&ns, &key, value, ttl(ttl_ms)?, wait).or_throw()
        }
    }

    fn delete_with(&self, env: &Env, ns: Unknown<'_>, key: Unknown<'_>, wait: Wait) -> Result<bool> {
        unsafe {
            let ns = js::namespace(env.raw(), ns.value().value)?;
            let key = js::key(env.raw(), key.value().value, "key")?;
            self.store.delete_as(&ns, &key, wait).or_throw()
        }
    }

    fn task(&self, op: KvOp) -> AsyncTask<KvTask> {
        AsyncTask::new(KvTask { store: self.store.clone(), op: Some(op) })
    }

    #[allow(clippy::too_many_arguments)]
    fn scan_op(
        &self,
        env: &Env,
        ns: String,
        range: Unknown<'_>,
        after: Unknown<'_>,
        limit: u32,
        keys_only: bool,
        string_keys: bool,
    ) -> Result<KvOp> {
        let e = env.raw();
        unsafe {
            let range = ops::range(e, range.value().value)?;
            let a = after.value().value;
            let after = if js::is_nullish(e, a)? { None } else { Some(ops::owned_key(e, a, "after")?) };
            Ok(KvOp::Scan { ns, range, after, limit: limit as usize, keys_only, string_keys })
        }
    }

    fn enqueue_op(&self, env: &Env, topic: String, payloads: Unknown<'_>, o: Option<NativeKvEnqueueOptions>) -> Result<KvOp> {
        let e = env.raw();
        let items = unsafe { js::array_items(e, payloads.value().value, "payloads")? };
        let mut list = Vec::with_capacity(items.len());
        for (i, p) in items.into_iter().enumerate() {
            list.push(unsafe { js::value(e, p, &format!("payload {}", i + 1))? }.to_vec());
        }
        let opts = EnqueueOptions::parse(o.as_ref().and_then(|o| o.delay_ms), o.and_then(|o| o.max_attempts)).or_throw()?;
        Ok(KvOp::Enqueue(topic, list, opts))
    }
}
