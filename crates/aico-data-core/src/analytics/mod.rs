//! DuckDB analytics, derived from libSQL, with no plaintext on disk.
//!
//! # Design
//!
//! - **In memory only.** The analytics database is an in-memory DuckDB
//!   ([`AnalyticsEngine`]) opened with `temp_directory = ''` (operators that outgrow
//!   `memory_limit` fail instead of spilling plaintext pages), `enable_external_access =
//!   false` (SQL cannot `COPY ... TO` a file, `read_csv`, `ATTACH` or `INSTALL`), extension
//!   autoinstall and autoload off (offline), and `lock_configuration = true` (no statement can
//!   undo any of that). DuckDB's own database encryption is not used: writing encrypted
//!   files needs OpenSSL from the `httpfs` extension (not available offline) and its bundled
//!   mbedtls path is documented as unsafe.
//! - **libSQL stays the source of truth.** [`etl`] copies conversations, messages and memories
//!   incrementally: triggers in libSQL log the key of every inserted, updated or deleted row
//!   in a change log ([`etl::tracking`]); a sync reads the keys logged above the table's
//!   watermark, joined with their current rows, inside one read transaction and applies them
//!   to DuckDB inside one transaction, streaming rows from SQLite straight into DuckDB data
//!   chunks (no per-row JavaScript, no row objects).
//! - **Persistence as sealed snapshots.** [`snapshot`] writes every table (and the
//!   watermarks) as LZ4 Arrow IPC streams, each sealed with XChaCha20-Poly1305 under the
//!   folder's DuckDB store key (`folder.store_key(Store::Duckdb)`, HKDF from the data key),
//!   with the snapshot id and frame index bound as associated data, to `analytics.snapshot`
//!   (written to `.tmp`, fsynced, renamed). Reopening restores it and syncs only what changed
//!   since its watermark. A snapshot that fails to open (tampered, truncated, from another
//!   key or another database) is discarded with an event and the store rebuilds from libSQL:
//!   it is derived data, so nothing is lost and `WRONG_PASSWORD` is never raised for it.
//! - **Read-only callers.** [`AnalyticsStore::query`] prepares the statement first and runs it
//!   only if DuckDB says it is a single `SELECT`; with external access off even a SELECT
//!   cannot touch a file.
//!
//! # Threat model
//!
//! Protected: an attacker who gets the data folder or the machine's temp directory at rest
//! (stolen disk, backup copy, another local user) learns nothing from analytics but the
//! snapshot's size and timestamps; altering, truncating, reordering or splicing snapshot
//! frames is detected (and answered with a rebuild, not with wrong numbers); a caller's SQL
//! cannot write the analytics tables, change the engine's settings, or read/write files.
//!
//! Not protected: an attacker who can read this process's memory or attach a debugger
//! (plaintext and keys are in memory while the store is open), swap or core dumps written by
//! the OS (disable swap / core dumps, or use an encrypted swap, for that threat), rolling a
//! snapshot back to an older sealed one (harmless: the sync catches up from the older
//! watermark, and a watermark below the pruned change log forces a rebuild), and callers of
//! `queryArrow`/`query` who write the results to disk themselves.

mod arrow_rows;
mod chunk;
pub mod column_type;
pub mod engine;
pub mod etl;
pub mod events;
mod ipc;
pub mod options;
mod query;
mod raw;
pub mod reports;
pub mod snapshot;
pub mod store;
pub mod time;

pub use column_type::ColumnType;
pub use engine::AnalyticsEngine;
pub use etl::{core_mappings, ColumnMapping, SyncReport, TableMapping, TableSync};
pub use events::{AnalyticsEvent, EventLevel};
pub use options::{AnalyticsOptions, EngineOptions};
pub use reports::{Report, ReportParams};
pub use snapshot::{SnapshotInfo, SNAPSHOT_FILE};
pub use store::{AnalyticsStatus, AnalyticsStore, TableStatus};
pub use time::EpochUnit;
