//! Encrypted RocksDB key-value store: namespaces with TTL, sealed values, durable queue.
//!
//! One RocksDB instance per data folder, in `<folder>/kv`; RocksDB's `LOCK` file admits one
//! writer, so a second open (another process, or another handle in this one) fails with
//! `LOCKED`, or opens a read-only secondary instance with `OnLocked::ReadOnly`.
//!
//! - **Namespaces** are column families: the built-in `session`, `config`, `cache` and
//!   `queue`, plus user-defined ones. Each has its own default TTL and compression; the
//!   definitions are persisted (sealed) in the `default` column family ([`namespaces`]).
//! - **Values** are sealed with XChaCha20-Poly1305 under the folder's RocksDB store key,
//!   with `namespace || 0x00 || key` as associated data, so a value copied to another key
//!   fails to open (`CORRUPT`). The record layout, and why the expiry also sits in a
//!   plaintext header, are documented in [`seal`].
//! - **TTL**: an expired value is never returned (reads check the expiry), and a compaction
//!   filter removes expired values from disk ([`ttl`]).
//! - **Queue**: per-topic order, leases with a visibility timeout, ack/nack, redelivery after
//!   lease expiry or a crash, dead letters after N attempts ([`queue`]).
//!
//! # Keys stay plaintext
//! Keys are stored as given, because ordered prefix and range scans need RocksDB to compare
//! them. What that leaks to someone holding the files (without the password): every key,
//! hence the number of entries per namespace and their ordering; the size of each value
//! (plus a fixed 58-byte overhead); each value's expiry time; namespace and queue topic
//! names; message counts per topic and their enqueue/visibility times. Values and queue
//! payloads are never on disk in plaintext. Do not put secrets in keys: use an opaque id
//! (or an HMAC of the secret, see `NativeFolder.hmac`) as the key instead.

pub mod backup;
pub mod batch;
mod errors;
pub mod iter;
pub mod namespaces;
pub mod options;
pub mod queue;
pub mod repair;
pub mod seal;
mod store;
pub mod ttl;
pub mod wal_replay;

pub use batch::WriteOp;
pub use iter::{ScanPage, ScanRange};
pub use namespaces::{BUILTIN_NAMESPACES, QUEUE_NAMESPACE};
pub use options::{
    Compression, KvOptions, NamespaceOptions, OnLocked, QueueOptions, WalRecovery, MAX_KEY_BYTES, MAX_NAMESPACE_BYTES, MAX_TOPIC_BYTES,
    MAX_VALUE_BYTES, WAL_RECOVERY,
};
pub use queue::{DeadLetter, EnqueueOptions, Leased, MessageId, QueueDepth, Settle};
pub use repair::{repair, NamespaceRepair, RepairReport};
pub use seal::Unsealed;
pub use store::{Access, KvStore, NamespaceInfo, ReadInto, Wait, INLINE_MAX_BYTES, KV_DIR};
pub use ttl::{namespace_ttl, now_ms, whole_ms, Ttl};
pub use wal_replay::WalReplay;

/// Opens a store at `path` under a throwaway key, writes and reads back one value, closes
/// it (build checks: proves the engine links and runs). `path` must not hold a store.
pub fn smoke(path: &std::path::Path) -> crate::Result<bool> {
    let mut secret = [0u8; 32];
    crate::random::fill(&mut secret)?;
    let key = crate::keys::DataKey::from_parts(secret, [0u8; 16]).store_key(crate::keys::Store::Rocksdb);
    zeroize::Zeroize::zeroize(&mut secret);
    let kv = KvStore::open(path, key, KvOptions::default())?;
    kv.put("cache", b"smoke", b"ok", Ttl::Default)?;
    let ok = kv.get("cache", b"smoke")?.is_some_and(|v| v.bytes() == b"ok");
    kv.close()?;
    Ok(ok)
}
