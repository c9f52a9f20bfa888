//! Build information and engine smoke checks (used by `doctor` and the foundation tests).

use aico_data_core::analytics::AnalyticsEngine;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::error::OrThrow;

#[napi(object)]
pub struct BuildInfo {
    pub core_version: String,
    pub libsql_cipher: String,
    pub sqlite_version: String,
    pub duckdb_version: String,
    pub profile: String,
}

#[napi]
pub fn build_info() -> Result<BuildInfo> {
    let duck = AnalyticsEngine::open_in_memory(64, 1).and_then(|e| e.version()).or_throw()?;
    Ok(BuildInfo {
        core_version: env!("CARGO_PKG_VERSION").to_string(),
        libsql_cipher: "aes256cbc (SQLite3MultipleCiphers, libsql)".to_string(),
        sqlite_version: aico_data_core::sql::sqlite_version().to_string(),
        duckdb_version: duck,
        profile: if aico_data_core::OPTIMIZED { "dev (optimized, opt-level 3)" } else { "debug assertions on" }.to_string(),
    })
}

/// Opens an in-memory DuckDB (offline, no spill) and aggregates a generated range.
#[napi]
pub fn duckdb_smoke(rows: u32) -> Result<i64> {
    AnalyticsEngine::smoke(rows).or_throw()
}

/// Opens RocksDB at `path`, writes and reads back one value, closes it.
#[napi]
pub fn rocksdb_smoke(path: String) -> Result<bool> {
    aico_data_core::kv::smoke(path.as_ref()).or_throw()
}
