//! The data folder: where the key file and each store's files live, and the rules for
//! opening or creating it.

use std::fs;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::backup::Progress;
use crate::error::{Error, Result};
use crate::keys::{DataKey, KdfParams, KeyFile, Store, StoreKey, KEYFILE_NAME};
use crate::rotation::{self, RotationInfo};

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
            return Ok(Folder { dir: dir.to_path_buf(), key, kdf, created, kek, resumed });
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
        Ok(Folder { dir: dir.to_path_buf(), key, kdf: params, created: true, kek, resumed: None })
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
    /// Every store of this folder must be closed (in this process and any other). Crash-safe:
    /// the next [`Folder::open`] finishes an interrupted rotation.
    pub fn rotate_keys(&mut self, progress: &Progress) -> Result<RotationInfo> {
        let kf = KeyFile::read(&self.dir.join(KEYFILE_NAME))?;
        if kf.key_id() != self.key.key_id() {
            return Err(Error::Corrupt("the key file on disk is not the one this folder was opened with".into()));
        }
        let (next, info) = rotation::start(&self.dir, &kf, &self.kek, &self.key, progress)?;
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
