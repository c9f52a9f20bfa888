//! aico-data core: the engines behind the aico-data Node.js addon, as a plain Rust crate.
//!
//! - [`keys`]: master password -> Argon2id -> wrapped data key -> HKDF per-store keys; AEAD.
//! - [`sql`]: encrypted libSQL (SQLite3MultipleCiphers) with a writer + reader pool.
//! - [`folder`]: the data folder (key file, store files) and its open/create rules.
//! - [`analytics`]: DuckDB. [`kv`]: RocksDB.
//! - [`backup`]: encrypted, authenticated backups of an open folder, and restore.
//! - [`rotation`]: re-encrypting every store under a new data key, resumable after a crash.
//! - [`embed`]: sentence embeddings (all-MiniLM-L6-v2) computed locally in pure Rust.
//!
//! No N-API here: the `aico-data-node` crate converts types and errors, nothing else.

pub mod analytics;
pub mod backup;
pub mod embed;
pub mod error;
pub mod folder;
mod fsutil;
pub mod keys;
pub mod kv;
mod random;
pub mod rotation;
pub mod sql;

pub use error::{Error, Result};

/// Whether this core was compiled with optimisations (the project's single `dev` profile is).
pub const OPTIMIZED: bool = !cfg!(debug_assertions);
