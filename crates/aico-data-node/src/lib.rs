//! Node-API binding of aico-data-core. Converts types and errors; holds no logic.

mod convert;
mod engines;
mod error;
mod folder;
mod sql;

pub use folder::{open_folder, NativeFolder};
pub use sql::NativeSql;
