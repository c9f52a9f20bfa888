/**
 * How a revocation enters the signed registry (by `revoke()`, by a local SQL write, or from a
 * peer), rotates the own sync key, and shows in the `devices.revoked_at` display column.
 */
import { AicoDataError, invalidArgument } from '../errors.js';
import type { SqlExecutor } from '../stores/sql/index.js';
import { checkDeviceId, markRevoked, projectRevokedAt, revokedAtOf } from './devices-table.js';
import type { Identity } from './identity.js';
import { currentKey, retireOwnKeys } from './keys.js';
import { addOwnOp, isRevocationStamp, loadTrust, mergeOps, type Trust } from './registry.js';
import type { SyncSession } from './session.js';

/**
 * Revokes a device: a signed, monotone `revoke` operation, a retired own key (the next
 * changeset is sealed under a fresh one), and the display column. Idempotent.
 */
export async function revokeDevice(s: SyncSession, me: Identity, deviceId: string): Promise<void> {
  checkDeviceId(deviceId);
  if (deviceId === me.deviceId) throw invalidArgument('a device cannot revoke itself');
  await s.sql.transaction(async (tx) => {
    const row = await revokedAtOf(tx, deviceId);
    const trust = await loadTrust(tx, me);
    if (!row && !trust.members.has(deviceId) && !trust.revoked.has(deviceId)) throw new AicoDataError('NOT_FOUND', `no device ${deviceId} in the registry`, { deviceId });
    const now = new Date(s.now()).toISOString();
    if (!trust.revoked.has(deviceId)) {
      await addOwnOp(tx, me, 'revoke', deviceId, undefined, now);
      await retireOwnKeys(tx, me.deviceId);
    }
    // The display column follows (and syncs); trust never reads it.
    if (row && !isRevocationStamp(row.revoked_at)) await markRevoked(tx, deviceId, now);
    await currentKey(tx, s.sealer, me.deviceId);
  });
}

/**
 * A revocation written on this device by SQL or the device repository (`revoked_at` set by a
 * local change) is signed here, and rotates the own key: only local changes count, never a
 * remote device's edit of the synced column.
 */
export async function signLocalRevocations(tx: SqlExecutor, me: Identity, trust: Trust): Promise<Trust> {
  const rows = await tx.query<{ pk: string; data: string | null }>(
    `SELECT pk, data FROM sync_changes WHERE tbl = 'devices' AND origin = ? AND op = 'U' AND cols LIKE '%|revoked_at|%' ORDER BY hlc`,
    [me.deviceId],
  );
  let changed = false;
  for (const r of rows) {
    if (r.pk === me.deviceId || trust.revoked.has(r.pk)) continue;
    let v: unknown;
    try {
      v = (JSON.parse(r.data ?? '{}') as Record<string, unknown>).revoked_at;
    } catch {
      continue;
    }
    if (!isRevocationStamp(v)) continue;
    await addOwnOp(tx, me, 'revoke', r.pk, undefined, v);
    changed = true;
  }
  if (!changed) return trust;
  await retireOwnKeys(tx, me.deviceId);
  return loadTrust(tx, me);
}

/** Merges received registry operations; a newly known revocation rotates the own key. */
export async function mergeRegistry(tx: SqlExecutor, me: Identity, before: Trust, ops: unknown): Promise<Trust> {
  if ((await mergeOps(tx, me, ops)) === 0) return before;
  const after = await loadTrust(tx, me);
  if ([...after.revoked].some((id) => !before.revoked.has(id))) await retireOwnKeys(tx, me.deviceId);
  return after;
}

/**
 * Shows every revocation of the signed registry in the display column `devices.revoked_at`
 * when the synced value is missing or not a date (`''` planted by the revoked device).
 */
export async function projectRevocations(tx: SqlExecutor, trust: Trust): Promise<void> {
  for (const [id, at] of trust.revokedAt) {
    const d = await revokedAtOf(tx, id);
    if (!d || isRevocationStamp(d.revoked_at)) continue;
    await projectRevokedAt(tx, id, isRevocationStamp(at) ? at : new Date().toISOString());
  }
}
