/**
 * Puts this device into the signed registry: its own card (built from its `devices` row), and,
 * once for a folder paired before the signed registry existed, vouching for what it trusted then.
 */
import type { SqlExecutor, SqlStore } from '../stores/sql/index.js';
import { b64u } from './crypto.js';
import { deviceInfo, otherDevices } from './devices-table.js';
import type { Identity } from './identity.js';
import { addOwnOp, isRevocationStamp, ownCard, type SignedCard } from './registry.js';

/** This device's self-signed card, with the name, type and platform of its row. */
export async function ownDeviceCard(sql: SqlExecutor, me: Identity): Promise<SignedCard> {
  const r = await deviceInfo(sql, me.deviceId);
  return ownCard(me, { name: r?.name ?? 'device', type: r?.type ?? 'other', platform: r?.platform ?? process.platform });
}

/**
 * Makes sure the signed registry holds this device's own card. A folder paired before the
 * signed registry (`sync` schema version 4) vouches, once, for what its registry trusted then:
 * any device with a non-null `revoked_at` (even `''`) counts as revoked.
 */
export async function ensureRegistry(sql: SqlStore, me: Identity): Promise<void> {
  const has = await sql.queryOne(`SELECT 1 AS ok FROM sync_registry_ops WHERE kind = 'add' AND subject = ? AND signer = ?`, [me.deviceId, me.deviceId]);
  if (has) return;
  await sql.transaction(async (tx) => {
    const legacy = Number((await tx.queryOne<{ n: number }>(`SELECT count(*) AS n FROM sync_registry_ops`))?.n ?? 0) === 0;
    await addOwnOp(tx, me, 'add', me.deviceId, await ownDeviceCard(tx, me));
    if (!legacy) return;
    for (const d of await otherDevices(tx, me.deviceId)) {
      if (d.revoked_at !== null) {
        await addOwnOp(tx, me, 'revoke', d.id, undefined, isRevocationStamp(d.revoked_at) ? d.revoked_at : undefined);
      } else if (d.public_key && d.kex_public_key && d.kex_public_key.length === 32 && d.public_key.length === 32) {
        const card = { id: d.id, name: d.name, type: d.type, platform: d.platform, sign: b64u(d.public_key), kex: b64u(d.kex_public_key) };
        await addOwnOp(tx, me, 'add', d.id, card);
      }
    }
  });
}
