//! The data folder: where the key file and each store's files live, and the rules for
//! opening or creating it.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;
use zeroize::Zeroizing;

use crate::backup::Progress;
use crate::error::{Error, Result};
use crate::keys::{DataKey, KdfParams, KeyFile, Store, StoreKey, KEYFILE_NAME};
use crate::rotation::{self, RotationInfo};

pub mod stores;

pub use stores::OpenStores;

/// File name of the libSQL database inside the data folder.
pub const SQL_FILE: &str = "aico.db";

/// An unlocked data folder. Holds the data key (zeroized on drop).
pub struct Folder {
    dir: PathBuf,
    key: DataKey,
    kdf: KdfParams,
    created: bool,
    /// The key-encryption key (Argon2id of the password), kept so that key rotation can
    /// wrap the next data key without asking for the password again. Zeroized on drop.
    kek: Zeroizing<[u8; 32]>,
    /// A key rotation that an earlier process left unfinished and this open completed.
    resumed: Option<RotationInfo>,
    /// Keys derived by purpose ([`Folder::purpose_key`]), emptied when the data key changes
    /// and when the folder is dropped.
    purpose_keys: Arc<PurposeKeys>,
    /// The stores opened from this folder, registered by whoever opens them.
    open_stores: Arc<OpenStores>,
}

/// A cache of the keys the TypeScript layers seal, open and HMAC with, by purpose, so that
/// those calls do not run HKDF each time. Shared ([`Folder::purpose_keys`]) so that a cached
/// key can be read without locking the folder (which a rotation or a password change holds
/// for long); the folder empties it whenever its data key changes and when it is dropped.
#[derive(Default)]
pub struct PurposeKeys {
    keys: Mutex<Vec<(String, StoreKey)>>,
}

impl PurposeKeys {
    /// The cached key for `purpose`, else the one `derive` returns (then cached). `derive`
    /// runs without the cache locked.
    pub fn get_or_derive<E>(
        &self,
        purpose: &str,
        derive: impl FnOnce() -> std::result::Result<StoreKey, E>,
    ) -> std::result::Result<StoreKey, E> {
        if let Some((_, k)) = self.keys.lock().iter().find(|(p, _)| p == purpose) {
            return Ok(k.clone());
        }
        let key = derive()?;
        let mut keys = self.keys.lock();
        if !keys.iter().any(|(p, _)| p == purpose) {
            keys.push((purpose.to_string(), key.clone()));
        }
        Ok(key)
    }

    /// Forgets every key (zeroized on drop).
    pub fn clear(&self) {
        self.keys.lock().clear();
    }
}

impl Folder {
    /// Unlocks the folder `dir` with `password`, creating the folder and its key file when
    /// `create` is set and there is none yet. A wrong password fails here, before any store
    /// is opened, and leaves every file untouched.
    pub fn open(dir: &Path, password: &[u8], create: bool, kdf: Option<KdfParams>) -> Result<Folder> {
        match fs::metadata(dir) {
            Ok(m) if !m.is_dir() => return Err(Error::invalid(format!("{} exists and is not a folder", dir.display()))),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => create_dir(dir)?,
            Err(e) => return Err(Error::io(format!("data folder {}", dir.display()), e)),
        }
        let key_path = dir.join(KEYFILE_NAME);
        if key_path.exists() {
            let kf = KeyFile::read(&key_path)?;
            let kek = kf.derive_kek(password)?;
            let mut key = kf.unlock_with_kek(&kek)?;
            // Stores are not open yet: the moment to finish a rotation a crash interrupted.
            let resumed = match rotation::resume(dir, &kf, &kek, &Progress::new())? {
                Some((next, info)) => {
                    key = next;
                    Some(info)
                }
                None => None,
            };
            let kdf = kf.params;
            // A key file and no store at all: a first open that died right after writing the
            // key file. The folder is still brand new, so its stores may be created now.
            let created = resumed.is_none() && holds_no_store(dir);
            return Ok(Folder {
                dir: dir.to_path_buf(),
                key,
                kdf,
                created,
                kek,
                resumed,
                purpose_keys: Arc::default(),
                open_stores: Arc::default(),
            });
        }
        if dir.join(SQL_FILE).exists() {
            return Err(Error::Corrupt(format!(
                "{} holds a database but no key file ({KEYFILE_NAME}); without it the data cannot be decrypted: restore the key file from a backup",
                dir.display()
            )));
        }
        if !create {
            return Err(Error::Io(format!("{} is not an aico-data folder (no {KEYFILE_NAME})", dir.display())));
        }
        let params = kdf.unwrap_or_default();
        let (kf, key) = KeyFile::create(&key_path, password, params)?;
        let kek = kf.derive_kek(password)?;
        Ok(Folder {
            dir: dir.to_path_buf(),
            key,
            kdf: params,
            created: true,
            kek,
            resumed: None,
            purpose_keys: Arc::default(),
            open_stores: Arc::default(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// True when this open created the folder's key file (a brand-new data folder).
    pub fn created(&self) -> bool {
        self.created
    }

    pub fn kdf(&self) -> KdfParams {
        self.kdf
    }

    /// Public id of the data key.
    pub fn key_id(&self) -> [u8; 16] {
        self.key.key_id()
    }

    /// The key of one backup file (see `backup::container`).
    pub fn backup_key(&self, backup_id: &[u8; 16]) -> StoreKey {
        self.key.backup_key(backup_id)
    }

    /// The key rotation this open finished after an interrupted run, if any.
    pub fn resumed_rotation(&self) -> Option<&RotationInfo> {
        self.resumed.as_ref()
    }

    /// Re-encrypts every store of the folder under a new data key and replaces the key file.
    /// Every store of this folder must be closed (in this process and any other; those
    /// registered in [`Folder::open_stores`] are checked: `INVALID_ARGUMENT`). Crash-safe:
    /// the next [`Folder::open`] finishes an interrupted rotation.
    pub fn rotate_keys(&mut self, progress: &Progress) -> Result<RotationInfo> {
        self.open_stores.check_rotatable()?;
        let kf = KeyFile::read(&self.dir.join(KEYFILE_NAME))?;
        if kf.key_id() != self.key.key_id() {
            return Err(Error::Corrupt("the key file on disk is not the one this folder was opened with".into()));
        }
        let res = rotation::start(&self.dir, &kf, &self.kek, &self.key, progress);
        // Keys derived from the old data key must not seal anything from now on.
        self.purpose_keys.clear();
        let (next, info) = res?;
        self.key = next;
        Ok(info)
    }

    pub fn key_id_hex(&self) -> String {
        hex::encode(self.key.key_id())
    }

    pub fn store_key(&self, store: Store) -> StoreKey {
        self.key.store_key(store)
    }

    pub fn subkey(&self, purpose: &str) -> Result<StoreKey> {
        self.key.subkey(purpose)
    }

    /// The key the TypeScript layers seal, open and HMAC with for `purpose`, cached. The
    /// policy ([`Folder::derive_purpose_key`]): `chroma` and `sync` are those stores' keys;
    /// `libsql`, `rocksdb` and `duckdb` are reserved for their engines (`INVALID_ARGUMENT`);
    /// any other purpose (e.g. `chroma/hmac`) is its own [`Folder::subkey`].
    pub fn purpose_key(&self, purpose: &str) -> Result<StoreKey> {
        self.purpose_keys.get_or_derive(purpose, || self.derive_purpose_key(purpose))
    }

    /// [`Folder::purpose_key`] without the cache.
    pub fn derive_purpose_key(&self, purpose: &str) -> Result<StoreKey> {
        match Store::parse(purpose) {
            Some(Store::Libsql | Store::Rocksdb | Store::Duckdb) => {
                Err(Error::invalid(format!("the {purpose} key is reserved for its store")))
            }
            Some(store) => Ok(self.store_key(store)),
            None => self.subkey(purpose),
        }
    }

    /// The cache behind [`Folder::purpose_key`], for a caller that reads cached keys without
    /// locking the folder (`purpose_keys().get_or_derive(p, || <lock>.derive_purpose_key(p))`).
    pub fn purpose_keys(&self) -> Arc<PurposeKeys> {
        self.purpose_keys.clone()
    }

    /// The registry of stores opened from this folder: register each store opened with this
    /// folder's keys; backups take their sources from it, key rotation refuses while any is
    /// open ([`OpenStores`]).
    pub fn open_stores(&self) -> Arc<OpenStores> {
        self.open_stores.clone()
    }

    pub fn sql_path(&self) -> PathBuf {
        self.dir.join(SQL_FILE)
    }

    /// Rewraps the data key under `new`; no store is re-encrypted.
    pub fn change_password(&mut self, old: &[u8], new: &[u8], kdf: Option<KdfParams>) -> Result<()> {
        if rotation::in_progress(&self.dir) {
            return Err(Error::Busy("a key rotation is in progress in this folder: reopen it to finish it first".into()));
        }
        let kf = KeyFile::change_password(&self.dir.join(KEYFILE_NAME), old, new, kdf)?;
        self.kek = kf.derive_kek(new)?;
        self.kdf = kf.params;
        Ok(())
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        // A caller may still hold the shared cache: the keys must not outlive the data key.
        self.purpose_keys.clear();
    }
}

impl std::fmt::Debug for Folder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Folder").field("dir", &self.dir).field("key", &self.key).field("created", &self.created).finish_non_exhaustive()
    }
}

fn create_dir(dir: &Path) -> Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(|e| Error::io(format!("creating data folder {}", dir.display()), e))
}

/// True when no store has ever been written in `dir` (no database, KV store, analytics
/// snapshot or Chroma folder): only then may an existing key file's folder create its stores.
fn holds_no_store(dir: &Path) -> bool {
    [SQL_FILE, crate::kv::KV_DIR, crate::analytics::snapshot::SNAPSHOT_FILE, crate::rotation::CHROMA_DIR]
        .iter()
        .all(|name| !dir.join(name).exists())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cached(keys: &PurposeKeys, purpose: &str) -> Option<[u8; 32]> {
        keys.get_or_derive(purpose, || Err(())).ok().map(|k| *k.bytes())
    }

    #[test]
    fn purpose_keys_policy_and_cache() {
        let t = tempfile::tempdir().unwrap();
        let mut f = Folder::open(&t.path().join("d"), b"pw", true, None).unwrap();
        let cache = f.purpose_keys();
        // The policy.
        assert_eq!(f.purpose_key("chroma").unwrap().bytes(), f.store_key(Store::Chroma).bytes());
        assert_eq!(f.purpose_key("sync").unwrap().bytes(), f.store_key(Store::Sync).bytes());
        assert_eq!(f.purpose_key("chroma/hmac").unwrap().bytes(), f.subkey("chroma/hmac").unwrap().bytes());
        assert_ne!(f.purpose_key("chroma/hmac").unwrap().bytes(), f.purpose_key("chroma").unwrap().bytes());
        for reserved in ["libsql", "rocksdb", "duckdb"] {
            let e = f.purpose_key(reserved).unwrap_err();
            assert_eq!(e.code(), "INVALID_ARGUMENT");
            assert_eq!(e.to_string(), format!("invalid argument: the {reserved} key is reserved for its store"));
            assert_eq!(cached(&cache, reserved), None, "a refused purpose is not cached");
        }
        // The cache: filled once, read without deriving.
        let chroma = *f.store_key(Store::Chroma).bytes();
        assert_eq!(cached(&cache, "chroma"), Some(chroma));
        assert_eq!(cached(&cache, "other"), None);
        let k = cache.get_or_derive("other", || f.derive_purpose_key("other")).unwrap();
        assert_eq!(cached(&cache, "other"), Some(*k.bytes()));
        // A rotation empties it: the next key comes from the new data key.
        f.rotate_keys(&Progress::new()).unwrap();
        let kv =
            Arc::new(crate::kv::KvStore::open(&f.dir().join(crate::kv::KV_DIR), f.store_key(Store::Rocksdb), Default::default()).unwrap());
        f.open_stores().add_kv(&kv);
        let e = f.rotate_keys(&Progress::new()).unwrap_err();
        assert_eq!(e.to_string(), "invalid argument: close every store of this folder before rotating its keys");
        kv.close().unwrap();
        assert_eq!(cached(&cache, "chroma"), None);
        assert_eq!(cached(&cache, "other"), None);
        let next = *f.purpose_key("chroma").unwrap().bytes();
        assert_ne!(next, chroma);
        assert_eq!(cached(&cache, "chroma"), Some(next));
        // Dropping the folder empties it too, though the cache outlives it.
        drop(f);
        assert_eq!(cached(&cache, "chroma"), None);
    }
}
