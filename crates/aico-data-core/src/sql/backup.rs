//! Page copies of the encrypted database with SQLite's online backup API.
//!
//! Used by backups (a consistent copy while the store is open and being written) and by key
//! rotation (a copy under another key). The destination connection carries its own key, so
//! SQLite3MultipleCiphers decrypts each page from the source and encrypts it for the
//! destination in memory: no plaintext page ever reaches the disk.

use std::path::Path;

use libsql_sys::wal::Sqlite3WalManager;
use libsql_sys::{Cipher, EncryptionConfig};
use rusqlite::OpenFlags;

use super::errors;
use super::SqlStore;
use crate::error::{Error, Result};
use crate::keys::StoreKey;

pub(crate) type Conn = libsql_sys::Connection<libsql_sys::wal::Sqlite3Wal>;

/// Opens a raw keyed connection (no pool, no authorizer): backup and rotation only.
pub(crate) fn open_raw(path: &Path, key: &StoreKey, create: bool) -> Result<Conn> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let hex = key.hex();
    let cfg = EncryptionConfig::new(Cipher::Aes256Cbc, bytes::Bytes::copy_from_slice(hex.as_bytes()));
    let conn = libsql_sys::Connection::open(path, flags, Sqlite3WalManager::new(), 1000, Some(cfg))
        .map_err(|e| Error::Io(format!("cannot open {}: {e}", path.display())))?;
    // The first read decrypts page 1: another key fails here, before anything is written.
    conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get::<_, i64>(0)).map_err(errors::map)?;
    conn.execute_batch("PRAGMA mmap_size=0; PRAGMA temp_store=MEMORY;").map_err(errors::map)?;
    conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(errors::map)?;
    Ok(conn)
}

/// Copies every page of `src` into a new database at `dest` encrypted under `dest_key`, in
/// one step (one read transaction on the source: a consistent snapshot; in WAL mode writers
/// are not blocked meanwhile). The destination is checkpointed and closed, so that `dest`
/// alone holds the copy. Returns the number of pages copied.
///
/// `dest` is not made durable: nobody uses it before the caller is done with it, and the
/// callers either fsync it themselves (rotation, before the rename) or never need it on disk
/// (a backup's scratch copy, read back from the page cache and removed).
pub(crate) fn copy_pages(src: &Conn, dest: &Path, dest_key: &StoreKey) -> Result<u64> {
    if dest.exists() {
        return Err(Error::invalid(format!("{} already exists", dest.display())));
    }
    let mut dst = open_raw(dest, dest_key, true)?;
    dst.execute_batch("PRAGMA synchronous=OFF").map_err(errors::map)?;
    let pages = {
        let backup = rusqlite::backup::Backup::new(src, &mut dst).map_err(errors::map)?;
        loop {
            match backup.step(-1).map_err(errors::map)? {
                rusqlite::backup::StepResult::Done => break,
                // Busy/locked: another connection holds a lock we need; retry shortly.
                _ => std::thread::sleep(std::time::Duration::from_millis(20)),
            }
        }
        backup.progress().pagecount as u64
    };
    dst.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").map_err(errors::map)?;
    dst.execute_batch("PRAGMA journal_mode=DELETE").map_err(errors::map)?;
    drop(dst);
    Ok(pages)
}

impl SqlStore {
    /// Writes a consistent, encrypted copy of the open database to `dest` (which must not
    /// exist), under the same key. Runs on a connection of its own,
    /// so readers and the writer keep working meanwhile.
    /// `key` must be the store's key (the folder's `Store::Libsql` key).
    pub fn backup_to(&self, dest: &Path, key: &StoreKey) -> Result<u64> {
        self.check_open()?;
        let src = open_raw(&self.path, key, false)?;
        src.execute_batch("PRAGMA query_only=1").map_err(errors::map)?;
        copy_pages(&src, dest, key)
    }
}

fn sibling(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    std::path::PathBuf::from(p)
}

/// Takes SQLite's exclusive lock on the database through `conn` and keeps it until `conn`
/// closes. In WAL mode every open connection holds a shared lock on the database file for its
/// whole life, so this fails (`LOCKED`) while any other connection, in this process or
/// another, has the database open, and afterwards no other connection can open it.
pub(crate) fn lock_exclusive(conn: &Conn) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_millis(500)).map_err(errors::map)?;
    let res = conn.execute_batch("PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT;");
    conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(errors::map)?;
    res.map_err(|e| match errors::map(e) {
        Error::Busy(_) | Error::Locked(_) => {
            Error::Locked("the database is open in another process or handle: close every data layer on this folder first".into())
        }
        other => other,
    })
}

/// Fails with `LOCKED` while any connection has the closed database at `path` open.
pub(crate) fn ensure_unused(path: &Path, key: &StoreKey) -> Result<()> {
    let conn = open_raw(path, key, false)?;
    lock_exclusive(&conn)
}

/// Re-encrypts the closed database at `path` from `old` to `new`: pages are copied into
/// `<path>.rotating` under `new`, the old database is checkpointed (its WAL emptied, so no
/// frame under the old key can be replayed onto the new file), and the copy renamed over
/// it. Idempotent: when `path` already opens under `new` (a crash after the rename),
/// nothing is done and 0 is returned. `reseal` runs on the copy before it replaces the
/// database (values sealed with the data key inside libSQL). Returns the number of pages copied.
pub(crate) fn rekey_file(path: &Path, old: &StoreKey, new: &StoreKey, reseal: impl FnOnce(&Conn) -> Result<u64>) -> Result<u64> {
    let tmp = sibling(path, ".rotating");
    for suffix in ["", "-wal", "-shm", "-journal"] {
        crate::fsutil::remove_file_if_exists(&sibling(&tmp, suffix))?;
    }
    if open_raw(path, new, false).is_ok() {
        return Ok(0);
    }
    let src = open_raw(path, old, false)?;
    // Held until the file is replaced: nobody may read or write the old file meanwhile.
    lock_exclusive(&src)?;
    let pages = copy_pages(&src, &tmp, new)?;
    {
        let copy = open_raw(&tmp, new, false)?;
        reseal(&copy)?;
    }
    crate::fsutil::fsync_file(&tmp)?;
    src.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").map_err(errors::map)?;
    drop(src);
    for suffix in ["-wal", "-shm"] {
        crate::fsutil::remove_file_if_exists(&sibling(path, suffix))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| Error::io(format!("replacing {}", path.display()), e))?;
    let dir = path.parent().ok_or_else(|| Error::invalid("database path has no folder"))?;
    crate::fsutil::fsync_dir(dir)?;
    Ok(pages)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::StoreKey;

    #[test]
    fn copies_and_rekeys_without_plaintext() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        let k1 = StoreKey::from_bytes([1; 32]);
        let k2 = StoreKey::from_bytes([2; 32]);
        {
            let c = open_raw(&path, &k1, true).unwrap();
            c.execute_batch("CREATE TABLE t(x TEXT); INSERT INTO t VALUES ('canary-plaintext-0123456789');").unwrap();
        }
        // same-key copy (backup)
        let copy = dir.path().join("copy.db");
        let src = open_raw(&path, &k1, false).unwrap();
        assert!(copy_pages(&src, &copy, &k1).unwrap() > 0);
        drop(src);
        let c = open_raw(&copy, &k1, false).unwrap();
        let x: String = c.query_row("SELECT x FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(x, "canary-plaintext-0123456789");
        drop(c);
        // rekey, twice (the second run is a no-op)
        assert!(rekey_file(&path, &k1, &k2, |_| Ok(0)).unwrap() > 0);
        assert_eq!(rekey_file(&path, &k1, &k2, |_| Ok(0)).unwrap(), 0);
        assert!(open_raw(&path, &k1, false).is_err());
        let c = open_raw(&path, &k2, false).unwrap();
        let x: String = c.query_row("SELECT x FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(x, "canary-plaintext-0123456789");
        drop(c);
        // The exclusive lock is refused while another connection is open, granted after.
        let other = open_raw(&path, &k2, false).unwrap();
        assert_eq!(ensure_unused(&path, &k2).unwrap_err().code(), "LOCKED");
        assert_eq!(rekey_file(&path, &k2, &k1, |_| Ok(0)).unwrap_err().code(), "LOCKED");
        drop(other);
        ensure_unused(&path, &k2).unwrap();
        for f in [&path, &copy] {
            let bytes = std::fs::read(f).unwrap();
            assert!(!bytes.windows(14).any(|w| w == b"canary-plainte"), "plaintext in {}", f.display());
        }
    }
}
