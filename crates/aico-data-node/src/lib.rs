//! Node-API binding of aico-data-core. Converts types and errors; holds no logic.

mod analytics;
mod backup;
mod convert;
mod engines;
mod error;
mod folder;
mod kv;
mod kv_repair;
mod sql;

pub use backup::{restore_backup, NativeProgress};
pub use folder::{open_folder, NativeFolder};
pub use kv::{open_kv, open_kv_async, NativeKv};
pub use sql::NativeSql;
