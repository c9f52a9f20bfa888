//! The data-encryption key and the per-store keys derived from it with HKDF-SHA256.

use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::Result;

/// Which store a derived key is for. Each label gives an independent key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Libsql,
    Duckdb,
    Rocksdb,
    Chroma,
    Sync,
}

impl Store {
    pub fn label(self) -> &'static str {
        match self {
            Store::Libsql => "libsql",
            Store::Duckdb => "duckdb",
            Store::Rocksdb => "rocksdb",
            Store::Chroma => "chroma",
            Store::Sync => "sync",
        }
    }

    pub fn parse(name: &str) -> Option<Store> {
        Some(match name {
            "libsql" => Store::Libsql,
            "duckdb" => Store::Duckdb,
            "rocksdb" => Store::Rocksdb,
            "chroma" => Store::Chroma,
            "sync" => Store::Sync,
            _ => return None,
        })
    }
}

/// The unwrapped data-encryption key. Zeroized on drop; never serialized unwrapped.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct DataKey {
    key: [u8; 32],
    #[zeroize(skip)]
    key_id: [u8; 16],
}

impl DataKey {
    pub(crate) fn from_parts(key: [u8; 32], key_id: [u8; 16]) -> Self {
        Self { key, key_id }
    }

    pub(crate) fn expose(&self) -> &[u8; 32] {
        &self.key
    }

    /// Public identifier of this DEK (stored in the key file; names backups and sync peers).
    pub fn key_id(&self) -> [u8; 16] {
        self.key_id
    }

    /// Derives the key of one store: HKDF-SHA256(salt = key id, ikm = DEK, info = label).
    pub fn store_key(&self, store: Store) -> StoreKey {
        self.derive(store.label()).expect("HKDF output of 32 bytes is always valid")
    }

    /// Derives a key for a sub-purpose (e.g. `chroma/hmac`). Labels are namespaced so that
    /// they can never collide with a store label.
    pub fn subkey(&self, purpose: &str) -> Result<StoreKey> {
        self.derive(&format!("sub/{purpose}"))
    }

    /// The key of one backup file: a label of its own (never a store or sub-purpose label)
    /// plus the backup's random id, so every backup has an independent key.
    pub fn backup_key(&self, backup_id: &[u8; 16]) -> StoreKey {
        self.derive(&format!("backup/{}", hex::encode(backup_id))).expect("HKDF output of 32 bytes is always valid")
    }

    fn derive(&self, label: &str) -> Result<StoreKey> {
        let hk = Hkdf::<Sha256>::new(Some(&self.key_id), &self.key);
        let mut out = Zeroizing::new([0u8; 32]);
        let info = format!("aico-data/v1/{label}");
        hk.expand(info.as_bytes(), out.as_mut()).map_err(|_| crate::error::Error::Internal("HKDF expand".into()))?;
        Ok(StoreKey(*out))
    }
}

/// A 256-bit per-store key. Zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct StoreKey([u8; 32]);

impl StoreKey {
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex, as fed to SQLite3MultipleCiphers (which runs any key text through its
    /// own SHA-256 x 4001; a full-entropy 256-bit input makes that stretch irrelevant).
    pub fn hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.0))
    }

    #[cfg(test)]
    pub(crate) fn from_bytes(b: [u8; 32]) -> Self {
        StoreKey(b)
    }
}

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(<redacted>)")
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DataKey(id={}, <redacted>)", hex::encode(self.key_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_give_distinct_keys() {
        let dek = DataKey::from_parts([1u8; 32], [2u8; 16]);
        let keys: Vec<[u8; 32]> =
            [Store::Libsql, Store::Duckdb, Store::Rocksdb, Store::Chroma, Store::Sync].iter().map(|s| *dek.store_key(*s).bytes()).collect();
        for i in 0..keys.len() {
            for j in i + 1..keys.len() {
                assert_ne!(keys[i], keys[j]);
            }
        }
        // deterministic
        assert_eq!(*dek.store_key(Store::Libsql).bytes(), keys[0]);
        assert_ne!(*dek.subkey("libsql").unwrap().bytes(), keys[0]);
        assert_eq!(format!("{:?}", dek.store_key(Store::Sync)), "StoreKey(<redacted>)");
    }
}
