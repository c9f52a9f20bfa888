//! Writing a backup of an open folder.

use std::fs;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::archive::{write_entry_header, TAG_END};
use super::container::{ChunkWriter, Header, CHUNK_SIZE, KEYFILE_LEN};
use super::progress::Progress;
use super::{FORMAT, MANIFEST};
use crate::error::{Error, Result};
use crate::folder::{Folder, SQL_FILE};
use crate::fsutil;
use crate::keys::{KeyFile, Store, StoreKey, KEYFILE_NAME};
use crate::kv::{KvStore, KV_DIR};
use crate::sql::SqlStore;

/// The open stores a backup copies, and the keys it needs (taken from the folder up front,
/// so the folder is not held while the backup runs).
pub struct BackupSources<'a> {
    pub plan: BackupPlan,
    pub sql: &'a SqlStore,
    /// The KV store, when the data layer has one on disk.
    pub kv: Option<&'a KvStore>,
}

/// Folder, key id and keys of one backup.
pub struct BackupPlan {
    dir: PathBuf,
    key_id: [u8; 16],
    libsql_key: StoreKey,
    backup_id: [u8; 16],
    backup_key: StoreKey,
}

impl BackupPlan {
    /// Draws a backup id and derives its key from `folder`'s data key.
    pub fn new(folder: &Folder) -> Result<BackupPlan> {
        let mut backup_id = [0u8; 16];
        crate::random::fill(&mut backup_id)?;
        Ok(BackupPlan {
            dir: folder.dir().to_path_buf(),
            key_id: folder.key_id(),
            libsql_key: folder.store_key(Store::Libsql),
            backup_id,
            backup_key: folder.backup_key(&backup_id),
        })
    }
}

/// What a backup wrote.
#[derive(Debug, Clone)]
pub struct BackupInfo {
    pub bytes: u64,
    pub files: u32,
    pub key_id: String,
    pub backup_id: String,
    pub sql_pages: u64,
    pub created_ms: u64,
}

/// A scratch folder inside the data folder (same file system, so the RocksDB checkpoint
/// can hard-link), removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Removes scratch folders that a backup killed mid-way left behind (their process is gone).
/// They hold only encrypted copies, but they use space and nobody else would remove them.
fn remove_stale_scratch(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(".backup-").and_then(|r| r.split('-').next()).and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let alive = pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists();
        if !alive {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

/// Writes a backup of the open stores to `out` (which must not exist). `app_manifest` is a
/// JSON object recorded verbatim in the manifest (schema versions, app name...). The file
/// appears under its name only once complete: it is written as `<out>.partial-<pid>` first.
pub fn write_backup(out: &Path, src: &BackupSources<'_>, app_manifest: &str, progress: &Progress) -> Result<BackupInfo> {
    let app = app_manifest.trim();
    if !(app.starts_with('{') && app.ends_with('}')) {
        return Err(Error::invalid("the backup manifest extra must be a JSON object"));
    }
    if out.exists() {
        return Err(Error::invalid(format!("{} already exists; choose a new file name", out.display())));
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        return Err(Error::invalid(format!("folder {} does not exist", parent.display())));
    }
    let plan = &src.plan;
    let key_file =
        fs::read(plan.dir.join(KEYFILE_NAME)).map_err(|e| Error::io(format!("reading the key file of {}", plan.dir.display()), e))?;
    let parsed = KeyFile::from_bytes(&key_file)?;
    if parsed.key_id() != plan.key_id {
        return Err(Error::Corrupt("the key file on disk is not the one this data layer was opened with".into()));
    }

    remove_stale_scratch(&plan.dir);
    let mut rand = [0u8; 8];
    crate::random::fill(&mut rand)?;
    let scratch = Scratch(plan.dir.join(format!(".backup-{}-{}", std::process::id(), hex::encode(rand))));
    fsutil::create_private_dir(&scratch.0)?;

    progress.phase("sql", 0);
    let sql_pages = src.sql.backup_to(&scratch.0.join(SQL_FILE), &plan.libsql_key)?;
    let mut files = vec![(SQL_FILE.to_string(), scratch.0.join(SQL_FILE))];
    if let Some(kv) = src.kv {
        progress.phase("kv", 0);
        let kv_dir = scratch.0.join(KV_DIR);
        kv.checkpoint(&kv_dir)?;
        let mut names: Vec<String> =
            fs::read_dir(&kv_dir)?.map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned())).collect::<std::io::Result<_>>()?;
        names.sort();
        for n in names {
            files.push((format!("{KV_DIR}/{n}"), kv_dir.join(&n)));
        }
    }
    let mut sizes = Vec::with_capacity(files.len());
    for (_, p) in &files {
        sizes.push(fs::metadata(p)?.len());
    }
    progress.phase("write", sizes.iter().sum());

    let backup_id = plan.backup_id;
    let created_ms = crate::kv::now_ms();
    let header = Header {
        chunk_size: CHUNK_SIZE,
        key_id: plan.key_id,
        backup_id,
        created_ms,
        key_file: key_file.as_slice().try_into().map_err(|_| Error::Corrupt("key file length".into()))?,
    };
    debug_assert_eq!(header.key_file.len(), KEYFILE_LEN);

    let mut partial = out.as_os_str().to_owned();
    partial.push(format!(".partial-{}", std::process::id()));
    let partial = PathBuf::from(partial);
    let _ = fs::remove_file(&partial);
    let result = (|| -> Result<u64> {
        let file = fsutil::create_private(&partial)?;
        let w = ChunkWriter::new(BufWriter::with_capacity(1 << 20, file), &header, plan.backup_key.clone())?;
        // Two halves on two cores: this thread reads and hashes the files, a sealing thread
        // encrypts the chunks and writes them; blocks go between them through a short queue.
        let (tx, rx) = mpsc::sync_channel::<Zeroizing<Vec<u8>>>(PIPE_DEPTH);
        let (fed, sealed) = std::thread::scope(|s| {
            let sealer = s.spawn(move || -> Result<(BufWriter<fs::File>, u64)> {
                let mut w = w;
                for block in rx {
                    w.write_all(&block)?;
                }
                w.finish()
            });
            let mut pipe = Pipe(tx);
            let fed = write_entries(&mut pipe, &files, &sizes, sql_pages, src.kv.is_some(), plan, created_ms, app, progress);
            drop(pipe); // the sealer sees the end and seals the last chunk
            let sealed = sealer.join().unwrap_or_else(|_| Err(Error::Internal("the backup sealing thread panicked".into())));
            (fed, sealed)
        });
        // When the sealer stopped first (a full disk), its error is the cause of the feed's.
        let (buf, written) = sealed?;
        fed?;
        let file = buf.into_inner().map_err(|e| Error::io("writing the backup", e.into_error()))?;
        file.sync_all()?;
        drop(file);
        if out.exists() {
            return Err(Error::invalid(format!("{} appeared while the backup was written", out.display())));
        }
        fs::rename(&partial, out).map_err(|e| Error::io(format!("renaming the backup to {}", out.display()), e))?;
        fsutil::fsync_dir(&parent)?;
        Ok(written)
    })();
    let bytes = match result {
        Ok(b) => b,
        Err(e) => {
            let _ = fs::remove_file(&partial);
            return Err(e);
        }
    };
    Ok(BackupInfo {
        bytes,
        files: files.len() as u32,
        key_id: hex::encode(plan.key_id),
        backup_id: hex::encode(backup_id),
        sql_pages,
        created_ms,
    })
}

/// Blocks in the queue between the reading and the sealing thread (256 KiB each).
const PIPE_DEPTH: usize = 8;
const BLOCK: usize = 256 * 1024;

/// The reading half's end of the queue: what is written goes to the sealing thread.
struct Pipe(mpsc::SyncSender<Zeroizing<Vec<u8>>>);

impl Write for Pipe {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.send(Zeroizing::new(data.to_vec())).map_err(|_| std::io::Error::other("the backup sealing thread stopped"))?;
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes each file as an entry (header, then its bytes, hashed on the way), then the
/// manifest with every file's SHA-256, then the end tag.
#[allow(clippy::too_many_arguments)]
fn write_entries(
    w: &mut impl Write,
    files: &[(String, PathBuf)],
    sizes: &[u64],
    sql_pages: u64,
    with_kv: bool,
    plan: &BackupPlan,
    created_ms: u64,
    app: &str,
    progress: &Progress,
) -> Result<()> {
    let mut listed = Vec::with_capacity(files.len());
    let mut block = Zeroizing::new(vec![0u8; BLOCK]);
    for ((name, path), size) in files.iter().zip(sizes) {
        write_entry_header(w, name, *size)?;
        let mut f = fs::File::open(path)?;
        let mut hasher = Sha256::new();
        let mut left = *size;
        while left > 0 {
            let want = left.min(block.len() as u64) as usize;
            let n = f.read(&mut block[..want])?;
            if n == 0 {
                return Err(Error::Internal(format!("{name} shrank while being backed up")));
            }
            hasher.update(&block[..n]);
            w.write_all(&block[..n])?;
            left -= n as u64;
            progress.add(n as u64);
        }
        listed.push(format!("{{\"name\":\"{name}\",\"size\":{size},\"sha256\":\"{}\"}}", hex::encode(hasher.finalize())));
    }
    let manifest = format!(
        "{{\"format\":\"{FORMAT}\",\"keyId\":\"{}\",\"backupId\":\"{}\",\"createdMs\":{created_ms},\"sqlPages\":{sql_pages},\"kv\":{with_kv},\"analytics\":\"rebuild\",\"chroma\":\"rebuild\",\"files\":[{}],\"app\":{app}}}",
        hex::encode(plan.key_id),
        hex::encode(plan.backup_id),
        listed.join(",")
    );
    write_entry_header(w, MANIFEST, manifest.len() as u64)?;
    w.write_all(manifest.as_bytes())?;
    w.write_all(&[TAG_END])?;
    Ok(())
}
