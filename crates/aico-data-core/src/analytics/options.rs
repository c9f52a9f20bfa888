//! Options of the analytics store.

use super::etl::{core_mappings, TableMapping};

/// How the DuckDB engine runs.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// DuckDB's `memory_limit`. There is no spill directory, so a query that needs more fails
    /// with `SQL_ERROR` ("Out of Memory") instead of writing plaintext pages to disk.
    pub memory_limit_mb: u32,
    /// Worker threads of DuckDB.
    pub threads: u32,
}

impl Default for EngineOptions {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(2);
        EngineOptions { memory_limit_mb: 1024, threads: cores.clamp(1, 4) }
    }
}

/// Options of [`super::AnalyticsStore`].
#[derive(Debug, Clone)]
pub struct AnalyticsOptions {
    pub engine: EngineOptions,
    /// Keep sealed snapshots in the data folder so reopening restores instead of rebuilding.
    pub snapshots: bool,
    /// Write a snapshot on close when anything changed since the last one.
    pub snapshot_on_close: bool,
    /// Install the change-tracking column, triggers and tables in libSQL at open when missing
    /// (see [`super::etl::tracking`]). Without them every sync rescans the source tables.
    pub install_tracking: bool,
    /// Which libSQL tables are copied, and how.
    pub mappings: Vec<TableMapping>,
}

impl Default for AnalyticsOptions {
    fn default() -> Self {
        AnalyticsOptions {
            engine: EngineOptions::default(),
            snapshots: true,
            snapshot_on_close: true,
            install_tracking: true,
            mappings: core_mappings(),
        }
    }
}
