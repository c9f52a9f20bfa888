//! The data folder: where the key file and each store's files live, and the rules for
//! opening or creating it.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::keys::{DataKey, KdfParams, KeyFile, Store, StoreKey, KEYFILE_NAME};

/// File name of the libSQL database inside the data folder.
pub const SQL_FILE: &str = "aico.db";

/// An unlocked data folder. Holds the data key (zeroized on drop).
#[derive(Debug)]
pub struct Folder {
    dir: PathBuf,
    key: DataKey,
    kdf: KdfParams,
    created: bool,
}

impl Folder {
    /// Unlocks the folder `dir` with `password`, creating the folder and its key file when
    /// `create` is set and there is none yet. A wrong password fails here, before any store
    /// is opened, and leaves every file untouched.
    pub fn open(dir: &Path, password: &[u8], create: bool, kdf: Option<KdfParams>) -> Result<Folder> {
        match fs::metadata(dir) {
            Ok(m) if !m.is_dir() => {
                return Err(Error::invalid(format!("{} exists and is not a folder", dir.display())))
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => create_dir(dir)?,
            Err(e) => return Err(Error::io(format!("data folder {}", dir.display()), e)),
        }
        let key_path = dir.join(KEYFILE_NAME);
        if key_path.exists() {
            let kf = KeyFile::read(&key_path)?;
            let key = kf.unlock(password)?;
            return Ok(Folder { dir: dir.to_path_buf(), key, kdf: kf.params, created: false });
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
        let (_, key) = KeyFile::create(&key_path, password, params)?;
        Ok(Folder { dir: dir.to_path_buf(), key, kdf: params, created: true })
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
        let kf = KeyFile::change_password(&self.dir.join(KEYFILE_NAME), old, new, kdf)?;
        self.kdf = kf.params;
        Ok(())
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
