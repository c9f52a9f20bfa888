//! Node-API binding of aico-data-core. Converts types and errors; holds no logic.

// The crate has no tests (`test = false`); under `cfg(test)` (clippy --all-targets) `#[napi]`
// registers nothing, so every export looks unused.
#![cfg_attr(test, allow(dead_code))]

mod analytics;
mod backup;
mod convert;
mod cursor;
mod embed;
mod engines;
mod error;
mod folder;
mod kv;
mod kv_repair;
mod sql;
mod statement;

pub use backup::{restore_backup, NativeProgress};
pub use embed::{load_mini_lm, NativeMiniLm};
pub use folder::{open_folder, NativeFolder};
pub use kv::{open_kv, open_kv_async, NativeKv};
pub use sql::NativeSql;
