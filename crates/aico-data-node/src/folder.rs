//! The unlocked data folder: key hierarchy and AEAD for the TypeScript layers.

use std::sync::Arc;

use aico_data_core::folder::{Folder, OpenStores, PurposeKeys};
use aico_data_core::keys::{self, KdfParams, Store, StoreKey};
use aico_data_core::sql::{SqlOptions, SqlStore, Synchronous};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use parking_lot::Mutex;
use zeroize::Zeroize;

use crate::error::{to_napi, OrThrow};
use crate::sql::NativeSql;

/// Argon2id cost for a new key file (defaults: 64 MiB, 3 passes, 1 lane).
#[napi(object)]
pub struct KdfOptions {
    pub memory_kib: Option<u32>,
    pub iterations: Option<u32>,
    pub parallelism: Option<u32>,
}

fn kdf_params(o: Option<KdfOptions>) -> Option<KdfParams> {
    o.map(|o| KdfParams {
        memory_kib: o.memory_kib.unwrap_or(KdfParams::DEFAULT.memory_kib),
        iterations: o.iterations.unwrap_or(KdfParams::DEFAULT.iterations),
        parallelism: o.parallelism.unwrap_or(KdfParams::DEFAULT.parallelism),
    })
}

pub struct OpenFolderTask {
    dir: String,
    password: String,
    create: bool,
    kdf: Option<KdfParams>,
}

impl Task for OpenFolderTask {
    type Output = Folder;
    type JsValue = NativeFolder;

    fn compute(&mut self) -> Result<Folder> {
        let res = Folder::open(self.dir.as_ref(), self.password.as_bytes(), self.create, self.kdf);
        self.password.zeroize();
        res.or_throw()
    }

    fn resolve(&mut self, _env: Env, folder: Folder) -> Result<NativeFolder> {
        Ok(NativeFolder { keys: folder.purpose_keys(), stores: folder.open_stores(), inner: Arc::new(Mutex::new(Some(folder))) })
    }
}

/// Unlocks (or creates) a data folder off the JS thread (Argon2id takes a few hundred ms).
#[napi(ts_return_type = "Promise<NativeFolder>")]
pub fn open_folder(dir: String, password: String, create: bool, kdf: Option<KdfOptions>) -> AsyncTask<OpenFolderTask> {
    AsyncTask::new(OpenFolderTask { dir, password, create, kdf: kdf_params(kdf) })
}

/// Per-store SQL options from TypeScript.
#[napi(object)]
pub struct SqlOpenOptions {
    pub readers: Option<u32>,
    pub busy_timeout_ms: Option<u32>,
    pub acquire_timeout_ms: Option<u32>,
    /// "normal" (default) or "full".
    pub synchronous: Option<String>,
    pub statement_cache: Option<u32>,
    pub cache_kib: Option<u32>,
}

#[napi]
pub struct NativeFolder {
    inner: Arc<Mutex<Option<Folder>>>,
    /// The folder's cache of keys by purpose, read without locking the folder.
    keys: Arc<PurposeKeys>,
    /// The folder's registry of the stores opened from it, for backups and key rotation.
    pub(crate) stores: Arc<OpenStores>,
}

impl NativeFolder {
    pub(crate) fn inner(&self) -> Arc<Mutex<Option<Folder>>> {
        self.inner.clone()
    }

    pub(crate) fn with<T>(&self, f: impl FnOnce(&Folder) -> Result<T>) -> Result<T> {
        let g = self.inner.lock();
        match g.as_ref() {
            Some(folder) => f(folder),
            None => Err(to_napi(aico_data_core::Error::Closed("the data folder"))),
        }
    }

    fn key_for(&self, purpose: &str) -> Result<StoreKey> {
        self.keys.get_or_derive(purpose, || self.with(|f| f.derive_purpose_key(purpose).or_throw()))
    }

    /// The key of `store`, for the store bindings of this crate (never exposed to JS).
    pub(crate) fn store_key(&self, store: Store) -> Result<StoreKey> {
        self.with(|f| Ok(f.store_key(store)))
    }
}

#[napi]
impl NativeFolder {
    #[napi(getter)]
    pub fn created(&self) -> Result<bool> {
        self.with(|f| Ok(f.created()))
    }

    #[napi(getter)]
    pub fn key_id(&self) -> Result<String> {
        self.with(|f| Ok(f.key_id_hex()))
    }

    #[napi(getter)]
    pub fn dir(&self) -> Result<String> {
        self.with(|f| Ok(f.dir().display().to_string()))
    }

    /// Seals `plaintext` with the key for `purpose` (`chroma`, `sync`, or a sub-purpose
    /// such as `chroma/hmac`), binding `aad`.
    #[napi]
    pub fn seal(&self, purpose: String, plaintext: &[u8], aad: &[u8]) -> Result<Buffer> {
        let key = self.key_for(&purpose)?;
        keys::seal(key.bytes(), plaintext, aad).map(Buffer::from).or_throw()
    }

    /// Opens a value sealed by `seal` with the same purpose and `aad`; `CORRUPT` otherwise.
    #[napi]
    pub fn open(&self, purpose: String, sealed: &[u8], aad: &[u8]) -> Result<Buffer> {
        let key = self.key_for(&purpose)?;
        keys::open(key.bytes(), sealed, aad).map(Buffer::from).or_throw()
    }

    /// HMAC-SHA256 under the key for `purpose`: equality tokens for encrypted fields.
    #[napi]
    pub fn hmac(&self, purpose: String, data: &[u8]) -> Result<Buffer> {
        let key = self.key_for(&purpose)?;
        Ok(Buffer::from(keys::hmac_sha256(key.bytes(), data).to_vec()))
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn change_password(&self, old_password: String, new_password: String, kdf: Option<KdfOptions>) -> AsyncTask<ChangePasswordTask> {
        AsyncTask::new(ChangePasswordTask { folder: self.inner.clone(), old: old_password, new: new_password, kdf: kdf_params(kdf) })
    }

    /// Opens the encrypted libSQL store of this folder.
    #[napi]
    pub fn open_sql(&self, options: Option<SqlOpenOptions>) -> Result<NativeSql> {
        let mut opts = SqlOptions::default();
        if let Some(o) = options {
            if let Some(v) = o.readers {
                opts.readers = v as usize
            }
            if let Some(v) = o.busy_timeout_ms {
                opts.busy_timeout_ms = v
            }
            if let Some(v) = o.acquire_timeout_ms {
                opts.acquire_timeout_ms = v
            }
            if let Some(v) = o.statement_cache {
                opts.statement_cache = v as usize
            }
            if let Some(v) = o.cache_kib {
                opts.cache_kib = v
            }
            if let Some(s) = o.synchronous {
                opts.synchronous = Synchronous::parse(&s).or_throw()?;
            }
        }
        let store = self.with(|f| SqlStore::open(&f.sql_path(), f.store_key(Store::Libsql), opts, f.created()).or_throw())?;
        let native = NativeSql::new(store);
        self.stores.add_sql(&native.store());
        Ok(native)
    }

    /// Forgets the data key (zeroized). Stores opened from this folder stay open until closed.
    #[napi]
    pub fn close(&self) {
        self.inner.lock().take();
    }
}

pub struct ChangePasswordTask {
    folder: Arc<Mutex<Option<Folder>>>,
    old: String,
    new: String,
    kdf: Option<KdfParams>,
}

impl Task for ChangePasswordTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        let mut g = self.folder.lock();
        let res = match g.as_mut() {
            Some(f) => f.change_password(self.old.as_bytes(), self.new.as_bytes(), self.kdf).or_throw(),
            None => Err(to_napi(aico_data_core::Error::Closed("the data folder"))),
        };
        self.old.zeroize();
        self.new.zeroize();
        res
    }

    fn resolve(&mut self, _env: Env, _: ()) -> Result<()> {
        Ok(())
    }
}
