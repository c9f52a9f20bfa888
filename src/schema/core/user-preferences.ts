/** `user_preferences`: one row per user (language, personality style, privacy level, JSON settings). */
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
          user_id           TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
          language          TEXT NOT NULL DEFAULT 'en',
          personality_style TEXT NOT NULL DEFAULT 'friendly',
          privacy_level     TEXT NOT NULL DEFAULT 'standard' CHECK (privacy_level IN ('minimal', 'standard', 'strict')),
          settings          TEXT NOT NULL DEFAULT '{}',
          updated_at        TEXT NOT NULL DEFAULT ${NOW}
        ) WITHOUT ROWID`,
      ],
      down: ['DROP TABLE user_preferences'],
    },
  ];
}
