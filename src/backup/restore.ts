import { AicoDataError, invalidArgument, nativeAsync } from '../errors.js';
import { restoreBackup as nativeRestore } from '../native/index.js';
import { withProgress } from './progress.js';
import type { BackupManifest, RestoreBackupOptions, RestoreBackupResult } from './types.js';

/**
 * Restores a backup written by `DataLayer.backup` into `dir`, which must be missing or empty;
 * then open it with `openDataLayer({ dir, password })`. Every byte is authenticated before the
 * restored files take their names: a tampered or truncated backup fails with `CORRUPT` and
 * leaves `dir` as it was; a wrong password fails with `WRONG_PASSWORD`. Derived stores are
 * rebuilt from libSQL: analytics at the first open, Chroma with `data.repair()`.
 *
 * @example
 * ```ts
 * await restoreBackup({ file: 'companion.aicobak', dir: './restored', password });
 * const data = await openDataLayer({ dir: './restored', password });
 * await data.repair(); // re-embeds memories into Chroma
 * ```
 */
export async function restoreBackup(options: RestoreBackupOptions): Promise<RestoreBackupResult> {
  if (options === null || typeof options !== 'object') throw invalidArgument('restoreBackup takes an options object');
  const { file, dir, password, onProgress } = options;
  if (typeof file !== 'string' || file.trim() === '') throw invalidArgument('file must be a non-empty path');
  if (typeof dir !== 'string' || dir.trim() === '') throw invalidArgument('dir must be a non-empty path');
  if (typeof password !== 'string' || password.length === 0) throw invalidArgument('password must be a non-empty string');
  if (onProgress !== undefined && typeof onProgress !== 'function') throw invalidArgument('onProgress must be a function');
  const r = await withProgress(onProgress, (progress) => nativeAsync(() => nativeRestore(file, dir, password, progress)));
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(r.manifest) as BackupManifest;
  } catch (e) {
    // Authenticated bytes that do not parse: written by a broken writer, not an attacker.
    throw new AicoDataError('CORRUPT', `the backup manifest is not valid JSON (${(e as Error).message})`);
  }
  return {
    dir,
    files: r.files,
    bytes: r.bytes,
    keyId: r.keyId,
    backupId: r.backupId,
    createdAt: new Date(r.createdMs),
    manifest,
  };
}
