/** `user_preferences`: one JSON value per (user, key). */
import { registerSchema } from '../decorator.js';
import type { SchemaVersion } from '../types.js';
import { NOW } from './sql.js';

@registerSchema('user_preferences', 'core', { priority: 20, dependsOn: ['users'], description: 'per-user preferences' })
export class UserPreferencesSchema {
  static readonly versions: readonly SchemaVersion[] = [
    {
      version: 1,
      name: 'create_user_preferences',
      up: [
        `CREATE TABLE user_preferences (
          user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
          key        TEXT NOT NULL CHECK (length(key) > 0),
          value      TEXT NOT NULL,
          updated_at TEXT NOT NULL DEFAULT ${NOW},
          PRIMARY KEY (user_id, key)
        ) WITHOUT ROWID`,
      ],
      down: ['DROP TABLE user_preferences'],
    },
  ];
}
