//! `repairKvAsync(folder, options)`: `aico_data_core::kv::repair` on the libuv pool, and
//! `kvWalRecovery()`. Conversions only.

use std::path::PathBuf;

use aico_data_core::keys::{Store, StoreKey};
use aico_data_core::kv::{repair, KvOptions, RepairReport, KV_DIR, WAL_RECOVERY};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::error::{invalid, OrThrow};
use crate::folder::NativeFolder;

#[napi(object)]
pub struct NativeKvNamespaceRepair {
    pub name: String,
    pub before: Option<f64>,
    pub after: f64,
    pub unreadable: f64,
    pub lost: f64,
}

#[napi(object)]
pub struct NativeKvRepairReport {
    /// 'none', 'repair' (RocksDB RepairDB) or 'rebuild' (started empty).
    pub method: String,
    pub damaged_copy: Option<String>,
    pub open_error: Option<String>,
    pub namespaces: Vec<NativeKvNamespaceRepair>,
    pub lost_messages: Vec<String>,
    pub lost_messages_complete: bool,
    pub wal_recovery: String,
}

fn convert(r: RepairReport) -> NativeKvRepairReport {
    NativeKvRepairReport {
        method: r.method.to_string(),
        damaged_copy: r.damaged_copy.map(|p| p.display().to_string()),
        open_error: r.open_error,
        namespaces: r
            .namespaces
            .into_iter()
            .map(|n| NativeKvNamespaceRepair {
                name: n.name,
                before: n.before.map(|b| b as f64),
                after: n.after as f64,
                unreadable: n.unreadable as f64,
                lost: n.lost as f64,
            })
            .collect(),
        lost_messages: r.lost_messages,
        lost_messages_complete: r.lost_messages_complete,
        wal_recovery: r.wal_recovery.to_string(),
    }
}

pub struct RepairKvTask {
    path: PathBuf,
    key: Option<StoreKey>,
}

impl Task for RepairKvTask {
    type Output = RepairReport;
    type JsValue = NativeKvRepairReport;

    fn compute(&mut self) -> Result<RepairReport> {
        let key = self.key.take().ok_or_else(|| invalid("task already ran"))?;
        repair(&self.path, key, KvOptions::default()).or_throw()
    }

    fn resolve(&mut self, _env: Env, r: RepairReport) -> Result<NativeKvRepairReport> {
        Ok(convert(r))
    }
}

/// Salvages the folder's KV store (`<folder>/kv`), which must not be open: `LOCKED` otherwise.
#[napi(ts_return_type = "Promise<NativeKvRepairReport>")]
pub fn repair_kv_async(folder: &NativeFolder) -> Result<AsyncTask<RepairKvTask>> {
    let path = PathBuf::from(folder.dir()?).join(KV_DIR);
    let key = folder.store_key(Store::Rocksdb)?;
    Ok(AsyncTask::new(RepairKvTask { path, key: Some(key) }))
}

/// The WAL recovery mode KV stores open with (`pointInTime`).
#[napi]
pub fn kv_wal_recovery() -> String {
    WAL_RECOVERY.name().to_string()
}
