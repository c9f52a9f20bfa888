/**
 * `sync`: federated device sync between the user's own devices (see `src/sync/README.md`).
 *
 * Adds the device's sealed identity, the shared sync keys, a hybrid logical clock, the change
 * log, per-peer version vectors, per-table policies, the quarantine and the conflict ledger, and
 * extends the core `devices` registry with the X25519 key-agreement key.
 *
 * Change capture runs in the writing transaction: AFTER triggers on every synced table bump the
 * persisted clock row (`sync_clock`: wall ms + counter, HLC rule `max(wall, now)`) and append
 * the change with that HLC, the origin device and the schema version. Triggers stay silent until
 * the device enables sync (`capture = 1`) and while the sync engine applies remote changes
 * (`applying = 1`), which records the remote change itself instead.
 *
 * The table specification below is frozen with version 1 (its text is checksummed): a later
 * column goes into a new version with new triggers, never into this one.
 */
import { registerSchema } from '../decorator.js';
import type { SchemaVersion } from '../types.js';
import { NOW } from './sql.js';

/** How concurrent changes of a synced table merge. */
export type SyncMergeKind = 'lww' | 'union' | 'versioned';

/** One synced table as the version-1 triggers capture it. */
export interface SyncTableSpec {
  readonly table: string;
  /** The stable text/uuid primary key (local rowids such as `seq` never sync). */
  readonly pk: string;
  /** `lww`: column-level last writer wins; `union`: rows never lost, time order; `versioned`: whole-row versions with a conflict ledger. */
  readonly kind: SyncMergeKind;
  /** Synced columns, primary key included. Columns not listed (seq, access counters, last_seen_at) stay local. */
  readonly columns: readonly string[];
}

/** The tables synced by schema version 1, in parent-before-child order. */
export const SYNC_TABLES_V1: readonly SyncTableSpec[] = Object.freeze([
  { table: 'system_config', pk: 'key', kind: 'lww', columns: ['key', 'value', 'description', 'updated_at'] },
  { table: 'users', pk: 'id', kind: 'lww', columns: ['id', 'name', 'nickname', 'user_type', 'is_active', 'created_at', 'updated_at', 'deleted_at'] },
  {
    table: 'user_preferences',
    pk: 'user_id',
    kind: 'lww',
    columns: ['user_id', 'language', 'personality_style', 'privacy_level', 'settings', 'updated_at'],
  },
  {
    table: 'devices',
    pk: 'id',
    kind: 'lww',
    columns: ['id', 'user_id', 'name', 'type', 'platform', 'public_key', 'kex_public_key', 'sync_policy', 'revoked_at', 'created_at', 'updated_at'],
  },
  {
    table: 'conversations',
    pk: 'id',
    kind: 'union',
    columns: ['id', 'user_id', 'title', 'status', 'metadata', 'created_at', 'updated_at', 'ended_at', 'deleted_at'],
  },
  {
    table: 'messages',
    pk: 'id',
    kind: 'union',
    columns: [
      'id', 'conversation_id', 'user_id', 'role', 'content', 'created_at', 'sentiment', 'response_time_ms', 'model',
      'prompt_tokens', 'completion_tokens', 'metadata', 'deleted_at',
    ],
  },
  {
    table: 'memories',
    pk: 'id',
    kind: 'versioned',
    columns: [
      'id', 'user_id', 'type', 'category', 'content', 'importance', 'confidence', 'is_immutable', 'valid_from', 'valid_to',
      'source_conversation_id', 'source_message_id', 'embedding_model', 'embedding_dimension', 'metadata', 'created_at',
      'updated_at', 'deleted_at',
    ],
  },
  {
    table: 'sync_conflicts',
    pk: 'id',
    kind: 'lww',
    columns: ['id', 'tbl', 'row_id', 'hlc_a', 'data_a', 'hlc_b', 'data_b', 'detected_by', 'detected_at', 'status', 'resolution', 'resolved_at'],
  },
] as SyncTableSpec[]);

/** Current wall time in ms since the epoch, in SQL. */
const NOW_MS = `CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)`;

/**
 * A column value as JSON that round-trips exactly: blobs as `["b", hex]`, reals as
 * `["r", 17 significant digits]` (JSON numbers would lose precision), the rest as is.
 */
export function syncValueSql(ref: string): string {
  return `CASE typeof(${ref}) WHEN 'blob' THEN json_array('b', hex(${ref})) WHEN 'real' THEN json_array('r', printf('%!.17g', ${ref})) ELSE ${ref} END`;
}

/** `json_object` of the row `alias` (e.g. `new`) over the spec's columns. */
export function syncImageSql(spec: SyncTableSpec, alias: string): string {
  return `json_object(${spec.columns.map((c) => `'${c}', ${syncValueSql(`${alias}.${c}`)}`).join(', ')})`;
}

function bumpClock(): string {
  return `UPDATE sync_clock SET counter = CASE WHEN ${NOW_MS} > wall THEN 0 ELSE counter + 1 END, wall = max(wall, ${NOW_MS}) WHERE id = 1;`;
}

const STAMP = `printf('%015d.%05d.%s', wall, counter, device)`;

/**
 * The stamp of version 3 (see `src/sync/hlc.ts`): counters below 100,000 as before, larger ones
 * as `x`, a letter for the digit count, and the digits, so no counter overflows the format and
 * the text order stays the clock order, old stamps included.
 */
const STAMP_V3 = `printf('%015d.', wall) || CASE WHEN counter < 100000 THEN printf('%05d', counter) ELSE 'x' || char(96 + length(counter)) || counter END || '.' || device`;

/**
 * Appends the change. For `versioned` tables the change's `base` lists every version this
 * device held as a head of that row (comma-separated): the new version supersedes exactly
 * those, which is what tells a later reader whether two versions were concurrent.
 */
function append(spec: SyncTableSpec, op: 'I' | 'U' | 'D', row: 'new' | 'old', cols: string, data: string, stamp = STAMP): string {
  const heads = `(SELECT group_concat(hlc, ',') FROM (SELECT hlc FROM sync_heads WHERE tbl = '${spec.table}' AND pk = ${row}.${spec.pk} ORDER BY hlc))`;
  const insert = `INSERT INTO sync_changes (hlc, origin, tbl, pk, op, base, cols, data, schema_version)
      SELECT ${stamp}, device, '${spec.table}', ${row}.${spec.pk}, '${op}', ${spec.kind === 'versioned' ? heads : 'NULL'}, ${cols}, ${data}, schema_version
      FROM sync_clock WHERE id = 1;`;
  if (spec.kind !== 'versioned') return insert;
  return `${insert}
      DELETE FROM sync_heads WHERE tbl = '${spec.table}' AND pk = ${row}.${spec.pk};
      INSERT INTO sync_heads (tbl, pk, hlc) SELECT '${spec.table}', ${row}.${spec.pk}, ${stamp} FROM sync_clock WHERE id = 1;`;
}

function captureOn(spec: SyncTableSpec): string {
  return `(SELECT capture = 1 AND applying = 0 FROM sync_clock WHERE id = 1)
      AND NOT EXISTS (SELECT 1 FROM sync_policies WHERE tbl = '${spec.table}' AND mode = 'never')`;
}

/** The three capture triggers of one synced table (`stamp`: the stamp expression of the schema version). */
export function syncTriggersSql(spec: SyncTableSpec, stamp = STAMP): { up: string[]; down: string[] } {
  const t = spec.table;
  const changed = spec.columns.map((c) => `old.${c} IS NOT new.${c}`).join(' OR ');
  const changedList = `'|' || ${spec.columns.map((c) => `CASE WHEN old.${c} IS NOT new.${c} THEN '${c}|' ELSE '' END`).join(' || ')}`;
  return {
    up: [
      `CREATE TRIGGER sync_capture_${t}_ai AFTER INSERT ON ${t} WHEN ${captureOn(spec)} BEGIN
      ${bumpClock()}
      ${append(spec, 'I', 'new', 'NULL', syncImageSql(spec, 'new'), stamp)}
    END`,
      `CREATE TRIGGER sync_capture_${t}_au AFTER UPDATE ON ${t} WHEN (${changed}) AND ${captureOn(spec)} BEGIN
      ${bumpClock()}
      ${append(spec, 'U', 'new', changedList, syncImageSql(spec, 'new'), stamp)}
    END`,
      `CREATE TRIGGER sync_capture_${t}_ad AFTER DELETE ON ${t} WHEN ${captureOn(spec)} BEGIN
      ${bumpClock()}
      ${append(spec, 'D', 'old', 'NULL', 'NULL', stamp)}
    END`,
    ],
    down: [`DROP TRIGGER sync_capture_${t}_ad`, `DROP TRIGGER sync_capture_${t}_au`, `DROP TRIGGER sync_capture_${t}_ai`],
  };
}

const triggers = SYNC_TABLES_V1.map((s) => syncTriggersSql(s));
const triggersV3 = SYNC_TABLES_V1.map((s) => syncTriggersSql(s, STAMP_V3));

@registerSchema('sync', 'core', {
  priority: 95,
  dependsOn: ['sealed_columns', 'system_config', 'users', 'user_preferences', 'conversations', 'memories', 'devices'],
  description: 'federated device sync: identity, keys, HLC change log, conflict ledger',
})
export class SyncSchema {
  static readonly versions: readonly SchemaVersion[] = [
    {
      version: 1,
      name: 'create_sync',
      description: 'device identity, sync keys, HLC change capture, version vectors, policies, quarantine, conflict ledger',
      up: [
        `ALTER TABLE devices ADD COLUMN kex_public_key BLOB`,
        `CREATE TABLE sync_clock (
          id             INTEGER PRIMARY KEY CHECK (id = 1),
          device         TEXT NOT NULL DEFAULT '',
          wall           INTEGER NOT NULL DEFAULT 0,
          counter        INTEGER NOT NULL DEFAULT 0,
          capture        INTEGER NOT NULL DEFAULT 0 CHECK (capture IN (0, 1)),
          applying       INTEGER NOT NULL DEFAULT 0 CHECK (applying IN (0, 1)),
          schema_version INTEGER NOT NULL DEFAULT 0
        )`,
        `INSERT INTO sync_clock (id) VALUES (1)`,
        `CREATE TABLE sync_changes (
          seq            INTEGER PRIMARY KEY AUTOINCREMENT,
          hlc            TEXT NOT NULL UNIQUE,
          origin         TEXT NOT NULL,
          tbl            TEXT NOT NULL,
          pk             TEXT NOT NULL,
          op             TEXT NOT NULL CHECK (op IN ('I', 'U', 'D')),
          base           TEXT,
          cols           TEXT,
          data           TEXT,
          schema_version INTEGER NOT NULL,
          received_at    TEXT
        )`,
        `CREATE INDEX sync_changes_row ON sync_changes (tbl, pk, hlc)`,
        `CREATE INDEX sync_changes_origin ON sync_changes (origin, hlc)`,
        `CREATE TABLE sync_heads (tbl TEXT NOT NULL, pk TEXT NOT NULL, hlc TEXT NOT NULL, PRIMARY KEY (tbl, pk, hlc)) WITHOUT ROWID`,
        `CREATE TABLE sync_identity (
          id           INTEGER PRIMARY KEY CHECK (id = 1),
          device_id    TEXT NOT NULL,
          sign_public  BLOB NOT NULL,
          kex_public   BLOB NOT NULL,
          sign_private BLOB NOT NULL,
          kex_private  BLOB NOT NULL,
          created_at   TEXT NOT NULL DEFAULT ${NOW}
        )`,
        `CREATE TABLE sync_keys (
          key_id      TEXT PRIMARY KEY NOT NULL,
          created_hlc TEXT NOT NULL,
          origin      TEXT NOT NULL,
          sealed      BLOB NOT NULL,
          retired_at  TEXT
        )`,
        `CREATE TABLE sync_vv (origin TEXT PRIMARY KEY NOT NULL, hlc TEXT NOT NULL) WITHOUT ROWID`,
        `CREATE TABLE sync_peers (
          device_id      TEXT PRIMARY KEY NOT NULL,
          vv             TEXT NOT NULL DEFAULT '{}',
          imports        INTEGER NOT NULL DEFAULT 0,
          exports        INTEGER NOT NULL DEFAULT 0,
          last_import_at TEXT,
          last_export_at TEXT
        ) WITHOUT ROWID`,
        `CREATE TABLE sync_policies (
          tbl        TEXT PRIMARY KEY NOT NULL,
          mode       TEXT NOT NULL CHECK (mode IN ('immediate', 'batch', 'on_demand', 'never')),
          updated_at TEXT NOT NULL DEFAULT ${NOW}
        ) WITHOUT ROWID`,
        `CREATE TABLE sync_quarantine (
          id             TEXT PRIMARY KEY NOT NULL,
          sender         TEXT NOT NULL,
          schema_version INTEGER NOT NULL,
          bytes          BLOB NOT NULL,
          received_at    TEXT NOT NULL DEFAULT ${NOW}
        )`,
        `CREATE TABLE sync_pairing (nonce TEXT PRIMARY KEY NOT NULL, offer TEXT NOT NULL, created_at TEXT NOT NULL DEFAULT ${NOW})`,
        `CREATE TABLE sync_conflicts (
          id          TEXT PRIMARY KEY NOT NULL,
          tbl         TEXT NOT NULL,
          row_id      TEXT NOT NULL,
          hlc_a       TEXT NOT NULL,
          data_a      TEXT,
          hlc_b       TEXT NOT NULL,
          data_b      TEXT,
          detected_by TEXT NOT NULL,
          detected_at TEXT NOT NULL,
          status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
          resolution  TEXT,
          resolved_at TEXT
        )`,
        `CREATE INDEX sync_conflicts_status ON sync_conflicts (status, tbl)`,
        `CREATE TABLE sync_pending_rows (tbl TEXT NOT NULL, pk TEXT NOT NULL, reason TEXT, PRIMARY KEY (tbl, pk)) WITHOUT ROWID`,
        ...triggers.flatMap((t) => t.up),
      ],
      down: [
        ...[...triggers].reverse().flatMap((t) => t.down),
        'DROP TABLE sync_pending_rows',
        'DROP TABLE sync_conflicts',
        'DROP TABLE sync_pairing',
        'DROP TABLE sync_quarantine',
        'DROP TABLE sync_policies',
        'DROP TABLE sync_peers',
        'DROP TABLE sync_vv',
        'DROP TABLE sync_keys',
        'DROP TABLE sync_identity',
        'DROP TABLE sync_heads',
        'DROP TABLE sync_changes',
        'DROP TABLE sync_clock',
        'ALTER TABLE devices DROP COLUMN kex_public_key',
      ],
    },
    {
      version: 2,
      name: 'declare_sealed_columns',
      description: 'the private keys and sync keys follow the data key when it rotates',
      up: [
        `INSERT INTO _aico_sealed_columns (table_name, column_name, purpose, aad_sql) VALUES
          ('sync_identity', 'sign_private', 'sync/identity/sign', 'device_id'),
          ('sync_identity', 'kex_private', 'sync/identity/kex', 'device_id'),
          ('sync_keys', 'sealed', 'sync/group', 'key_id || ''|'' || created_hlc')`,
      ],
      down: [`DELETE FROM _aico_sealed_columns WHERE table_name IN ('sync_identity', 'sync_keys')`],
    },
    {
      version: 3,
      name: 'unbounded_hlc_counter',
      description: 'capture triggers stamp any counter without overflow; changes refused from peers are kept aside alone',
      up: [
        ...[...triggers].reverse().flatMap((t) => t.down),
        ...triggersV3.flatMap((t) => t.up),
        // One row per change an import refused (malformed: CORRUPT; stamped too far ahead:
        // SYNC_CLOCK_SKEW), so that one bad change never blocks the rest of its changeset.
        `CREATE TABLE sync_rejected_changes (
          id          TEXT PRIMARY KEY NOT NULL,
          sender      TEXT NOT NULL,
          hlc         TEXT,
          origin      TEXT,
          tbl         TEXT,
          code        TEXT NOT NULL,
          reason      TEXT NOT NULL,
          change      TEXT NOT NULL,
          received_at TEXT NOT NULL DEFAULT ${NOW}
        )`,
        `CREATE INDEX sync_rejected_changes_hlc ON sync_rejected_changes (hlc)`,
      ],
      down: [
        'DROP TABLE sync_rejected_changes',
        ...[...triggersV3].reverse().flatMap((t) => t.down),
        ...triggers.flatMap((t) => t.up),
      ],
    },
    {
      version: 4,
      name: 'signed_registry',
      description: 'the trust registry: signed add/revoke operations, verified on import (never last-writer-wins)',
      up: [
        // Local, never captured: relayed inside changeset bodies and verified by signature.
        `CREATE TABLE sync_registry_ops (
          id          TEXT PRIMARY KEY NOT NULL,
          kind        TEXT NOT NULL CHECK (kind IN ('add', 'revoke')),
          subject     TEXT NOT NULL,
          signer      TEXT NOT NULL,
          body        TEXT NOT NULL,
          sig         TEXT NOT NULL,
          received_at TEXT NOT NULL DEFAULT ${NOW}
        )`,
        `CREATE INDEX sync_registry_ops_subject ON sync_registry_ops (subject, kind)`,
      ],
      down: ['DROP TABLE sync_registry_ops'],
    },
  ];
}
