/**
 * `aico-data/backup`: Sealed backups, restore, and key rotation results.
 * Also re-exported by the package root.
 */
export {
  restoreBackup,
  type BackupManifest,
  type BackupOptions,
  type BackupProgress,
  type BackupResult,
  type RestoreBackupOptions,
  type RestoreBackupResult,
  type RotateKeysOptions,
  type RotateKeysResult,
} from '../backup/index.js';
