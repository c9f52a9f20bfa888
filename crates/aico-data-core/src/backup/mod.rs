//! Encrypted, authenticated backups of a data folder, taken while it is open and written.
//!
//! One file holds: the key file (in the header: the data key stays wrapped under the
//! password), a consistent page copy of the libSQL database (SQLite's online backup API; the
//! pages are re-encrypted under the libSQL key on their way to a scratch file, never
//! plaintext on disk), a RocksDB checkpoint of the KV store (values sealed), and a manifest
//! (format, key id, file list with sizes and SHA-256, and the caller's own metadata such as
//! schema versions). All of it goes through [`container`]: chunks sealed with
//! XChaCha20-Poly1305 under a per-backup key derived from the data key.
//!
//! Left out on purpose, as derived data rebuilt on the restored folder: the DuckDB analytics
//! snapshot (re-synced from libSQL at the first open; copying it could make analytics run
//! ahead of the libSQL copy) and Chroma's folder (memories live in libSQL; their vectors are
//! re-embedded). The manifest records both as `"rebuild"`.
//!
//! Each store is copied consistently on its own; the copies are taken one after the other,
//! so a write that lands between the libSQL copy and the KV checkpoint is in the second only.

mod archive;
pub(crate) mod container;
mod progress;
mod restore;
mod write;

pub use progress::{Progress, ProgressSnapshot};
pub use restore::{restore_backup, RestoreInfo};
pub use write::{write_backup, BackupInfo, BackupPlan, BackupSources};

/// Format name recorded in the manifest.
pub const FORMAT: &str = "aico-data-backup/1";
/// Name of the manifest entry (always the last one).
pub(crate) const MANIFEST: &str = "manifest.json";
