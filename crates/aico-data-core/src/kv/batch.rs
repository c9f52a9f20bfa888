//! Many keys per call: `get_many`, `put_many`, and atomic `write_batch` across namespaces.

use rocksdb::WriteBatch;

use super::errors::{check_key, check_value, map_rocks};
use super::seal::{Unsealed, FORMAT_VALUE};
use super::store::{with_read_options, KvStore, Wait, INLINE_MAX_BYTES};
use super::ttl::{now_ms, Ttl};
use crate::error::{Error, Result};

/// One operation of an atomic [`KvStore::write_batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOp {
    Put { ns: String, key: Vec<u8>, value: Vec<u8>, ttl: Ttl },
    Delete { ns: String, key: Vec<u8> },
}

/// Prefixes an error with the position of the offending item (1-based).
fn at(i: usize, e: Error) -> Error {
    match e {
        Error::InvalidArgument(m) => Error::InvalidArgument(format!("item {}: {m}", i + 1)),
        other => other,
    }
}

impl KvStore {
    /// The values of `keys` in `ns`, in order (`None`: missing or expired). One RocksDB
    /// MultiGet; a tampered value fails the whole call with `CORRUPT`.
    pub fn get_many<K: AsRef<[u8]>>(&self, ns: &str, keys: &[K]) -> Result<Vec<Option<Unsealed>>> {
        Ok(self.get_many_as(ns, keys, Wait::Block)?.expect("a blocking read always completes"))
    }

    /// `get_many`; with `Wait::Inline`, `Ok(None)` when a value is not in memory.
    pub fn get_many_as<K: AsRef<[u8]>>(&self, ns: &str, keys: &[K], wait: Wait) -> Result<Option<Vec<Option<Unsealed>>>> {
        for (i, k) in keys.iter().enumerate() {
            check_key(k.as_ref()).map_err(|e| at(i, e))?;
        }
        self.with(|o| {
            let (cf, _) = o.user_cf(ns)?;
            let now = now_ms();
            let refs: Vec<&[u8]> = keys.iter().map(|k| k.as_ref()).collect();
            let found = with_read_options(wait, |ro| o.db.batched_multi_get_cf_opt(cf, refs.iter().copied(), false, ro));
            let mut out = Vec::with_capacity(keys.len());
            let mut inline_bytes = 0usize;
            for (r, k) in found.into_iter().zip(keys) {
                inline_bytes += r.as_ref().map_or(0, |v| v.as_ref().map_or(0, |v| v.len()));
                if wait == Wait::Inline && inline_bytes > INLINE_MAX_BYTES {
                    return Ok(None);
                }
                out.push(match r {
                    Ok(Some(stored)) => self.open_value(&stored, ns, k.as_ref(), now)?,
                    Ok(None) => None,
                    Err(e) if e.kind() == rocksdb::ErrorKind::Incomplete => return Ok(None),
                    Err(e) => return Err(map_rocks(e)),
                });
            }
            Ok(Some(out))
        })
    }

    /// Puts every `(key, value)` into `ns` in one atomic write.
    pub fn put_many<K: AsRef<[u8]>, V: AsRef<[u8]>>(&self, ns: &str, entries: &[(K, V)], ttl: Ttl) -> Result<()> {
        self.put_many_as(ns, entries, ttl, Wait::Block).map(|_| ())
    }

    pub fn put_many_as<K: AsRef<[u8]>, V: AsRef<[u8]>>(&self, ns: &str, entries: &[(K, V)], ttl: Ttl, wait: Wait) -> Result<bool> {
        for (i, (k, v)) in entries.iter().enumerate() {
            check_key(k.as_ref()).map_err(|e| at(i, e))?;
            check_value(v.as_ref()).map_err(|e| at(i, e))?;
        }
        if wait == Wait::Inline && entries.iter().map(|(_, v)| v.as_ref().len()).sum::<usize>() > INLINE_MAX_BYTES {
            return Ok(false);
        }
        self.with_writable(|o| {
            let (cf, opts) = o.user_cf(ns)?;
            let expiry = ttl.expiry(opts.ttl_ms, now_ms());
            let mut batch = WriteBatch::default();
            let mut record = Vec::new();
            for (k, v) in entries {
                self.sealer.seal_into(&mut record, FORMAT_VALUE, expiry, ns, k.as_ref(), &[v.as_ref()]);
                batch.put_cf(cf, k.as_ref(), &record);
            }
            self.write(o, batch, wait)
        })
    }

    /// Applies every operation atomically (all or none), across namespaces.
    pub fn write_batch(&self, ops: &[WriteOp]) -> Result<()> {
        self.write_batch_as(ops, Wait::Block).map(|_| ())
    }

    pub fn write_batch_as(&self, ops: &[WriteOp], wait: Wait) -> Result<bool> {
        for (i, op) in ops.iter().enumerate() {
            match op {
                WriteOp::Put { key, value, .. } => check_key(key).and_then(|_| check_value(value)).map_err(|e| at(i, e))?,
                WriteOp::Delete { key, .. } => check_key(key).map_err(|e| at(i, e))?,
            }
        }
        let bytes: usize = ops.iter().map(|op| if let WriteOp::Put { value, .. } = op { value.len() } else { 0 }).sum();
        if wait == Wait::Inline && bytes > INLINE_MAX_BYTES {
            return Ok(false);
        }
        self.with_writable(|o| {
            let now = now_ms();
            let mut batch = WriteBatch::default();
            for (i, op) in ops.iter().enumerate() {
                match op {
                    WriteOp::Put { ns, key, value, ttl } => {
                        let (cf, opts) = o.user_cf(ns).map_err(|e| at(i, e))?;
                        batch.put_cf(cf, key, self.seal_value(ns, key, value, ttl.expiry(opts.ttl_ms, now))?);
                    }
                    WriteOp::Delete { ns, key } => {
                        let (cf, _) = o.user_cf(ns).map_err(|e| at(i, e))?;
                        batch.delete_cf(cf, key);
                    }
                }
            }
            self.write(o, batch, wait)
        })
    }
}
