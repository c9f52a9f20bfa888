/**
 * What syncs, and how: the table specifications (frozen with the `sync` schema version), the
 * per-table policies, merge rules beyond plain last-writer-wins, and the value codec of the
 * change images the capture triggers write.
 */
import { SYNC_TABLES_V1, type SyncTableSpec } from '../schema/core/sync.js';
import type { SqlValue } from '../stores/sql/index.js';
import { AicoDataError } from '../errors.js';

export type { SyncTableSpec } from '../schema/core/sync.js';

/** When a table's changes travel. */
export type SyncMode = 'immediate' | 'batch' | 'on_demand' | 'never';

export const SYNC_MODES: readonly SyncMode[] = ['immediate', 'batch', 'on_demand', 'never'];

/** The synced tables, parents before children (the order changes are applied in). */
export const SYNC_TABLES: readonly SyncTableSpec[] = SYNC_TABLES_V1;

const BY_NAME = new Map(SYNC_TABLES.map((s) => [s.table, s]));

export function specOf(table: string): SyncTableSpec | undefined {
  return BY_NAME.get(table);
}

/**
 * Default policy per table, by criticality: the registry, conversations and preferences go out
 * at once; memories and configuration in batches. `never` turns capture off for the table.
 */
export const DEFAULT_POLICIES: Readonly<Record<string, SyncMode>> = Object.freeze({
  system_config: 'batch',
  users: 'immediate',
  user_preferences: 'immediate',
  devices: 'immediate',
  conversations: 'immediate',
  messages: 'immediate',
  memories: 'batch',
  sync_conflicts: 'immediate',
});

/**
 * Criticality of each table for selective sync: a device registered with `sync_policy =
 * 'selective'` (e.g. a phone short of space) receives the `critical` tables only (who the user
 * is, what the companion knows and prefers, the registry and the ledger), not the full
 * conversation history; `none` receives the registry and ledger only.
 */
export const CRITICALITY: Readonly<Record<string, 'critical' | 'standard'>> = Object.freeze({
  devices: 'critical',
  sync_conflicts: 'critical',
  users: 'critical',
  user_preferences: 'critical',
  memories: 'critical',
  conversations: 'standard',
  messages: 'standard',
  system_config: 'standard',
});

/** Per-device policies of the core `devices.sync_policy` column. */
export type DeviceSyncPolicy = 'full' | 'selective' | 'none';

/** Tables whose policy cannot be lowered: trust and the conflict ledger must always flow. */
export const REQUIRED_TABLES: ReadonlySet<string> = new Set(['devices', 'sync_conflicts']);

/**
 * What never leaves the device, whatever the policies: these are not in the change log at all.
 * Embeddings are re-created on each device from the synced memory text (vectors carry
 * provenance, see `src/stores/vectors`), so no vector or cache byte is ever exported.
 */
export const LOCAL_ONLY: Readonly<Record<string, string>> = Object.freeze({
  kv: 'RocksDB cache, sessions and queues (device-local)',
  secrets: 'key file, device private keys and sync keys (sealed, never exported)',
  analytics: 'DuckDB is rebuilt from the synced tables',
  vectors: 'embeddings are re-created from synced memory text',
  outbox: 'local change propagation',
  search: 'FTS indexes are rebuilt by triggers on each device',
  local_state: "this copy's own state (which embedder made its vectors)",
});

/**
 * Columns whose first non-null value (in clock order) wins whatever later writes say: a
 * revocation and a conflict resolution are facts, not preferences.
 */
export const STICKY_COLUMNS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  devices: ['revoked_at'],
  sync_conflicts: ['resolution', 'resolved_at'],
});

/** A change image value (see `syncValueSql`) back to the SQL value it was. */
export function decodeValue(v: unknown): SqlValue {
  if (v === null || typeof v === 'string' || typeof v === 'number') return v;
  if (Array.isArray(v) && v.length === 2 && typeof v[1] === 'string') {
    if (v[0] === 'b') return Buffer.from(v[1], 'hex');
    if (v[0] === 'r') return Number(v[1]);
  }
  throw new AicoDataError('CORRUPT', `unexpected value in a sync change image: ${JSON.stringify(v)}`);
}

/** The image of a row as a map of column -> encoded value. */
export type Image = Record<string, unknown>;

export function parseImage(text: unknown): Image {
  if (typeof text !== 'string') throw new AicoDataError('CORRUPT', 'a sync change image is not JSON text');
  const v = JSON.parse(text) as unknown;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new AicoDataError('CORRUPT', 'a sync change image is not an object');
  return v as Image;
}

/** Encoded value equality (images encode deterministically, so JSON text compares). */
export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}
