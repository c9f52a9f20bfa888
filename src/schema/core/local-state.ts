/**
 * `local_state`: key/value state of this device's copy of the folder (values are JSON text).
 * Unlike `system_config` it is never synced: it describes what this copy holds, such as which
 * embedder made its vectors. It lives in libSQL, not in the KV cache, so that it survives a KV
 * repair and a degraded KV store, and follows key rotation and backups with the primary data.
 */
import { registerSchema } from '../decorator.js';
import type { SchemaVersion } from '../types.js';
import { NOW } from './sql.js';

@registerSchema('local_state', 'core', { priority: 6, description: "this device's own state (key -> JSON value), never synced" })
export class LocalStateSchema {
  static readonly versions: readonly SchemaVersion[] = [
    {
      version: 1,
      name: 'create_local_state',
      description: 'key/value state of this copy of the folder, not synced',
      up: [
        `CREATE TABLE local_state (
          key        TEXT PRIMARY KEY NOT NULL CHECK (length(key) > 0),
          value      TEXT NOT NULL,
          updated_at TEXT NOT NULL DEFAULT ${NOW}
        ) WITHOUT ROWID`,
      ],
      down: ['DROP TABLE local_state'],
    },
  ];
}
