//! Namespaces: one RocksDB column family each, with options persisted (sealed) in the
//! `default` column family so that user-defined namespaces reopen as they were defined.
//!
//! Meta records (column family `default`, sealed like values, namespace name "default"):
//! - `format`          -> "aico-kv/1": proves at open that the store key opens this store.
//! - `ns/<name>`       -> `NamespaceOptions::encode()` text.
//! - `queue/next-seq`  -> the queue's next sequence number (u64 BE).

use std::collections::HashMap;

use rocksdb::{BlockBasedOptions, Cache, Options, WriteBatch, DB};

use super::errors::map_rocks;
use super::options::{KvOptions, NamespaceOptions};
use super::seal::{Sealer, FORMAT_VALUE};
use super::ttl::expiry_filter;
use crate::error::{Error, Result};

/// Namespaces that always exist and cannot be dropped.
pub const BUILTIN_NAMESPACES: &[&str] = &["session", "config", "cache", "queue"];
/// The namespace holding the durable queue (not writable through the key-value API).
pub const QUEUE_NAMESPACE: &str = "queue";
/// RocksDB's own column family, holding the store's metadata.
pub(crate) const META_CF: &str = "default";

const FORMAT_KEY: &[u8] = b"format";
const FORMAT_VALUE_TEXT: &[u8] = b"aico-kv/1";
const NS_PREFIX: &[u8] = b"ns/";

pub(crate) fn is_builtin(name: &str) -> bool {
    BUILTIN_NAMESPACES.contains(&name)
}

/// Engine settings shared by all column families (one block cache for the whole store).
pub(crate) struct Tuning {
    cache: Cache,
    write_buffer_bytes: usize,
}

impl Tuning {
    pub(crate) fn new(opts: &KvOptions) -> Tuning {
        Tuning { cache: Cache::new_lru_cache(opts.cache_mib << 20), write_buffer_bytes: opts.write_buffer_mib << 20 }
    }

    pub(crate) fn db_options(&self, namespace_count: usize) -> Options {
        let mut o = Options::default();
        o.create_if_missing(true);
        o.create_missing_column_families(true);
        o.set_paranoid_checks(true);
        // Deliberate WAL damage policy (see `options::WalRecovery`).
        o.set_wal_recovery_mode(super::options::WAL_RECOVERY.rocks());
        o.set_max_background_jobs(2);
        // Keep RocksDB's own LOG files small; they hold no values, only engine events.
        o.set_keep_log_file_num(3);
        o.set_max_log_file_size(1 << 20);
        o.set_db_write_buffer_size(self.write_buffer_bytes * namespace_count.clamp(2, 8));
        o
    }

    /// Options of one namespace's column family. The expiry filter is installed everywhere:
    /// it only ever removes expired value records.
    pub(crate) fn cf_options(&self, ns: &NamespaceOptions) -> Options {
        let mut table = BlockBasedOptions::default();
        table.set_block_cache(&self.cache);
        table.set_bloom_filter(10.0, false);
        table.set_cache_index_and_filter_blocks(true);
        table.set_pin_l0_filter_and_index_blocks_in_cache(true);
        let mut o = Options::default();
        o.set_block_based_table_factory(&table);
        o.set_write_buffer_size(self.write_buffer_bytes);
        o.set_compression_type(ns.compression.rocks());
        o.set_bottommost_compression_type(bottommost(ns));
        o.set_compaction_filter("aico-kv-expiry", expiry_filter);
        o
    }
}

fn bottommost(ns: &NamespaceOptions) -> rocksdb::DBCompressionType {
    match ns.compression {
        super::Compression::None => rocksdb::DBCompressionType::None,
        _ => rocksdb::DBCompressionType::Zstd,
    }
}

/// Applies a namespace's compression to an open column family (a mutable RocksDB option).
pub(crate) fn apply_compression(db: &DB, name: &str, ns: &NamespaceOptions) -> Result<()> {
    let cf = db.cf_handle(name).ok_or_else(|| Error::Internal(format!("column family {name} missing")))?;
    let bottom = if ns.compression == super::Compression::None { "kNoCompression" } else { "kZSTD" };
    db.set_options_cf(cf, &[("compression", ns.compression.rocks_option_name()), ("bottommost_compression", bottom)]).map_err(map_rocks)
}

fn meta_cf(db: &DB) -> Result<&rocksdb::ColumnFamily> {
    db.cf_handle(META_CF).ok_or_else(|| Error::Internal("the default column family is missing".into()))
}

pub(crate) fn meta_get(db: &DB, sealer: &Sealer, key: &[u8]) -> Result<Option<Vec<u8>>> {
    match db.get_pinned_cf(meta_cf(db)?, key).map_err(map_rocks)? {
        None => Ok(None),
        Some(v) => Ok(Some(sealer.open(&v, META_CF, key)?.1.into_vec())),
    }
}

pub(crate) fn meta_put(db: &DB, batch: &mut WriteBatch, sealer: &Sealer, key: &[u8], value: &[u8]) -> Result<()> {
    let rec = sealer.seal(FORMAT_VALUE, 0, META_CF, key, &[value])?;
    batch.put_cf(meta_cf(db)?, key, rec);
    Ok(())
}

/// Checks (or, on a new store, writes) the format record. A store written under another
/// data key fails here with `CORRUPT` instead of on the first read.
pub(crate) fn check_format(db: &DB, sealer: &Sealer, writable: bool) -> Result<()> {
    let found = db.get_pinned_cf(meta_cf(db)?, FORMAT_KEY).map_err(map_rocks)?;
    match found {
        Some(v) => {
            let (_, opened) = sealer.open(&v, META_CF, FORMAT_KEY).map_err(|_| {
                Error::Corrupt(
                    "the KV store's format record does not open with this folder's key: the kv directory belongs to \
                     another data folder or was tampered with"
                        .into(),
                )
            })?;
            if opened.bytes() != FORMAT_VALUE_TEXT {
                return Err(Error::Corrupt(format!("unsupported KV store format {:?}", String::from_utf8_lossy(opened.bytes()))));
            }
            Ok(())
        }
        None if writable => {
            let mut b = WriteBatch::default();
            meta_put(db, &mut b, sealer, FORMAT_KEY, FORMAT_VALUE_TEXT)?;
            db.write(b).map_err(map_rocks)
        }
        None => Ok(()),
    }
}

fn ns_key(name: &str) -> Vec<u8> {
    [NS_PREFIX, name.as_bytes()].concat()
}

/// Reads every persisted namespace definition.
pub(crate) fn load(db: &DB, sealer: &Sealer) -> Result<HashMap<String, NamespaceOptions>> {
    let mut out = HashMap::new();
    let mut it = db.raw_iterator_cf(meta_cf(db)?);
    it.seek(NS_PREFIX);
    while let Some((k, v)) = it.item() {
        if !k.starts_with(NS_PREFIX) {
            break;
        }
        let name = std::str::from_utf8(&k[NS_PREFIX.len()..])
            .map_err(|_| Error::Corrupt("a namespace name in the KV metadata is not UTF-8".into()))?
            .to_string();
        let text = sealer.open(v, META_CF, k)?.1.into_vec();
        let text = String::from_utf8(text).map_err(|_| Error::Corrupt(format!("namespace {name} options")))?;
        out.insert(name, NamespaceOptions::decode(&text)?);
        it.next();
    }
    it.status().map_err(map_rocks)?;
    Ok(out)
}

pub(crate) fn save(db: &DB, batch: &mut WriteBatch, sealer: &Sealer, name: &str, ns: &NamespaceOptions) -> Result<()> {
    meta_put(db, batch, sealer, &ns_key(name), ns.encode().as_bytes())
}

pub(crate) fn forget(db: &DB, batch: &mut WriteBatch, name: &str) -> Result<()> {
    batch.delete_cf(meta_cf(db)?, ns_key(name));
    Ok(())
}
