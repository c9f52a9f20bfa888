/**
 * Building a changeset for one peer: what it lacks (by its version vector, or since a stamp),
 * filtered by policies and revocations, with the signed registry, sealed under this device's
 * current key, wrapped for every member, and signed.
 */
import { deflateRawSync } from 'node:zlib';
import { invalidArgument } from '../errors.js';
import { collectChanges, peerVector, type VersionVector } from './collect.js';
import { encrypt, randomId, signBytes } from './crypto.js';
import { checkDeviceId, deviceSyncPolicy } from './devices-table.js';
import { bodyAad, encodeChangeset, type ChangesetHeader } from './envelope.js';
import { isHlc } from './hlc.js';
import type { Identity } from './identity.js';
import { wrapKey } from './key-wraps.js';
import { currentKey } from './keys.js';
import { exportedTables, tablePolicies } from './policies.js';
import { loadTrust, untrusted, wireOps } from './registry.js';
import { signLocalRevocations } from './revocations.js';
import type { SyncSession } from './session.js';

/** Options of {@link SyncService.exportChanges}. */
export interface ExportOptions {
  /** Also send tables whose policy is `on_demand` (default false). */
  readonly onDemand?: boolean;
}

/** The changeset for `forDevice`, in one transaction; `SYNC_UNTRUSTED` for an unknown or revoked device. */
export async function exportChanges(s: SyncSession, me: Identity, forDevice: string, since: string | VersionVector | undefined, options: ExportOptions): Promise<Buffer> {
  checkDeviceId(forDevice, 'forDevice');
  if (forDevice === me.deviceId) throw invalidArgument('a device does not export to itself');
  if (since !== undefined && typeof since !== 'string' && (since === null || typeof since !== 'object')) throw invalidArgument('since must be a stamp or a version vector');
  if (typeof since === 'string' && since !== '' && !isHlc(since)) throw invalidArgument('since must be an HLC stamp');
  return s.sql.transaction(async (tx) => {
    // Trust comes from the signed registry, never from the synced devices columns.
    const trust = await signLocalRevocations(tx, me, await loadTrust(tx, me));
    if (trust.revoked.has(me.deviceId)) throw untrusted('this device was revoked: it can no longer sync');
    const member = trust.members.get(forDevice);
    if (!member?.kex) {
      throw untrusted(`device ${forDevice} is ${trust.revoked.has(forDevice) ? 'revoked' : 'not a paired device'}`, { deviceId: forDevice });
    }
    const devicePolicy = await deviceSyncPolicy(tx, forDevice);
    let vv: VersionVector;
    if (since === undefined) vv = await peerVector(tx, forDevice);
    else if (typeof since === 'string') {
      vv = {};
      for (const r of await tx.query<{ origin: string }>(`SELECT DISTINCT origin FROM sync_changes`)) vv[r.origin] = since;
    } else vv = { ...since };
    const include = exportedTables(await tablePolicies(tx), devicePolicy, !!options.onDemand);
    const collected = await collectChanges(tx, me.deviceId, forDevice, vv, include);
    // Changes of a revoked device are not relayed; the signed registry travels with every changeset.
    const ranges = Object.fromEntries(Object.entries(collected.ranges).filter(([o]) => !trust.revoked.has(o)));
    const body = { ...collected, ranges, changes: collected.changes.filter((c) => !trust.revoked.has(c[1])), registry: await wireOps(tx) };
    // Always an own key, rotated when a revocation became known (keys.ts): no peer steers it.
    const key = await currentKey(tx, s.sealer, me.deviceId);
    const wraps = wrapKey(me, key, forDevice, member.kex, trust, s.options.logger);
    const header: ChangesetHeader = { v: 1, id: randomId(), from: me.deviceId, to: forDevice, keyId: key.keyId, keyCreated: key.createdHlc, sv: s.schemaVersion, wraps };
    const headerBytes = Buffer.from(JSON.stringify(header));
    const sealed = encrypt(key.key, deflateRawSync(Buffer.from(JSON.stringify(body))), bodyAad(headerBytes));
    await tx.execute(
      `INSERT INTO sync_peers (device_id, exports, last_export_at) VALUES (?, 1, ?)
       ON CONFLICT (device_id) DO UPDATE SET exports = exports + 1, last_export_at = excluded.last_export_at`,
      [forDevice, new Date().toISOString()],
    );
    return encodeChangeset(headerBytes, sealed, (signed) => signBytes(me.signPrivate, signed));
  });
}
