//! Sealed snapshots of the analytics database, so reopening restores instead of rebuilding.
//!
//! Writing: every analytics table (and the sync state, which holds the watermarks) is read
//! as Arrow batches, encoded as LZ4-compressed Arrow IPC streams of a few MiB, and each
//! stream is sealed as one frame (see [`container`]) into `analytics.snapshot.tmp`, which is
//! fsynced and renamed over `analytics.snapshot`. Plaintext exists only in memory.
//!
//! Restoring: frames are opened and appended inside one DuckDB transaction; any failure
//! (tampering, truncation, another key, a format this build does not know) rolls it back and
//! is reported to the caller, which then rebuilds from libSQL: the snapshot is derived data.

pub(crate) mod container;

use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::time::Instant;

use duckdb::arrow::datatypes::Schema;

use super::chunk::ChunkAppender;
use super::column_type::ColumnType;
use super::engine::AnalyticsEngine;
use super::etl::state::{STATE_DDL, STATE_TABLE, STATE_TYPES};
use super::etl::TableMapping;
use super::ipc::{read_stream, IpcStream};
use super::query;
use super::raw::{quote_ident, RawConn};
use crate::error::{Error, Result};
use crate::keys::StoreKey;
use crate::sql::Params;
use container::{FrameKind, FrameReader, FrameWriter};

/// File name of the snapshot inside the data folder.
pub const SNAPSHOT_FILE: &str = "analytics.snapshot";
const FORMAT: &str = "format=1";
const STATE_FINGERPRINT: &str = "aico-sync-state/v1";
/// Target size of one sealed frame's IPC payload.
const FRAME_BYTES: usize = 8 << 20;

/// What a snapshot write or restore handled.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SnapshotInfo {
    pub bytes: u64,
    pub tables: u32,
    pub rows: u64,
    pub ms: f64,
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".tmp");
    PathBuf::from(p)
}

fn create_private(path: &Path) -> Result<File> {
    let mut o = OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path).map_err(|e| Error::io(format!("creating {}", path.display()), e))
}

/// The tables a snapshot holds: every mapped table plus the sync state.
fn tables(mappings: &[TableMapping]) -> Vec<(String, String, Vec<ColumnType>)> {
    let mut out: Vec<_> = mappings.iter().map(|m| (m.table.clone(), m.fingerprint(), m.types())).collect();
    out.push((STATE_TABLE.into(), STATE_FINGERPRINT.into(), STATE_TYPES.to_vec()));
    out
}

/// Writes a sealed snapshot of the analytics database to `path` (atomically).
pub(crate) fn write(engine: &AnalyticsEngine, path: &Path, key: &StoreKey, mappings: &[TableMapping]) -> Result<SnapshotInfo> {
    let started = Instant::now();
    let tmp = tmp_path(path);
    let res = (|| {
        let file = create_private(&tmp)?;
        let mut w = FrameWriter::new(BufWriter::with_capacity(1 << 20, file), key)?;
        w.frame(FrameKind::Meta, format!("{FORMAT}\ncreated_ms={}\n", super::time::now_micros() / 1000).as_bytes())?;
        let mut info = SnapshotInfo::default();
        for (name, fingerprint, _) in tables(mappings) {
            w.frame(FrameKind::Table, format!("{name}\n{fingerprint}").as_bytes())?;
            let mut current: Option<IpcStream> = None;
            let mut schema: Option<Schema> = None;
            query::stream(engine.connection(), &format!("SELECT * FROM {}", quote_ident(&name)), &Params::None, |batch| {
                info.rows += batch.num_rows() as u64;
                let s = schema.get_or_insert_with(|| batch.schema().as_ref().clone());
                if current.is_none() {
                    current = Some(IpcStream::new(s, true)?);
                }
                let ipc = current.as_mut().expect("set above");
                ipc.write(batch)?;
                if ipc.len() >= FRAME_BYTES {
                    w.frame(FrameKind::Data, &current.take().expect("set above").finish()?)?;
                }
                Ok(true)
            })?;
            if let Some(ipc) = current {
                w.frame(FrameKind::Data, &ipc.finish()?)?;
            }
            info.tables += 1;
        }
        info.bytes = w.bytes;
        let file = w.finish()?.into_inner().map_err(|e| Error::io("writing snapshot", e.into_error()))?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path).map_err(|e| Error::io(format!("renaming {}", tmp.display()), e))?;
        sync_dir(path);
        info.ms = started.elapsed().as_secs_f64() * 1000.0;
        Ok(info)
    })();
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    res
}

fn sync_dir(path: &Path) {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

/// Removes a leftover `.tmp` from an interrupted write (it is sealed; this is tidiness).
pub(crate) fn remove_stale_tmp(path: &Path) {
    let _ = fs::remove_file(tmp_path(path));
}

/// Restores the snapshot at `path` into an empty engine. `Ok(None)`: there is none.
pub(crate) fn restore(engine: &AnalyticsEngine, path: &Path, key: &StoreKey, mappings: &[TableMapping]) -> Result<Option<SnapshotInfo>> {
    let started = Instant::now();
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(format!("opening {}", path.display()), e)),
    };
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    let raw = engine.raw();
    raw.execute("BEGIN TRANSACTION")?;
    let res = load_frames(raw, BufReader::with_capacity(1 << 20, file), key, mappings);
    match res {
        Ok(mut info) => {
            raw.execute("COMMIT")?;
            info.bytes = bytes;
            info.ms = started.elapsed().as_secs_f64() * 1000.0;
            Ok(Some(info))
        }
        Err(e) => {
            let _ = raw.execute("ROLLBACK");
            Err(e)
        }
    }
}

fn load_frames(raw: &RawConn, input: impl std::io::Read, key: &StoreKey, mappings: &[TableMapping]) -> Result<SnapshotInfo> {
    let mut frames = FrameReader::new(input, key)?;
    match frames.next()? {
        Some((FrameKind::Meta, meta)) if meta.split(|&b| b == b'\n').any(|l| l == FORMAT.as_bytes()) => {}
        Some((FrameKind::Meta, _)) => return Err(Error::Corrupt("snapshot format not supported by this build".into())),
        _ => return Err(Error::Corrupt("snapshot does not start with its meta frame".into())),
    }
    let known = tables(mappings);
    let mut info = SnapshotInfo::default();
    let mut current: Option<ChunkAppender<'_>> = None;
    while let Some((kind, payload)) = frames.next()? {
        match kind {
            FrameKind::Table => {
                if let Some(app) = current.take() {
                    info.rows += app.finish()?;
                }
                let text = std::str::from_utf8(&payload).map_err(|_| Error::Corrupt("snapshot table frame".into()))?;
                let (name, fingerprint) = text.split_once('\n').unwrap_or((text, ""));
                // A table whose mapping changed since is skipped: the restored sync state still
                // names the old fingerprint, so the next sync rebuilds it.
                if let Some((name, _, types)) = known.iter().find(|(n, f, _)| n == name && f == fingerprint) {
                    if name == STATE_TABLE {
                        raw.execute(&format!("DROP TABLE IF EXISTS {STATE_TABLE}; {STATE_DDL}"))?;
                    } else {
                        let m = mappings.iter().find(|m| &m.table == name).expect("known table");
                        raw.execute(&m.create_sql(name, false, false))?;
                    }
                    current = Some(ChunkAppender::new(raw, name, types)?);
                    info.tables += 1;
                }
            }
            FrameKind::Data => {
                if let Some(app) = current.as_mut() {
                    for batch in read_stream(&payload)? {
                        app.append_batch(&batch)?;
                    }
                }
            }
            FrameKind::Meta | FrameKind::End => return Err(Error::Corrupt("snapshot frame out of place".into())),
        }
    }
    if let Some(app) = current.take() {
        info.rows += app.finish()?;
    }
    Ok(info)
}
