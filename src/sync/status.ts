/**
 * `status()`: what this device holds, owes each peer (and whether that is due under the table
 * policies), and keeps aside (quarantine, refused changes, rows waiting for a parent, conflicts).
 */
import type { SqlValue } from '../stores/sql/index.js';
import { peerVector } from './collect.js';
import { deviceCounts, peerDevices } from './devices-table.js';
import { tablePolicies } from './policies.js';
import type { SyncSession } from './session.js';
import { LOCAL_ONLY, type SyncMode } from './tables.js';

/** Sync status of this device. */
export interface SyncStatus {
  readonly enabled: boolean;
  readonly deviceId: string | null;
  readonly schemaVersion: number;
  readonly changes: number;
  readonly devices: { readonly trusted: number; readonly revoked: number };
  readonly peers: readonly {
    readonly deviceId: string;
    readonly name: string;
    readonly pending: number;
    readonly due: boolean;
    readonly lastImportAt: string | null;
    readonly lastExportAt: string | null;
  }[];
  readonly quarantined: number;
  /** Single changes refused on import (`CORRUPT`, `SYNC_CLOCK_SKEW`), kept in `sync_rejected_changes`. */
  readonly rejectedChanges: number;
  readonly pendingRows: number;
  readonly openConflicts: number;
  readonly policies: Readonly<Record<string, SyncMode>>;
  readonly localOnly: Readonly<Record<string, string>>;
}

/** The status of the session's folder (enabled or not). */
export async function syncStatus(s: SyncSession): Promise<SyncStatus> {
  const policies = await tablePolicies(s.sql);
  const one = async (sql: string, params: SqlValue[] = []) => Number((await s.sql.queryOne<{ n: number }>(sql, params))?.n ?? 0);
  const base = {
    schemaVersion: s.schemaVersion,
    quarantined: await one(`SELECT count(*) AS n FROM sync_quarantine`),
    rejectedChanges: await one(`SELECT count(*) AS n FROM sync_rejected_changes`),
    pendingRows: await one(`SELECT count(*) AS n FROM sync_pending_rows`),
    openConflicts: await one(`SELECT count(*) AS n FROM sync_conflicts WHERE status = 'open'`),
    policies,
    localOnly: LOCAL_ONLY,
  };
  if (!s.identity) return { enabled: false, deviceId: null, changes: 0, devices: { trusted: 0, revoked: 0 }, peers: [], ...base };
  const self = s.identity.deviceId;
  const batchSize = s.options.batchSize ?? 100;
  const peers: SyncStatus['peers'][number][] = [];
  for (const d of await peerDevices(s.sql, self)) {
    const vv = await peerVector(s.sql, d.id);
    const counts = await s.sql.query<{ tbl: string; n: number }>(
      `SELECT c.tbl, count(*) AS n FROM sync_changes c WHERE c.origin != ? AND c.hlc > coalesce(json_extract(?, '$."' || c.origin || '"'), '') GROUP BY c.tbl`,
      [d.id, JSON.stringify(vv)],
    );
    let pending = 0;
    let immediate = 0;
    let batch = 0;
    for (const c of counts) {
      pending += Number(c.n);
      const m = policies[c.tbl] ?? 'immediate';
      if (m === 'immediate') immediate += Number(c.n);
      if (m === 'batch') batch += Number(c.n);
    }
    peers.push({ deviceId: d.id, name: d.name, pending, due: immediate > 0 || batch >= batchSize, lastImportAt: d.last_import_at, lastExportAt: d.last_export_at });
  }
  return { enabled: true, deviceId: self, changes: await one(`SELECT count(*) AS n FROM sync_changes`), devices: await deviceCounts(s.sql), peers, ...base };
}
