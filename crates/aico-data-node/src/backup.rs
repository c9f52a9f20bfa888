//! Backups, restores and key rotation: argument and result conversion over
//! `aico_data_core::backup` and `aico_data_core::rotation`, run off the JS thread. Progress
//! is polled from JS ([`NativeProgress`]), so no callback crosses threads.

use std::sync::Arc;

use aico_data_core::backup::{self, BackupInfo, BackupPlan, BackupSources, Progress, RestoreInfo};
use aico_data_core::folder::Folder;
use aico_data_core::kv::KvStore;
use aico_data_core::rotation::RotationInfo;
use aico_data_core::sql::SqlStore;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use parking_lot::Mutex;
use zeroize::Zeroize;

use crate::error::{invalid, to_napi, OrThrow};
use crate::folder::NativeFolder;

/// Progress of a running backup, restore or rotation; poll `snapshot()`.
#[napi]
pub struct NativeProgress {
    inner: Arc<Progress>,
}

#[napi(object)]
pub struct ProgressSnapshot {
    pub phase: String,
    pub done: f64,
    pub total: f64,
}

#[napi]
impl NativeProgress {
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        NativeProgress { inner: Arc::new(Progress::new()) }
    }

    #[napi]
    pub fn snapshot(&self) -> ProgressSnapshot {
        let s = self.inner.snapshot();
        ProgressSnapshot { phase: s.phase.to_string(), done: s.done as f64, total: s.total as f64 }
    }
}

#[napi(object)]
pub struct BackupResult {
    pub file: String,
    pub bytes: f64,
    pub files: u32,
    pub key_id: String,
    pub backup_id: String,
    pub sql_pages: f64,
    pub created_ms: f64,
}

pub struct BackupTask {
    out: String,
    plan: Option<BackupPlan>,
    sql: Arc<SqlStore>,
    kv: Option<Arc<KvStore>>,
    manifest: String,
    progress: Arc<Progress>,
}

impl Task for BackupTask {
    type Output = BackupInfo;
    type JsValue = BackupResult;

    fn compute(&mut self) -> Result<BackupInfo> {
        let plan = self.plan.take().ok_or_else(|| invalid("task already ran"))?;
        let src = BackupSources { plan, sql: &self.sql, kv: self.kv.as_deref() };
        backup::write_backup(self.out.as_ref(), &src, &self.manifest, &self.progress).or_throw()
    }

    fn resolve(&mut self, _env: Env, i: BackupInfo) -> Result<BackupResult> {
        Ok(BackupResult {
            file: self.out.clone(),
            bytes: i.bytes as f64,
            files: i.files,
            key_id: i.key_id,
            backup_id: i.backup_id,
            sql_pages: i.sql_pages as f64,
            created_ms: i.created_ms as f64,
        })
    }
}

/// Writes an encrypted backup of the folder's open stores to `file` (must not exist).
/// `manifest` is a JSON object recorded in the backup's manifest.
#[napi(ts_return_type = "Promise<BackupResult>")]
pub fn backup_folder(folder: &NativeFolder, file: String, manifest: String, progress: &NativeProgress) -> Result<AsyncTask<BackupTask>> {
    let plan = folder.with(|f| BackupPlan::new(f).or_throw())?;
    let (sql, kv) = folder.stores.backup_sources().or_throw()?;
    Ok(AsyncTask::new(BackupTask { out: file, plan: Some(plan), sql, kv, manifest, progress: progress.inner.clone() }))
}

#[napi(object)]
pub struct RestoreResult {
    pub files: u32,
    pub bytes: f64,
    pub key_id: String,
    pub backup_id: String,
    pub created_ms: f64,
    pub manifest: String,
}

pub struct RestoreTask {
    file: String,
    dir: String,
    password: String,
    progress: Arc<Progress>,
}

impl Task for RestoreTask {
    type Output = RestoreInfo;
    type JsValue = RestoreResult;

    fn compute(&mut self) -> Result<RestoreInfo> {
        let res = backup::restore_backup(self.file.as_ref(), self.dir.as_ref(), self.password.as_bytes(), &self.progress);
        self.password.zeroize();
        res.or_throw()
    }

    fn resolve(&mut self, _env: Env, i: RestoreInfo) -> Result<RestoreResult> {
        Ok(RestoreResult {
            files: i.files,
            bytes: i.bytes as f64,
            key_id: i.key_id,
            backup_id: i.backup_id,
            created_ms: i.created_ms as f64,
            manifest: i.manifest,
        })
    }
}

/// Restores the backup `file` into the missing or empty folder `dir`.
#[napi(ts_return_type = "Promise<RestoreResult>")]
pub fn restore_backup(file: String, dir: String, password: String, progress: &NativeProgress) -> AsyncTask<RestoreTask> {
    AsyncTask::new(RestoreTask { file, dir, password, progress: progress.inner.clone() })
}

#[napi(object)]
pub struct RotationResult {
    pub old_key_id: String,
    pub new_key_id: String,
    pub resumed: bool,
    pub sql_pages: f64,
    pub kv_records: f64,
    pub dropped: Vec<String>,
}

fn rotation_result(i: &RotationInfo) -> RotationResult {
    RotationResult {
        old_key_id: i.old_key_id.clone(),
        new_key_id: i.new_key_id.clone(),
        resumed: i.resumed,
        sql_pages: i.sql_pages as f64,
        kv_records: i.kv_records as f64,
        dropped: i.dropped.clone(),
    }
}

pub struct RotateTask {
    folder: Arc<Mutex<Option<Folder>>>,
    progress: Arc<Progress>,
}

impl Task for RotateTask {
    type Output = RotationInfo;
    type JsValue = RotationResult;

    fn compute(&mut self) -> Result<RotationInfo> {
        let mut g = self.folder.lock();
        let folder = g.as_mut().ok_or_else(|| to_napi(aico_data_core::Error::Closed("the data folder")))?;
        folder.rotate_keys(&self.progress).or_throw()
    }

    fn resolve(&mut self, _env: Env, i: RotationInfo) -> Result<RotationResult> {
        Ok(rotation_result(&i))
    }
}

/// Re-encrypts every store of the folder under a new data key. Every store opened from it
/// must be closed first (`INVALID_ARGUMENT` otherwise).
#[napi(ts_return_type = "Promise<RotationResult>")]
pub fn rotate_folder_keys(folder: &NativeFolder, progress: &NativeProgress) -> Result<AsyncTask<RotateTask>> {
    folder.stores.check_rotatable().or_throw()?;
    folder.with(|_| Ok(()))?;
    Ok(AsyncTask::new(RotateTask { folder: folder.inner(), progress: progress.inner.clone() }))
}

/// The key rotation that opening this folder finished (an earlier run was interrupted).
#[napi]
pub fn folder_resumed_rotation(folder: &NativeFolder) -> Result<Option<RotationResult>> {
    folder.with(|f| Ok(f.resumed_rotation().map(rotation_result)))
}
