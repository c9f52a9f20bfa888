export { writeBackup } from './backup.js';
export { restoreBackup } from './restore.js';
export { rotateKeys, resumedRotation } from './rotate-keys.js';
export type {
  BackupManifest,
  BackupOptions,
  BackupProgress,
  BackupResult,
  RestoreBackupOptions,
  RestoreBackupResult,
  RotateKeysOptions,
  RotateKeysResult,
} from './types.js';
