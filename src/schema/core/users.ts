/**
 * `users`: the people the companion knows. Upstream AICO has uuid, full_name, nickname,
 * user_type, is_active; here `id` is the UUID and `name` the full name (as in the domain).
 */
import { registerSchema } from '../decorator.js';
import type { SchemaVersion } from '../types.js';
import { NOW } from './sql.js';

@registerSchema('users', 'core', { priority: 10, description: 'users' })
export class UsersSchema {
  static readonly versions: readonly SchemaVersion[] = [
    {
      version: 1,
      name: 'create_users',
      description: 'users with soft delete',
      up: [
        `CREATE TABLE users (
          id         TEXT PRIMARY KEY NOT NULL,
          name       TEXT NOT NULL,
          nickname   TEXT,
          user_type  TEXT NOT NULL DEFAULT 'member',
          is_active  INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
          created_at TEXT NOT NULL DEFAULT ${NOW},
          updated_at TEXT NOT NULL DEFAULT ${NOW},
          deleted_at TEXT
        )`,
      ],
      down: ['DROP TABLE users'],
    },
  ];
}
