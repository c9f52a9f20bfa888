/**
 * `outbox`: changes waiting to be propagated (transactional outbox). Written in the same
 * transaction as the change; a dispatcher publishes rows in `seq` order and stamps
 * `dispatched_at`. AUTOINCREMENT keeps `seq` strictly increasing, never reused.
 *
 * Version 2 writes the rows by trigger: every insert, update and delete of users,
 * conversations, messages and memories adds its row inside the writing transaction, whoever
 * writes (repositories, units of work, raw SQL, cascades), so "committed" and "in the outbox"
 * cannot disagree. Rows carry ids only (`payload` is JSON `{ id, user_id, ... }`), never
 * content: the dispatcher reads the current state from libSQL when it applies a row.
 * `dead_at` marks rows given up on after too many failed attempts (dead letters).
 */
import { registerSchema } from '../decorator.js';
import type { SchemaVersion } from '../types.js';
import { NOW } from './sql.js';

/** A random UUID (version 4 layout) in SQL: outbox ids double as bus message ids. */
const UUID_SQL = `lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' ||
  substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))`;

interface Tracked {
  readonly table: string;
  /** Entity name in topics: `data/<entity>/<created|updated|deleted>/v1`. */
  readonly entity: string;
  /** `json_object` arguments built from a row alias (`NEW` / `OLD`). */
  readonly ids: (row: 'NEW' | 'OLD') => string;
  /** Columns whose update is a change worth propagating (access counters are not). */
  readonly updateOf?: readonly string[];
  readonly softDelete: boolean;
}

const TRACKED: readonly Tracked[] = [
  { table: 'users', entity: 'user', ids: (r) => `'id', ${r}.id, 'user_id', ${r}.id`, softDelete: true },
  { table: 'conversations', entity: 'conversation', ids: (r) => `'id', ${r}.id, 'user_id', ${r}.user_id`, softDelete: true },
  {
    table: 'messages',
    entity: 'message',
    ids: (r) => `'id', ${r}.id, 'user_id', ${r}.user_id, 'conversation_id', ${r}.conversation_id`,
    softDelete: true,
  },
  {
    table: 'memories',
    entity: 'memory',
    ids: (r) => `'id', ${r}.id, 'user_id', ${r}.user_id`,
    updateOf: ['user_id', 'type', 'category', 'content', 'importance', 'confidence', 'is_immutable', 'valid_from', 'valid_to', 'source_conversation_id', 'source_message_id', 'embedding_model', 'embedding_dimension', 'metadata', 'deleted_at'],
    softDelete: true,
  },
];

function insertRow(t: Tracked, topicSql: string, row: 'NEW' | 'OLD'): string {
  return `INSERT INTO outbox (id, topic, aggregate_type, aggregate_id, payload)
         VALUES (${UUID_SQL}, ${topicSql}, '${t.entity}', ${row}.id, json_object(${t.ids(row)}));`;
}

function triggersFor(t: Tracked): { up: string[]; down: string[] } {
  const base = `outbox_${t.table}`;
  const topic = (action: string) => `'data/${t.entity}/${action}/v1'`;
  // A soft delete (deleted_at going from NULL to a time) is announced as a delete.
  const updateTopic = t.softDelete
    ? `CASE WHEN NEW.deleted_at IS NOT NULL AND OLD.deleted_at IS NULL THEN ${topic('deleted')} ELSE ${topic('updated')} END`
    : topic('updated');
  const of = t.updateOf ? ` OF ${t.updateOf.join(', ')}` : '';
  return {
    up: [
      `CREATE TRIGGER ${base}_ai AFTER INSERT ON ${t.table} BEGIN
         ${insertRow(t, topic('created'), 'NEW')}
       END`,
      `CREATE TRIGGER ${base}_au AFTER UPDATE${of} ON ${t.table} BEGIN
         ${insertRow(t, updateTopic, 'NEW')}
       END`,
      `CREATE TRIGGER ${base}_ad AFTER DELETE ON ${t.table} BEGIN
         ${insertRow(t, topic('deleted'), 'OLD')}
       END`,
    ],
    down: [`DROP TRIGGER ${base}_ad`, `DROP TRIGGER ${base}_au`, `DROP TRIGGER ${base}_ai`],
  };
}

const tracked = TRACKED.map(triggersFor);

@registerSchema('outbox', 'core', {
  priority: 60,
  dependsOn: ['users', 'conversations', 'memories'],
  description: 'transactional outbox for change propagation',
})
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
    {
      version: 2,
      name: 'outbox_triggers_dead_letters',
      description: 'rows written by triggers on users, conversations, messages, memories; dead letters',
      up: [
        `ALTER TABLE outbox ADD COLUMN dead_at TEXT`,
        `CREATE INDEX outbox_aggregate ON outbox (aggregate_id)`,
        ...tracked.flatMap((t) => t.up),
      ],
      down: [...tracked.flatMap((t) => t.down).reverse(), `DROP INDEX outbox_aggregate`, `ALTER TABLE outbox DROP COLUMN dead_at`],
    },
    {
      version: 3,
      name: 'outbox_skipped_targets',
      description: 'rows dispatched while a derived store was off, kept until that store has seen them',
      up: [
        `CREATE TABLE outbox_skipped (
          target TEXT NOT NULL,
          seq    INTEGER NOT NULL,
          PRIMARY KEY (target, seq)
        ) WITHOUT ROWID`,
      ],
      down: ['DROP TABLE outbox_skipped'],
    },
  ];
}
