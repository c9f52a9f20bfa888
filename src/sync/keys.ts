/**
 * The shared sync keys. Changeset bodies are encrypted under the sender's current sync key; the
 * header carries that key wrapped for every trusted device (pairwise X25519 + HKDF keys), so a
 * device learns a key only while it is trusted. Keys are stored sealed under the data key
 * (`sync/group`).
 *
 * Which key seals: always one this device created itself, the newest by local insertion order
 * (a local, monotone epoch), never one learned from a peer and never ordered by a stamp a peer
 * chose. Keys learned from peers only open their changesets. When this device learns of a
 * revocation it retires its own keys, so its next changeset is sealed under a fresh key that is
 * wrapped only for the remaining members: nothing a revoked device planted (a key stamped far in
 * the future, say) can stay current.
 */
import type { SqlExecutor } from '../stores/sql/index.js';
import { randomId, randomKey } from './crypto.js';
import { tick } from './hlc.js';
import type { Sealer } from './identity.js';

const PURPOSE = 'sync/group';

export interface SyncKey {
  readonly keyId: string;
  readonly createdHlc: string;
  readonly key: Buffer;
}

function aadOf(keyId: string, createdHlc: string): Buffer {
  return Buffer.from(`${keyId}|${createdHlc}`);
}

/** This device's newest own key not retired (local order), creating one when there is none. */
export async function currentKey(tx: SqlExecutor, sealer: Sealer, self: string): Promise<SyncKey> {
  const row = await tx.queryOne<{ key_id: string; created_hlc: string; sealed: Uint8Array }>(
    `SELECT key_id, created_hlc, sealed FROM sync_keys WHERE retired_at IS NULL AND origin = ? ORDER BY rowid DESC LIMIT 1`,
    [self],
  );
  if (row) return { keyId: row.key_id, createdHlc: row.created_hlc, key: sealer.open(PURPOSE, row.sealed, aadOf(row.key_id, row.created_hlc)) };
  const k: SyncKey = { keyId: randomId(), createdHlc: await tick(tx), key: randomKey() };
  await storeKey(tx, sealer, k, self);
  return k;
}

/** A key by id, or `undefined`. */
export async function keyById(sql: SqlExecutor, sealer: Sealer, keyId: string): Promise<SyncKey | undefined> {
  const row = await sql.queryOne<{ created_hlc: string; sealed: Uint8Array }>(`SELECT created_hlc, sealed FROM sync_keys WHERE key_id = ?`, [keyId]);
  return row ? { keyId, createdHlc: row.created_hlc, key: sealer.open(PURPOSE, row.sealed, aadOf(keyId, row.created_hlc)) } : undefined;
}

/** Stores a key (learned or created); a known id is left as is. */
export async function storeKey(tx: SqlExecutor, sealer: Sealer, k: SyncKey, origin: string, retired = false): Promise<void> {
  await tx.execute(
    `INSERT OR IGNORE INTO sync_keys (key_id, created_hlc, origin, sealed, retired_at) VALUES (?, ?, ?, ?, ?)`,
    [k.keyId, k.createdHlc, origin, sealer.seal(PURPOSE, k.key, aadOf(k.keyId, k.createdHlc)), retired ? new Date().toISOString() : null],
  );
}

/** Retires every own key (a revocation became known): the next changeset gets a fresh one. */
export async function retireOwnKeys(tx: SqlExecutor, self: string): Promise<number> {
  const r = await tx.execute(`UPDATE sync_keys SET retired_at = ? WHERE retired_at IS NULL AND origin = ?`, [new Date().toISOString(), self]);
  return r.changes;
}
