import { nativeAsync, invalidArgument } from '../errors.js';
import { folderResumedRotation, rotateFolderKeys, type NativeFolder, type RotationResult } from '../native/index.js';
import { withProgress } from './progress.js';
import type { RotateKeysOptions, RotateKeysResult } from './types.js';

function toResult(r: RotationResult): RotateKeysResult {
  return {
    oldKeyId: r.oldKeyId,
    newKeyId: r.newKeyId,
    resumed: r.resumed,
    sqlPages: r.sqlPages,
    kvRecords: r.kvRecords,
    dropped: [...r.dropped],
  };
}

/**
 * Re-encrypts every store of `folder` under a new data key (used by `DataLayer.rotateKeys`,
 * which closes the stores first). The phases are journalled in `rotation.state`: a crash at
 * any point is finished by the next open of the folder.
 */
export async function rotateKeys(folder: NativeFolder, options: RotateKeysOptions = {}): Promise<RotateKeysResult> {
  if (options === null || typeof options !== 'object') throw invalidArgument('options must be an object');
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw invalidArgument('onProgress must be a function');
  const r = await withProgress(options.onProgress, (progress) => nativeAsync(() => rotateFolderKeys(folder, progress)));
  return toResult(r);
}

/** The rotation that opening `folder` finished after a crash had interrupted it, if any. */
export function resumedRotation(folder: NativeFolder): RotateKeysResult | undefined {
  const r = folderResumedRotation(folder);
  return r ? toResult(r) : undefined;
}
