/**
 * `outbox`: changes waiting to be propagated (transactional outbox). Written in the same
 * transaction as the change; a dispatcher publishes rows in `seq` order and stamps
 * `dispatched_at`. AUTOINCREMENT keeps `seq` strictly increasing, never reused.
 */
import { registerSchema } from '../decorator.js';
import type { SchemaVersion } from '../types.js';
import { NOW } from './sql.js';

@registerSchema('outbox', 'core', { priority: 60, description: 'transactional outbox for change propagation' })
export class OutboxSchema {
  static readonly versions: readonly SchemaVersion[] = [
    {
      version: 1,
      name: 'create_outbox',
      up: [
        `CREATE TABLE outbox (
          seq            INTEGER PRIMARY KEY AUTOINCREMENT,
          id             TEXT NOT NULL UNIQUE,
          topic          TEXT NOT NULL,
          aggregate_type TEXT,
          aggregate_id   TEXT,
          payload        BLOB NOT NULL,
          headers        TEXT,
          created_at     TEXT NOT NULL DEFAULT ${NOW},
          available_at   TEXT NOT NULL DEFAULT ${NOW},
          attempts       INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
          last_error     TEXT,
          dispatched_at  TEXT
        )`,
        `CREATE INDEX outbox_pending ON outbox (available_at, seq) WHERE dispatched_at IS NULL`,
      ],
      down: ['DROP TABLE outbox'],
    },
  ];
}
