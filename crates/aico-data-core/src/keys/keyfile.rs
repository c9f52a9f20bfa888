//! The key file: salt, Argon2id parameters and the wrapped data key. Never a raw key.
//!
//! Layout (little-endian, 160 bytes):
//! ```text
//!   0  8  magic "AICOKEY\0"
//!   8  2  format version (1)
//!  10  1  kdf id (1 = Argon2id v0x13)
//!  11  1  wrap id (1 = XChaCha20-Poly1305)
//!  12  4  memory KiB      16  4  iterations      20  4  parallelism
//!  24 16  salt
//!  40 16  key id (public id of the data key)
//!  56 24  nonce
//!  80 48  wrapped data key (32 + 16-byte tag); associated data = bytes 0..56
//! 128 32  SHA-256 of bytes 0..128
//! ```
//! The trailing checksum separates corruption (`CORRUPT`) from a wrong password: with an
//! intact checksum, a failed unwrap can only mean the password is wrong. An attacker who
//! rewrites the checksum gains nothing: the header is bound as associated data of the wrap.

use std::fs;
use std::io::Write;
use std::path::Path;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::aead::{self, NONCE_LEN};
use super::kdf::KdfParams;
use super::store_keys::DataKey;
use crate::error::{Error, Result};

pub const KEYFILE_NAME: &str = "aico-data.key";
const MAGIC: &[u8; 8] = b"AICOKEY\0";
const FORMAT_VERSION: u16 = 1;
const KDF_ARGON2ID: u8 = 1;
const WRAP_XCHACHA: u8 = 1;
const LEN: usize = 160;
const AAD_END: usize = 56;
const BODY_END: usize = 128;

/// A parsed key file (all public material; the data key stays wrapped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFile {
    pub params: KdfParams,
    salt: [u8; 16],
    key_id: [u8; 16],
    nonce: [u8; NONCE_LEN],
    wrapped: [u8; 48],
}

impl KeyFile {
    /// Creates a new data key, wraps it under `password` and writes the key file to `path`
    /// atomically. Refuses to overwrite an existing file.
    pub fn create(path: &Path, password: &[u8], params: KdfParams) -> Result<(KeyFile, DataKey)> {
        params.validate_new()?;
        check_password(password)?;
        if path.exists() {
            return Err(Error::invalid(format!("key file {} already exists", path.display())));
        }
        let mut dek = Zeroizing::new([0u8; 32]);
        crate::random::fill(dek.as_mut())?;
        let mut key_id = [0u8; 16];
        crate::random::fill(&mut key_id)?;
        let kf = KeyFile::wrap(&dek, key_id, password, params)?;
        write_atomic(path, &kf.to_bytes(), false)?;
        Ok((kf, DataKey::from_parts(*dek, key_id)))
    }

    fn wrap(dek: &[u8; 32], key_id: [u8; 16], password: &[u8], params: KdfParams) -> Result<KeyFile> {
        let mut salt = [0u8; 16];
        crate::random::fill(&mut salt)?;
        let kek = params.derive(password, &salt)?;
        KeyFile::wrap_with_kek(dek, key_id, &kek, params, salt)
    }

    /// Wraps `dek` under an already derived KEK (same password, salt and parameters as an
    /// existing key file, fresh nonce): how key rotation writes the next key file without
    /// asking for the password again.
    pub(crate) fn wrap_with_kek(dek: &[u8; 32], key_id: [u8; 16], kek: &[u8; 32], params: KdfParams, salt: [u8; 16]) -> Result<KeyFile> {
        let mut nonce = [0u8; NONCE_LEN];
        crate::random::fill(&mut nonce)?;
        let mut kf = KeyFile { params, salt, key_id, nonce, wrapped: [0u8; 48] };
        let header = kf.to_bytes();
        let sealed = aead::seal_with_nonce(kek, &nonce, dek, &header[..AAD_END])?;
        // seal_with_nonce prefixes version + nonce; the key file stores them separately.
        kf.wrapped.copy_from_slice(&sealed[1 + NONCE_LEN..]);
        Ok(kf)
    }

    /// Derives this key file's KEK from `password` (Argon2id with the stored salt and cost).
    pub(crate) fn derive_kek(&self, password: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
        self.params.derive(password, &self.salt)
    }

    pub(crate) fn salt(&self) -> [u8; 16] {
        self.salt
    }

    /// Reads and validates a key file. Truncated, oversized or altered files give `CORRUPT`.
    pub fn read(path: &Path) -> Result<KeyFile> {
        let bytes = fs::read(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::Io(format!("key file {} not found", path.display())),
            _ => Error::io(format!("reading key file {}", path.display()), e),
        })?;
        KeyFile::from_bytes(&bytes)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<KeyFile> {
        if bytes.len() != LEN {
            return Err(Error::Corrupt(format!("key file is {} bytes, expected {LEN}", bytes.len())));
        }
        if &bytes[..8] != MAGIC {
            return Err(Error::Corrupt("key file does not start with the aico-data magic".into()));
        }
        let digest = Sha256::digest(&bytes[..BODY_END]);
        if digest.as_slice() != &bytes[BODY_END..] {
            return Err(Error::Corrupt("key file checksum mismatch (damaged or altered)".into()));
        }
        let version = u16::from_le_bytes([bytes[8], bytes[9]]);
        if version != FORMAT_VERSION {
            return Err(Error::Corrupt(format!("unsupported key file version {version}")));
        }
        if bytes[10] != KDF_ARGON2ID || bytes[11] != WRAP_XCHACHA {
            return Err(Error::Corrupt("unknown KDF or wrap algorithm in key file".into()));
        }
        let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap());
        let params = KdfParams { memory_kib: u32_at(12), iterations: u32_at(16), parallelism: u32_at(20) };
        params.validate_stored()?;
        Ok(KeyFile {
            params,
            salt: bytes[24..40].try_into().unwrap(),
            key_id: bytes[40..56].try_into().unwrap(),
            nonce: bytes[56..80].try_into().unwrap(),
            wrapped: bytes[80..128].try_into().unwrap(),
        })
    }

    pub fn to_bytes(&self) -> [u8; LEN] {
        let mut b = [0u8; LEN];
        b[..8].copy_from_slice(MAGIC);
        b[8..10].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        b[10] = KDF_ARGON2ID;
        b[11] = WRAP_XCHACHA;
        b[12..16].copy_from_slice(&self.params.memory_kib.to_le_bytes());
        b[16..20].copy_from_slice(&self.params.iterations.to_le_bytes());
        b[20..24].copy_from_slice(&self.params.parallelism.to_le_bytes());
        b[24..40].copy_from_slice(&self.salt);
        b[40..56].copy_from_slice(&self.key_id);
        b[56..80].copy_from_slice(&self.nonce);
        b[80..128].copy_from_slice(&self.wrapped);
        let digest = Sha256::digest(&b[..BODY_END]);
        b[BODY_END..].copy_from_slice(&digest);
        b
    }

    pub fn key_id(&self) -> [u8; 16] {
        self.key_id
    }

    /// Unwraps the data key. A wrong password gives `WRONG_PASSWORD`; nothing is written.
    pub fn unlock(&self, password: &[u8]) -> Result<DataKey> {
        let kek = self.derive_kek(password)?;
        self.unlock_with_kek(&kek)
    }

    /// Unwraps the data key with a derived KEK; `WRONG_PASSWORD` when it does not fit.
    pub(crate) fn unlock_with_kek(&self, kek: &[u8; 32]) -> Result<DataKey> {
        let header = self.to_bytes();
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + 48);
        sealed.push(1);
        sealed.extend_from_slice(&self.nonce);
        sealed.extend_from_slice(&self.wrapped);
        let dek = aead::open(kek, &sealed, &header[..AAD_END]).map_err(|_| Error::WrongPassword)?;
        let dek = Zeroizing::new(dek);
        let key: [u8; 32] = dek.as_slice().try_into().map_err(|_| Error::Corrupt("wrapped key length".into()))?;
        Ok(DataKey::from_parts(key, self.key_id))
    }

    /// Rewraps the data key under `new_password` (fresh salt and nonce, `params` or the old
    /// ones) and replaces the key file atomically. Data stays encrypted under the same DEK.
    pub fn change_password(path: &Path, old_password: &[u8], new_password: &[u8], params: Option<KdfParams>) -> Result<KeyFile> {
        check_password(new_password)?;
        let current = KeyFile::read(path)?;
        let dek = current.unlock(old_password)?;
        let params = params.unwrap_or(current.params);
        params.validate_new()?;
        let next = KeyFile::wrap(dek.expose(), dek.key_id(), new_password, params)?;
        write_atomic(path, &next.to_bytes(), true)?;
        Ok(next)
    }
}

fn check_password(password: &[u8]) -> Result<()> {
    if password.is_empty() {
        return Err(Error::invalid("password must not be empty"));
    }
    if password.len() > 4096 {
        return Err(Error::invalid("password longer than 4096 bytes"));
    }
    Ok(())
}

/// Writes `bytes` to a temp file beside `path`, fsyncs it, renames it over `path` and
/// fsyncs the folder: a crash leaves either the old or the new key file, never half of one.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], replace: bool) -> Result<()> {
    let dir = path.parent().ok_or_else(|| Error::invalid("key file path has no folder"))?;
    let tmp = dir.join(format!(".{}.tmp-{}", path.file_name().and_then(|n| n.to_str()).unwrap_or("key"), std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        if !replace && path.exists() {
            return Err(std::io::Error::new(std::io::ErrorKind::AlreadyExists, "key file exists"));
        }
        fs::rename(&tmp, path)?;
        #[cfg(unix)]
        fs::File::open(dir)?.sync_all()?;
        Ok(())
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io(format!("writing key file {}", path.display()), e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_unlock_wrong_password_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEYFILE_NAME);
        let (kf, dek) = KeyFile::create(&path, b"correct horse", KdfParams::DEFAULT).unwrap();
        let bytes = fs::read(&path).unwrap();
        assert_eq!(bytes.len(), LEN);
        // the raw DEK never appears in the file
        assert!(!bytes.windows(32).any(|w| w == dek.expose()));
        let again = KeyFile::read(&path).unwrap();
        assert_eq!(again, kf);
        assert_eq!(again.unlock(b"correct horse").unwrap().expose(), dek.expose());
        assert_eq!(again.unlock(b"wrong").unwrap_err().code(), "WRONG_PASSWORD");
        assert_eq!(fs::read(&path).unwrap(), bytes, "a failed unlock writes nothing");

        KeyFile::change_password(&path, b"correct horse", b"battery staple", None).unwrap();
        let changed = KeyFile::read(&path).unwrap();
        assert_ne!(fs::read(&path).unwrap(), bytes);
        assert_eq!(changed.unlock(b"battery staple").unwrap().expose(), dek.expose());
        assert_eq!(changed.unlock(b"correct horse").unwrap_err().code(), "WRONG_PASSWORD");
        assert_eq!(KeyFile::change_password(&path, b"nope", b"x", None).unwrap_err().code(), "WRONG_PASSWORD");
        assert!(KeyFile::create(&path, b"p", KdfParams::DEFAULT).is_err(), "never overwrites");
    }

    #[test]
    fn corruption_is_corrupt_not_wrong_password() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEYFILE_NAME);
        KeyFile::create(&path, b"pw", KdfParams::DEFAULT).unwrap();
        let bytes = fs::read(&path).unwrap();
        assert_eq!(KeyFile::from_bytes(&bytes[..100]).unwrap_err().code(), "CORRUPT");
        assert_eq!(KeyFile::from_bytes(&[0u8; LEN]).unwrap_err().code(), "CORRUPT");
        for i in [0usize, 9, 13, 30, 45, 60, 100, 140] {
            let mut t = bytes.clone();
            t[i] ^= 0x40;
            assert_eq!(KeyFile::from_bytes(&t).unwrap_err().code(), "CORRUPT", "byte {i}");
        }
        // a forged checksum over altered wrapped bytes still fails the authenticated unwrap
        let mut t = bytes.clone();
        t[90] ^= 1;
        let digest = Sha256::digest(&t[..BODY_END]);
        t[BODY_END..].copy_from_slice(&digest);
        assert!(KeyFile::from_bytes(&t).unwrap().unlock(b"pw").is_err());
    }

    #[test]
    fn weak_params_refused() {
        let dir = tempfile::tempdir().unwrap();
        let weak = KdfParams { memory_kib: 1024, iterations: 1, parallelism: 1 };
        let err = KeyFile::create(&dir.path().join("k"), b"pw", weak).unwrap_err();
        assert_eq!(err.code(), "INVALID_ARGUMENT");
        assert_eq!(KeyFile::create(&dir.path().join("k"), b"", KdfParams::DEFAULT).unwrap_err().code(), "INVALID_ARGUMENT");
    }
}
