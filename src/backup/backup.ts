import { invalidArgument, nativeAsync } from '../errors.js';
import { backupFolder, type NativeFolder } from '../native/index.js';
import type { SchemaManager } from '../schema/index.js';
import { withProgress } from './progress.js';
import type { BackupOptions, BackupResult } from './types.js';

/**
 * Writes one encrypted, authenticated backup of an open folder to `file` (which must not exist)
 * while the data layer keeps working. Used by `DataLayer.backup`; the format and what it holds
 * are described in `crates/aico-data-core/src/backup/`.
 */
export async function writeBackup(
  folder: NativeFolder,
  schemas: SchemaManager,
  file: string,
  options: BackupOptions = {},
): Promise<BackupResult> {
  if (typeof file !== 'string' || file.trim() === '') throw invalidArgument('file must be a non-empty path');
  if (options === null || typeof options !== 'object') throw invalidArgument('options must be an object');
  const { onProgress, metadata } = options;
  if (onProgress !== undefined && typeof onProgress !== 'function') throw invalidArgument('onProgress must be a function');
  if (metadata !== undefined && (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata))) {
    throw invalidArgument('metadata must be a plain object');
  }
  const schemaVersions: Record<string, number> = {};
  for (const c of await schemas.status()) schemaVersions[c.name] = c.version;
  let app: string;
  try {
    app = JSON.stringify({ schemaVersions, ...(metadata ? { metadata } : {}) });
  } catch (e) {
    throw invalidArgument(`metadata must be JSON-serialisable (${(e as Error).message})`);
  }
  const r = await withProgress(onProgress, (progress) => nativeAsync(() => backupFolder(folder, file, app, progress)));
  return {
    file: r.file,
    bytes: r.bytes,
    files: r.files,
    keyId: r.keyId,
    backupId: r.backupId,
    sqlPages: r.sqlPages,
    createdAt: new Date(r.createdMs),
  };
}
