/**
 * The tracking tables.
 *
 * `_aico_schema_metadata`: one row per component (its own version counter: two components
 * never share one), with the checksum of each applied version.
 * `_aico_migration_history`: every attempt, successful or not, up, down or an accepted drift.
 * `_aico_schema_lock`: the lease that lets exactly one process migrate at a time.
 *
 * Names follow AICO upstream (`_aico_schema_metadata`, `_aico_migration_history`); the columns
 * follow issue 3 (upstream's key/value metadata and single global counter are not kept).
 */
import type { ComponentState, ComponentType, HistoryEntry, SchemaExecutor, SqlValue } from './types.js';

export const METADATA_TABLE = '_aico_schema_metadata';
export const HISTORY_TABLE = '_aico_migration_history';
export const LOCK_TABLE = '_aico_schema_lock';

export const TRACKING_DDL = `
CREATE TABLE IF NOT EXISTS ${METADATA_TABLE} (
  name            TEXT PRIMARY KEY,
  type            TEXT NOT NULL CHECK (type IN ('core', 'plugin')),
  current_version INTEGER NOT NULL DEFAULT 0 CHECK (current_version >= 0),
  checksums       TEXT NOT NULL DEFAULT '{}',
  state           TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'inactive', 'removed')),
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ${HISTORY_TABLE} (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  component   TEXT NOT NULL,
  type        TEXT NOT NULL CHECK (type IN ('core', 'plugin')),
  version     INTEGER NOT NULL,
  name        TEXT NOT NULL DEFAULT '',
  direction   TEXT NOT NULL CHECK (direction IN ('up', 'down', 'accept_drift')),
  checksum    TEXT,
  started_at  TEXT NOT NULL,
  finished_at TEXT,
  duration_ms INTEGER,
  success     INTEGER NOT NULL CHECK (success IN (0, 1)),
  error       TEXT,
  statement   TEXT,
  note        TEXT,
  applied_by  TEXT
);
CREATE INDEX IF NOT EXISTS ${HISTORY_TABLE}_component ON ${HISTORY_TABLE} (component, version);
CREATE TABLE IF NOT EXISTS ${LOCK_TABLE} (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  owner       TEXT NOT NULL,
  pid         INTEGER NOT NULL,
  host        TEXT NOT NULL,
  acquired_at TEXT NOT NULL,
  expires_at  INTEGER NOT NULL
);
`;

export interface MetadataRow {
  readonly name: string;
  readonly type: ComponentType;
  readonly currentVersion: number;
  /** version -> checksum of the applied statements */
  readonly checksums: Readonly<Record<string, string>>;
  readonly state: Exclude<ComponentState, 'not-installed'>;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export function nowIso(): string {
  return new Date().toISOString();
}

/** True when the tracking tables exist (read-only check). */
export async function trackingTablesExist(db: SchemaExecutor): Promise<boolean> {
  const rows = await db.query<{ name: string }>(
    `SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (?, ?, ?)`,
    [METADATA_TABLE, HISTORY_TABLE, LOCK_TABLE],
  );
  return rows.length === 3;
}

function parseChecksums(raw: SqlValue): Record<string, string> {
  if (typeof raw !== 'string') return {};
  try {
    const v = JSON.parse(raw) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, string>) : {};
  } catch {
    return {};
  }
}

function toMeta(r: Record<string, SqlValue>): MetadataRow {
  return {
    name: String(r['name']),
    type: r['type'] as ComponentType,
    currentVersion: Number(r['current_version']),
    checksums: parseChecksums(r['checksums'] ?? null),
    state: r['state'] as MetadataRow['state'],
    createdAt: String(r['created_at']),
    updatedAt: String(r['updated_at']),
  };
}

export async function readAllMetadata(db: SchemaExecutor): Promise<Map<string, MetadataRow>> {
  const rows = await db.query(`SELECT * FROM ${METADATA_TABLE} ORDER BY name`);
  return new Map(rows.map((r) => [String(r['name']), toMeta(r)]));
}

export async function readMetadata(db: SchemaExecutor, name: string): Promise<MetadataRow | undefined> {
  const r = await db.queryOne(`SELECT * FROM ${METADATA_TABLE} WHERE name = ?`, [name]);
  return r ? toMeta(r) : undefined;
}

/** Inserts or updates a component's row. */
export async function writeMetadata(
  db: SchemaExecutor,
  row: { name: string; type: ComponentType; currentVersion: number; checksums: Record<string, string>; state: MetadataRow['state'] },
): Promise<void> {
  const now = nowIso();
  await db.execute(
    `INSERT INTO ${METADATA_TABLE} (name, type, current_version, checksums, state, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET type = excluded.type, current_version = excluded.current_version,
       checksums = excluded.checksums, state = excluded.state, updated_at = excluded.updated_at`,
    [row.name, row.type, row.currentVersion, JSON.stringify(sortKeys(row.checksums)), row.state, now, now],
  );
}

export async function setState(db: SchemaExecutor, name: string, state: MetadataRow['state']): Promise<number> {
  const r = await db.execute(`UPDATE ${METADATA_TABLE} SET state = ?, updated_at = ? WHERE name = ?`, [state, nowIso(), name]);
  return r.changes;
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort((a, b) => Number(a[0]) - Number(b[0])));
}

export interface HistoryInsert {
  component: string;
  type: ComponentType;
  version: number;
  name: string;
  direction: HistoryEntry['direction'];
  checksum: string | null;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  success: boolean;
  error?: string | null;
  statement?: string | null;
  note?: string | null;
  appliedBy: string;
}

export async function insertHistory(db: SchemaExecutor, h: HistoryInsert): Promise<void> {
  await db.execute(
    `INSERT INTO ${HISTORY_TABLE}
       (component, type, version, name, direction, checksum, started_at, finished_at, duration_ms, success, error, statement, note, applied_by)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      h.component,
      h.type,
      h.version,
      h.name,
      h.direction,
      h.checksum,
      h.startedAt,
      h.finishedAt,
      Math.round(h.durationMs),
      h.success ? 1 : 0,
      h.error ?? null,
      h.statement ?? null,
      h.note ?? null,
      h.appliedBy,
    ],
  );
}

export async function readHistory(db: SchemaExecutor, component?: string): Promise<HistoryEntry[]> {
  const rows = component
    ? await db.query(`SELECT * FROM ${HISTORY_TABLE} WHERE component = ? ORDER BY id`, [component])
    : await db.query(`SELECT * FROM ${HISTORY_TABLE} ORDER BY id`);
  return rows.map((r) => ({
    id: Number(r['id']),
    component: String(r['component']),
    type: r['type'] as ComponentType,
    version: Number(r['version']),
    name: String(r['name'] ?? ''),
    direction: r['direction'] as HistoryEntry['direction'],
    checksum: (r['checksum'] as string | null) ?? null,
    startedAt: String(r['started_at']),
    finishedAt: (r['finished_at'] as string | null) ?? null,
    durationMs: r['duration_ms'] === null || r['duration_ms'] === undefined ? null : Number(r['duration_ms']),
    success: Number(r['success']) === 1,
    error: (r['error'] as string | null) ?? null,
    statement: (r['statement'] as string | null) ?? null,
    note: (r['note'] as string | null) ?? null,
    appliedBy: (r['applied_by'] as string | null) ?? null,
  }));
}
