/** `devices`: the device registry used by sync (identity, trust, policy, revocation). */
import { registerSchema } from '../decorator.js';
import type { SchemaVersion } from '../types.js';
import { NOW } from './sql.js';

@registerSchema('devices', 'core', { priority: 50, dependsOn: ['users'], description: 'device registry' })
export class DevicesSchema {
  static readonly versions: readonly SchemaVersion[] = [
    {
      version: 1,
      name: 'create_devices',
      up: [
        `CREATE TABLE devices (
          id          TEXT PRIMARY KEY NOT NULL,
          user_id     TEXT REFERENCES users (id) ON DELETE SET NULL,
          name         TEXT NOT NULL,
          type         TEXT NOT NULL DEFAULT 'other',
          platform     TEXT NOT NULL,
          public_key   BLOB NOT NULL,
          trust_level  TEXT NOT NULL DEFAULT 'pending' CHECK (trust_level IN ('pending', 'trusted', 'owner')),
          sync_policy  TEXT NOT NULL DEFAULT 'full' CHECK (sync_policy IN ('full', 'selective', 'none')),
          last_seen_at TEXT,
          revoked_at   TEXT,
          created_at   TEXT NOT NULL DEFAULT ${NOW},
          updated_at   TEXT NOT NULL DEFAULT ${NOW}
        )`,
        `CREATE INDEX devices_user ON devices (user_id)`,
        `CREATE UNIQUE INDEX devices_public_key ON devices (public_key)`,
      ],
      down: ['DROP TABLE devices'],
    },
  ];
}
