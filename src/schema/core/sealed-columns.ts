/**
 * `_aico_sealed_columns`: columns whose values are sealed with the folder's data key inside
 * libSQL (`data.crypto.seal(purpose, value, aad)`), e.g. the sync identity's private keys. Key
 * rotation re-seals every declared value in the same step that re-encrypts the database, so a
 * component that keeps such values must declare them here (in a migration), or they become
 * unreadable after `rotateKeys()`. `aad_sql` is an SQL expression over the row giving the
 * associated data (its text bytes).
 */
import { registerSchema } from '../decorator.js';
import type { SchemaVersion } from '../types.js';

@registerSchema('sealed_columns', 'core', { priority: 1, description: 'columns sealed with the data key, re-sealed by key rotation' })
export class SealedColumnsSchema {
  static readonly versions: readonly SchemaVersion[] = [
    {
      version: 1,
      name: 'create_sealed_columns',
      description: 'registry of columns sealed with the data key inside libSQL',
      up: [
        `CREATE TABLE _aico_sealed_columns (
          table_name  TEXT NOT NULL,
          column_name TEXT NOT NULL,
          purpose     TEXT NOT NULL CHECK (purpose LIKE '%/%'),
          aad_sql     TEXT NOT NULL,
          PRIMARY KEY (table_name, column_name)
        ) WITHOUT ROWID`,
      ],
      down: ['DROP TABLE _aico_sealed_columns'],
    },
  ];
}
