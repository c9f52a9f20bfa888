//! Options of the KV store and of its namespaces, plus the size limits every call checks.

use crate::error::{Error, Result};

/// Largest key accepted (bytes). Keys are plaintext and sorted; 64 KiB is far above any
/// sensible key and keeps the "end of keyspace" bound used by `clear` small.
pub const MAX_KEY_BYTES: usize = 64 * 1024;
/// Largest value accepted (bytes). RocksDB handles larger values badly (they go through the
/// memtable and WAL whole); blobs belong in files.
pub const MAX_VALUE_BYTES: usize = 64 * 1024 * 1024;
/// Longest namespace name (bytes).
pub const MAX_NAMESPACE_BYTES: usize = 64;
/// Longest queue topic (bytes).
pub const MAX_TOPIC_BYTES: usize = 256;

/// Block compression of a namespace's SST files. The bottommost level always uses zstd
/// unless compression is `None` (cold data compresses better and is read less).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Lz4,
    Zstd,
}

impl Compression {
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }

    pub fn parse(s: &str) -> Result<Compression> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(Compression::None),
            "lz4" => Ok(Compression::Lz4),
            "zstd" => Ok(Compression::Zstd),
            other => Err(Error::invalid(format!("compression must be 'none', 'lz4' or 'zstd', not {other:?}"))),
        }
    }

    pub(crate) fn rocks(self) -> rocksdb::DBCompressionType {
        match self {
            Compression::None => rocksdb::DBCompressionType::None,
            Compression::Lz4 => rocksdb::DBCompressionType::Lz4,
            Compression::Zstd => rocksdb::DBCompressionType::Zstd,
        }
    }

    /// Name used by RocksDB's `SetOptions` (mutable column family option).
    pub(crate) fn rocks_option_name(self) -> &'static str {
        match self {
            Compression::None => "kNoCompression",
            Compression::Lz4 => "kLZ4Compression",
            Compression::Zstd => "kZSTD",
        }
    }
}

/// Per-namespace options, persisted in the store so that a namespace reopens as defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamespaceOptions {
    /// Default time to live of values put without an explicit `ttl` (`None`: no expiry).
    pub ttl_ms: Option<u64>,
    pub compression: Compression,
}

impl Default for NamespaceOptions {
    fn default() -> Self {
        NamespaceOptions { ttl_ms: None, compression: Compression::Lz4 }
    }
}

impl NamespaceOptions {
    /// From the API's options: `ttlMs` by [`namespace_ttl`](super::ttl::namespace_ttl) (absent
    /// or 0: no default expiry), `compression` by [`Compression::parse`] (absent: lz4).
    pub fn parse(ttl_ms: Option<f64>, compression: Option<&str>) -> Result<NamespaceOptions> {
        let ttl_ms = super::ttl::namespace_ttl(ttl_ms)?;
        let compression = compression.map(Compression::parse).transpose()?.unwrap_or(Compression::Lz4);
        Ok(NamespaceOptions { ttl_ms, compression })
    }

    /// Text form stored (sealed) in the meta column family: `ttl=<ms|none>;compression=<name>`.
    pub(crate) fn encode(&self) -> String {
        let ttl = self.ttl_ms.map_or_else(|| "none".to_string(), |t| t.to_string());
        format!("ttl={ttl};compression={}", self.compression.name())
    }

    pub(crate) fn decode(s: &str) -> Result<NamespaceOptions> {
        let mut o = NamespaceOptions::default();
        for part in s.split(';').filter(|p| !p.is_empty()) {
            let (k, v) =
                part.split_once('=').ok_or_else(|| Error::Corrupt(format!("namespace options {s:?}: {part:?} is not key=value")))?;
            match k {
                "ttl" if v == "none" => o.ttl_ms = None,
                "ttl" => o.ttl_ms = Some(v.parse().map_err(|_| Error::Corrupt(format!("namespace options {s:?}: bad ttl")))?),
                "compression" => o.compression = Compression::parse(v).map_err(|e| Error::Corrupt(e.to_string()))?,
                // Options written by a newer version: ignored, so that old code still opens.
                _ => {}
            }
        }
        Ok(o)
    }
}

/// How RocksDB replays a damaged write-ahead log at open (`WALRecoveryMode`), chosen on purpose
/// and reported by `status` (before, the core set nothing and got RocksDB's default silently).
///
/// `PointInTime`: the WAL is replayed up to the first record that does not read (a torn tail
/// after a crash or power loss, a flipped byte), and everything after it is dropped. The store
/// opens consistent as of that point: no write batch is half applied, queue state and messages
/// stay in step. What is dropped: the writes after the damage that were not yet flushed to SST
/// files (with `sync: false`, at most the last memtable's worth). If a flushed SST file already
/// holds data from beyond the damage, RocksDB refuses to open (`CORRUPT`, "column family
/// inconsistency"): the data layer then opens with the KV store degraded and `aico-data repair`
/// salvages it. Rejected: `AbsoluteConsistency` (any torn tail, the normal result of a power loss,
/// would refuse to open), `SkipAnyCorruptedRecords` (keeps writes after a hole, so a later write
/// can survive while the earlier one it depends on is gone), `TolerateCorruptedTailRecords`
/// (refuses damage anywhere but the very tail). What an open dropped is measured and reported
/// ([`super::wal_replay`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalRecovery {
    PointInTime,
}

impl WalRecovery {
    pub fn name(self) -> &'static str {
        match self {
            WalRecovery::PointInTime => "pointInTime",
        }
    }

    pub(crate) fn rocks(self) -> rocksdb::DBRecoveryMode {
        match self {
            WalRecovery::PointInTime => rocksdb::DBRecoveryMode::PointInTime,
        }
    }
}

/// The WAL recovery mode every KV store opens with.
pub const WAL_RECOVERY: WalRecovery = WalRecovery::PointInTime;

/// What to do when another process (or another handle in this process) holds the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnLocked {
    /// Fail with `LOCKED`, naming the lock file.
    #[default]
    Error,
    /// Open a read-only secondary instance that follows the primary (see `KvStore::refresh`).
    ReadOnly,
}

impl OnLocked {
    /// `'error'` or `'readOnly'`, as the API names them.
    pub fn parse(s: &str) -> Result<OnLocked> {
        match s {
            "error" => Ok(OnLocked::Error),
            "readOnly" => Ok(OnLocked::ReadOnly),
            other => Err(Error::invalid(format!("onLocked must be 'error' or 'readOnly', not {other:?}"))),
        }
    }
}

/// Options of the durable queue (the `queue` namespace).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueOptions {
    /// Deliveries of a message before it moves to the dead-letter list (per-message override
    /// at enqueue).
    pub max_attempts: u32,
}

impl Default for QueueOptions {
    fn default() -> Self {
        QueueOptions { max_attempts: 5 }
    }
}

/// Options of [`super::KvStore::open`].
#[derive(Debug, Clone)]
pub struct KvOptions {
    /// fsync the write-ahead log on every write. Off by default: a write then survives a
    /// process crash (it is in the OS page cache) but not a power loss.
    pub sync: bool,
    /// Shared block cache (MiB) for all namespaces.
    pub cache_mib: usize,
    /// Memtable size per namespace (MiB) before it is flushed to an SST file.
    pub write_buffer_mib: usize,
    /// Namespaces to create (or whose options to update) at open, besides the built-in ones.
    pub namespaces: Vec<(String, NamespaceOptions)>,
    pub queue: QueueOptions,
    pub on_locked: OnLocked,
    /// Open as a read-only secondary instance even when nobody holds the lock.
    pub read_only: bool,
}

impl Default for KvOptions {
    fn default() -> Self {
        KvOptions {
            sync: false,
            cache_mib: 32,
            write_buffer_mib: 16,
            namespaces: Vec::new(),
            queue: QueueOptions::default(),
            on_locked: OnLocked::Error,
            read_only: false,
        }
    }
}

impl KvOptions {
    pub(crate) fn validate(&self) -> Result<()> {
        if self.cache_mib == 0 || self.cache_mib > 64 * 1024 {
            return Err(Error::invalid("cacheMiB must be between 1 and 65536"));
        }
        if self.write_buffer_mib == 0 || self.write_buffer_mib > 1024 {
            return Err(Error::invalid("writeBufferMiB must be between 1 and 1024"));
        }
        if self.queue.max_attempts == 0 {
            return Err(Error::invalid("queue maxAttempts must be at least 1"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_options_roundtrip() {
        let o = NamespaceOptions { ttl_ms: Some(1500), compression: Compression::Zstd };
        assert_eq!(NamespaceOptions::decode(&o.encode()).unwrap(), o);
        let d = NamespaceOptions::default();
        assert_eq!(NamespaceOptions::decode(&d.encode()).unwrap(), d);
        assert_eq!(NamespaceOptions::decode("ttl=x").unwrap_err().code(), "CORRUPT");
        assert_eq!(NamespaceOptions::decode("ttl=5;future=1").unwrap().ttl_ms, Some(5));
        assert_eq!(Compression::parse("ZSTD").unwrap(), Compression::Zstd);
        assert_eq!(Compression::parse("snappy").unwrap_err().code(), "INVALID_ARGUMENT");
    }

    #[test]
    fn options_from_the_api() {
        assert_eq!(NamespaceOptions::parse(None, None).unwrap(), NamespaceOptions::default());
        assert_eq!(
            NamespaceOptions::parse(Some(0.0), Some("none")).unwrap(),
            NamespaceOptions { ttl_ms: None, compression: Compression::None }
        );
        assert_eq!(
            NamespaceOptions::parse(Some(1.5), Some("zstd")).unwrap(),
            NamespaceOptions { ttl_ms: Some(2), compression: Compression::Zstd }
        );
        assert_eq!(
            NamespaceOptions::parse(Some(-1.0), None).unwrap_err().to_string(),
            "invalid argument: ttlMs must be a non-negative finite number"
        );
        assert_eq!(NamespaceOptions::parse(None, Some("gzip")).unwrap_err().code(), "INVALID_ARGUMENT");
        assert_eq!(OnLocked::parse("error").unwrap(), OnLocked::Error);
        assert_eq!(OnLocked::parse("readOnly").unwrap(), OnLocked::ReadOnly);
        assert_eq!(
            OnLocked::parse("readonly").unwrap_err().to_string(),
            "invalid argument: onLocked must be 'error' or 'readOnly', not \"readonly\""
        );
    }

    #[test]
    fn wal_recovery_is_point_in_time() {
        assert_eq!(WAL_RECOVERY.name(), "pointInTime");
        assert_eq!(WAL_RECOVERY.rocks(), rocksdb::DBRecoveryMode::PointInTime);
    }
}
