/**
 * The sync key wrapped in a changeset header for each member (X25519 + HKDF pairwise key,
 * AES-256-GCM bound to key id, sender and recipient), and its unwrapping on import: only
 * members learn a key, and one member's broken registry key does not stop the others.
 */
import { AicoDataError, isAicoError } from '../errors.js';
import { b64u, decrypt, encrypt, fromB64u, pairwiseKey } from './crypto.js';
import type { ChangesetHeader } from './envelope.js';
import type { Identity } from './identity.js';
import type { SyncKey } from './keys.js';
import type { Trust } from './registry.js';
import type { SyncOptions } from './session.js';

const consoleLogger = { warn: (message: string, details: Readonly<Record<string, unknown>>) => console.warn(`[aico-data] ${message}`, details) };

function wrapAad(key: SyncKey | { keyId: string }, from: string, to: string): Buffer {
  return Buffer.from(`aico-sync/wrap/v1|${key.keyId}|${from}|${to}`);
}

/**
 * The key wrapped for `forDevice` first (an unusable key of its own refuses the export:
 * `SYNC_UNTRUSTED`), then for every other member with a key; a member whose registry key is
 * unusable is skipped and logged, so one broken key does not stop sync for all the others.
 */
export function wrapKey(me: Identity, key: SyncKey, forDevice: string, forKex: Uint8Array, trust: Trust, logger: SyncOptions['logger']): Record<string, string> {
  const wraps: Record<string, string> = {};
  const members = [...trust.members.values()]
    .filter((m) => m.kex !== null)
    .sort((x, y) => (x.id < y.id ? -1 : 1))
    .map((m) => ({ id: m.id, kex_public_key: m.kex! }));
  wraps[forDevice] = b64u(encrypt(pairwiseKey(me.kexPrivate, forKex, me.deviceId, forDevice), key.key, wrapAad(key, me.deviceId, forDevice)));
  for (const m of members) {
    if (m.id === forDevice) continue;
    try {
      wraps[m.id] = b64u(encrypt(pairwiseKey(me.kexPrivate, m.kex_public_key, me.deviceId, m.id), key.key, wrapAad(key, me.deviceId, m.id)));
    } catch (e) {
      if (!isAicoError(e, 'SYNC_UNTRUSTED')) throw e;
      (logger ?? consoleLogger).warn(`sync: device ${m.id} skipped in the key wraps: ${e.message}`, { deviceId: m.id, code: e.code, reason: e.details?.reason });
    }
  }
  return wraps;
}

/** The sender's key, from the wrap the header holds for this device (`SYNC_KEY_UNAVAILABLE` without one). */
export function unwrapKey(me: Identity, h: ChangesetHeader, senderKex: Uint8Array): SyncKey {
  const wrap = h.wraps[me.deviceId];
  if (typeof wrap !== 'string') throw new AicoDataError('SYNC_KEY_UNAVAILABLE', `no sync key of this device opens changeset ${h.id}`, { keyId: h.keyId });
  const k = decrypt(pairwiseKey(me.kexPrivate, senderKex, me.deviceId, h.from), fromB64u(wrap, 'wrap'), wrapAad(h, h.from, me.deviceId));
  return { keyId: h.keyId, createdHlc: h.keyCreated, key: k };
}
