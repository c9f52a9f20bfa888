/** `system_config`: key/value settings of the installation (values are JSON text). */
import { registerSchema } from '../decorator.js';
import type { SchemaVersion } from '../types.js';
import { NOW } from './sql.js';

@registerSchema('system_config', 'core', { priority: 5, description: 'system configuration (key -> JSON value)' })
export class SystemConfigSchema {
  static readonly versions: readonly SchemaVersion[] = [
    {
      version: 1,
      name: 'create_system_config',
      description: 'key/value configuration of the installation',
      up: [
        `CREATE TABLE system_config (
          key         TEXT PRIMARY KEY NOT NULL CHECK (length(key) > 0),
          value       TEXT NOT NULL,
          description TEXT,
          updated_at  TEXT NOT NULL DEFAULT ${NOW}
        ) WITHOUT ROWID`,
      ],
      down: ['DROP TABLE system_config'],
    },
  ];
}
