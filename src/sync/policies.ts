/**
 * When a table's changes travel (`sync_policies`) and what a device receives (its `sync_policy`),
 * and the one predicate export uses to combine both.
 */
import { AicoDataError, invalidArgument } from '../errors.js';
import type { SqlExecutor } from '../stores/sql/index.js';
import { checkDeviceId, setDeviceSyncPolicy } from './devices-table.js';
import { CRITICALITY, DEFAULT_POLICIES, REQUIRED_TABLES, specOf, SYNC_MODES, SYNC_TABLES, type DeviceSyncPolicy, type SyncMode } from './tables.js';

/** The policy of every synced table (the defaults under what `setPolicy` stored). */
export async function tablePolicies(sql: SqlExecutor): Promise<Record<string, SyncMode>> {
  const out: Record<string, SyncMode> = { ...DEFAULT_POLICIES };
  for (const r of await sql.query<{ tbl: string; mode: SyncMode }>(`SELECT tbl, mode FROM sync_policies`)) out[r.tbl] = r.mode;
  return out;
}

/** Sets a table's policy; the registry and the conflict ledger always sync immediately. */
export async function setTablePolicy(sql: SqlExecutor, table: string, mode: SyncMode): Promise<void> {
  if (!specOf(table)) throw invalidArgument(`${String(table)} is not a synced table (${SYNC_TABLES.map((s) => s.table).join(', ')})`);
  if (!SYNC_MODES.includes(mode)) throw invalidArgument(`mode must be one of ${SYNC_MODES.join(', ')}`);
  if (REQUIRED_TABLES.has(table) && mode !== 'immediate') throw invalidArgument(`${table} always syncs immediately`);
  await sql.execute(`INSERT INTO sync_policies (tbl, mode) VALUES (?, ?) ON CONFLICT (tbl) DO UPDATE SET mode = excluded.mode, updated_at = excluded.updated_at`, [table, mode]);
}

/** Sets what a device receives; `NOT_FOUND` for a device without a row. */
export async function setDevicePolicy(sql: SqlExecutor, deviceId: string, policy: DeviceSyncPolicy): Promise<void> {
  checkDeviceId(deviceId);
  if (policy !== 'full' && policy !== 'selective' && policy !== 'none') throw invalidArgument("policy must be 'full', 'selective' or 'none'");
  if (!(await setDeviceSyncPolicy(sql, deviceId, policy))) throw new AicoDataError('NOT_FOUND', `no device ${deviceId} in the registry`, { deviceId });
}

/**
 * Which tables an export to a device carries: the required ones always; the others when their
 * policy travels now (`on_demand` only when asked) and the device's policy takes them.
 */
export function exportedTables(policies: Readonly<Record<string, SyncMode>>, device: DeviceSyncPolicy, onDemand: boolean): (table: string) => boolean {
  const modes = new Set<SyncMode>(['immediate', 'batch', ...(onDemand ? (['on_demand'] as const) : [])]);
  return (t) => REQUIRED_TABLES.has(t) || (modes.has(policies[t] ?? 'immediate') && (device === 'full' || (device === 'selective' && CRITICALITY[t] === 'critical')));
}
