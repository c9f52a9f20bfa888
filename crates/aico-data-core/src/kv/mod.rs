//! RocksDB key-value store. This module opens the engine with the project's options (lz4 for
//! hot data, zstd for the bottommost level, one column family per namespace).

use std::path::Path;

use rocksdb::{ColumnFamilyDescriptor, DBCompressionType, Options, DB};

use crate::error::{Error, Result};

/// Namespaces that always exist.
pub const BUILTIN_NAMESPACES: &[&str] = &["session", "config", "cache", "queue"];

fn map(e: rocksdb::Error) -> Error {
    let msg = e.to_string();
    if msg.contains("Corruption") {
        Error::Corrupt(format!("rocksdb: {msg}"))
    } else if msg.contains("IO error") || msg.contains("lock") {
        Error::Io(format!("rocksdb: {msg}"))
    } else {
        Error::Internal(format!("rocksdb: {msg}"))
    }
}

pub(crate) fn base_options() -> Options {
    let mut o = Options::default();
    o.create_if_missing(true);
    o.create_missing_column_families(true);
    o.set_compression_type(DBCompressionType::Lz4);
    o.set_bottommost_compression_type(DBCompressionType::Zstd);
    o.set_paranoid_checks(true);
    o
}

/// A RocksDB instance with the built-in namespaces as column families.
pub struct KvEngine {
    db: Option<DB>,
}

impl KvEngine {
    pub fn open(path: &Path) -> Result<KvEngine> {
        let opts = base_options();
        let cfs = BUILTIN_NAMESPACES.iter().map(|n| ColumnFamilyDescriptor::new(*n, base_options()));
        let db = DB::open_cf_descriptors(&opts, path, cfs).map_err(map)?;
        Ok(KvEngine { db: Some(db) })
    }

    fn db(&self) -> Result<&DB> {
        self.db.as_ref().ok_or(Error::Closed("the KV store"))
    }

    pub fn put(&self, ns: &str, key: &[u8], value: &[u8]) -> Result<()> {
        let db = self.db()?;
        let cf = db.cf_handle(ns).ok_or_else(|| Error::invalid(format!("unknown namespace {ns}")))?;
        db.put_cf(&cf, key, value).map_err(map)
    }

    pub fn get(&self, ns: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let db = self.db()?;
        let cf = db.cf_handle(ns).ok_or_else(|| Error::invalid(format!("unknown namespace {ns}")))?;
        db.get_cf(&cf, key).map_err(map)
    }

    /// Flushes and closes now (RocksDB must not be torn down late, during process exit).
    pub fn close(&mut self) -> Result<()> {
        if let Some(db) = self.db.take() {
            db.flush().map_err(map)?;
            drop(db);
        }
        Ok(())
    }
}

impl Drop for KvEngine {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_put_get_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv");
        {
            let mut kv = KvEngine::open(&path).unwrap();
            kv.put("cache", b"k", b"v").unwrap();
            assert_eq!(kv.get("cache", b"k").unwrap().as_deref(), Some(&b"v"[..]));
            assert_eq!(kv.get("session", b"k").unwrap(), None);
            assert_eq!(kv.put("nope", b"k", b"v").unwrap_err().code(), "INVALID_ARGUMENT");
            kv.close().unwrap();
            assert_eq!(kv.get("cache", b"k").unwrap_err().code(), "CLOSED");
        }
        let kv = KvEngine::open(&path).unwrap();
        assert_eq!(kv.get("cache", b"k").unwrap().as_deref(), Some(&b"v"[..]));
    }
}
