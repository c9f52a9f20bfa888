//! Restoring a backup into an empty folder.

use std::fs;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::archive::read_entry_header;
use super::container::{from_io, ChunkReader, Header, HEADER_LEN};
use super::progress::Progress;
use super::MANIFEST;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::keys::{KeyFile, KEYFILE_NAME};

/// What a restore wrote.
#[derive(Debug, Clone)]
pub struct RestoreInfo {
    pub files: u32,
    pub bytes: u64,
    pub key_id: String,
    pub backup_id: String,
    pub created_ms: u64,
    /// The backup's manifest (JSON), including the metadata given when it was written.
    pub manifest: String,
}

/// Largest manifest accepted (it lists file names and hashes, plus the caller's metadata).
const MAX_MANIFEST: u64 = 4 << 20;

/// Restores the backup `file` into `dir`, which must be missing or empty. `password` is the
/// master password at the time of the backup. Everything is authenticated before the
/// restored files take their final names; on any failure the folder is left as it was found
/// (missing, or empty). Wrong password: `WRONG_PASSWORD`. Tampered or truncated: `CORRUPT`.
pub fn restore_backup(file: &Path, dir: &Path, password: &[u8], progress: &Progress) -> Result<RestoreInfo> {
    let created_dir = match fs::read_dir(dir) {
        Ok(mut it) => {
            if it.next().is_some() {
                return Err(Error::invalid(format!("{} is not empty: restore into a new or empty folder", dir.display())));
            }
            false
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            fsutil::create_private_dir(dir)?;
            true
        }
        Err(e) => return Err(Error::io(format!("restore folder {}", dir.display()), e)),
    };
    let res = restore_into(file, dir, password, progress);
    if res.is_err() {
        if created_dir {
            let _ = fs::remove_dir_all(dir);
        } else if let Ok(entries) = fs::read_dir(dir) {
            for e in entries.flatten() {
                let p = e.path();
                let _ = if p.is_dir() { fs::remove_dir_all(&p) } else { fs::remove_file(&p) };
            }
        }
    }
    res
}

fn restore_into(file: &Path, dir: &Path, password: &[u8], progress: &Progress) -> Result<RestoreInfo> {
    let f = fs::File::open(file).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::invalid(format!("backup file {} not found", file.display())),
        _ => Error::io(format!("opening {}", file.display()), e),
    })?;
    let total = f.metadata()?.len();
    let mut input = BufReader::with_capacity(1 << 20, f);
    let mut head = vec![0u8; HEADER_LEN];
    let mut got = 0;
    while got < HEADER_LEN {
        match input.read(&mut head[got..])? {
            0 => break,
            n => got += n,
        }
    }
    let header = Header::from_bytes(&head[..got])?;
    let key_file = KeyFile::from_bytes(&header.key_file)?;
    if key_file.key_id() != header.key_id {
        return Err(Error::Corrupt("the backup's key file does not match its key id".into()));
    }
    let dek = key_file.unlock(password)?;
    progress.phase("restore", total);

    let staging = dir.join(format!(".restoring-{}", std::process::id()));
    fsutil::create_private_dir(&staging)?;
    let mut reader = ChunkReader::new(input, &header, dek.backup_key(&header.backup_id));
    let mut restored: Vec<(String, u64, String)> = Vec::new();
    let mut manifest = None;
    let mut block = zeroize::Zeroizing::new(vec![0u8; 256 * 1024]);
    let mut bytes = 0u64;
    while let Some((name, size)) = read_entry_header(&mut reader).map_err(|e| from_io(e, "reading the backup"))? {
        if manifest.is_some() {
            return Err(Error::Corrupt("an entry follows the backup manifest".into()));
        }
        if name == MANIFEST {
            if size > MAX_MANIFEST {
                return Err(Error::Corrupt(format!("backup manifest of {size} bytes")));
            }
            let mut m = vec![0u8; size as usize];
            reader.read_exact(&mut m).map_err(|e| from_io(e, "reading the backup"))?;
            manifest = Some(String::from_utf8(m).map_err(|_| Error::Corrupt("manifest is not UTF-8".into()))?);
            continue;
        }
        if restored.iter().any(|(n, _, _)| *n == name) || name == KEYFILE_NAME {
            return Err(Error::Corrupt(format!("backup entry {name} appears twice")));
        }
        let path = staging.join(&name);
        if let Some(p) = path.parent() {
            fsutil::create_private_dir(p)?;
        }
        let mut out = fsutil::create_private(&path)?;
        let mut hasher = Sha256::new();
        let mut left = size;
        while left > 0 {
            let want = left.min(block.len() as u64) as usize;
            reader.read_exact(&mut block[..want]).map_err(|e| from_io(e, "reading the backup"))?;
            hasher.update(&block[..want]);
            out.write_all(&block[..want])?;
            left -= want as u64;
            bytes += want as u64;
            progress.set_done(reader.consumed);
        }
        out.sync_all()?;
        restored.push((name, size, hex::encode(hasher.finalize())));
    }
    // The end marker must be the last plaintext byte, and the stream must end with the
    // chunk sealed as final: reading once more checks both.
    let mut extra = [0u8; 1];
    if reader.read(&mut extra).map_err(|e| from_io(e, "reading the backup"))? != 0 {
        return Err(Error::Corrupt("data follows the end of the backup archive".into()));
    }
    let manifest = manifest.ok_or_else(|| Error::Corrupt("the backup has no manifest".into()))?;
    check_manifest(&manifest, &restored)?;

    // Complete and authentic: give the files their final names, the key file last (a folder
    // without a key file is not an aico-data folder, so a crash here is not mistaken for one).
    let mut tops: Vec<String> = restored.iter().map(|(n, _, _)| n.split('/').next().unwrap().to_string()).collect();
    tops.sort();
    tops.dedup();
    for top in &tops {
        fs::rename(staging.join(top), dir.join(top)).map_err(|e| Error::io(format!("moving {top} into place"), e))?;
    }
    let key_path: PathBuf = dir.join(KEYFILE_NAME);
    let mut kf = fsutil::create_private(&staging.join(KEYFILE_NAME))?;
    kf.write_all(&header.key_file)?;
    kf.sync_all()?;
    drop(kf);
    fs::rename(staging.join(KEYFILE_NAME), &key_path)?;
    fs::remove_dir_all(&staging)?;
    fsutil::fsync_dir(dir)?;
    progress.set_done(total);
    Ok(RestoreInfo {
        files: restored.len() as u32,
        bytes,
        key_id: hex::encode(header.key_id),
        backup_id: hex::encode(header.backup_id),
        created_ms: header.created_ms,
        manifest,
    })
}

/// The manifest (authenticated like everything else) must list exactly the files restored,
/// with their sizes and hashes: a consistency check on the writer, not a security boundary.
fn check_manifest(manifest: &str, restored: &[(String, u64, String)]) -> Result<()> {
    let files = manifest
        .split_once("\"files\":[")
        .and_then(|(_, rest)| rest.split_once("],\"app\":"))
        .map(|(files, _)| files)
        .ok_or_else(|| Error::Corrupt("the backup manifest has no file list".into()))?;
    let listed = files.matches("{\"name\":").count();
    if listed != restored.len() {
        return Err(Error::Corrupt(format!("manifest lists {listed} files, the backup holds {}", restored.len())));
    }
    for (name, size, sha) in restored {
        let entry = format!("{{\"name\":\"{name}\",\"size\":{size},\"sha256\":\"{sha}\"}}");
        if !files.contains(&entry) {
            return Err(Error::Corrupt(format!("{name} does not match the manifest")));
        }
    }
    Ok(())
}
