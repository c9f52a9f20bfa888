/**
 * Receiving a changeset: who may send (the signed registry only), signature, schema version
 * (newer: quarantine), key, body; then one transaction that merges the registry, applies the
 * changes, advances clock and vectors, and records conflicts.
 */
import { AicoDataError, invalidArgument } from '../errors.js';
import type { SqlExecutor } from '../stores/sql/index.js';
import { applyChanges } from './apply.js';
import { advanceVector, peerVector, type ChangesetBody } from './collect.js';
import { verifyBytes } from './crypto.js';
import { publishConflicts, recordConflicts } from './conflict-ledger.js';
import { DEVICE_ID, touchDevice } from './devices-table.js';
import { openBody, parseChangeset } from './envelope.js';
import { isHlc, receiveClock } from './hlc.js';
import type { Identity } from './identity.js';
import { unwrapKey } from './key-wraps.js';
import { keyById, storeKey } from './keys.js';
import { quarantine } from './quarantine.js';
import { loadTrust, untrusted } from './registry.js';
import { mergeRegistry, projectRevocations } from './revocations.js';
import type { SyncSession } from './session.js';

/** What {@link SyncService.importChanges} did. */
export interface ImportResult {
  /** `applied` (possibly with nothing new: a duplicate), or `quarantined` (newer schema). */
  readonly status: 'applied' | 'quarantined';
  readonly from: string;
  readonly changesetId: string;
  readonly applied: number;
  readonly duplicates: number;
  readonly rowsWritten: number;
  readonly pending: number;
  readonly conflicts: number;
  /**
   * Changes refused alone, each a typed error (`CORRUPT`: malformed; `SYNC_CLOCK_SKEW`: stamped
   * too far ahead) with `details.hlc/origin/table`; kept in `sync_rejected_changes`, the rest applied.
   */
  readonly rejected: readonly AicoDataError[];
}

/** Records what the sender reports holding, and that it was seen, when it reported or delivered anything new. */
async function notePeer(tx: SqlExecutor, from: string, reported: Readonly<Record<string, unknown>>, applied: number, now: string): Promise<void> {
  const known = await peerVector(tx, from);
  let changed = false;
  for (const [origin, hlc] of Object.entries(reported)) {
    if (isHlc(hlc) && hlc > (known[origin] ?? '')) {
      known[origin] = hlc;
      changed = true;
    }
  }
  if (!changed && applied === 0) return;
  await tx.execute(
    `INSERT INTO sync_peers (device_id, vv, imports, last_import_at) VALUES (?, ?, 1, ?)
     ON CONFLICT (device_id) DO UPDATE SET vv = excluded.vv, imports = imports + 1, last_import_at = excluded.last_import_at`,
    [from, JSON.stringify(known), now],
  );
  await touchDevice(tx, from, now);
}

/** Verifies, decrypts and applies a changeset (idempotent), or quarantines it for a newer schema. */
export async function importChanges(s: SyncSession, me: Identity, bytes: Uint8Array): Promise<ImportResult> {
  const cs = parseChangeset(bytes);
  const h = cs.header;
  if (!DEVICE_ID.test(h.from)) throw new AicoDataError('CORRUPT', 'not a valid sync changeset: sender id');
  if (h.from === me.deviceId) throw invalidArgument('this changeset was exported by this device');
  // Who may send: members of the signed registry (strict, monotone revocation), never the LWW columns.
  const trust = await loadTrust(s.sql, me);
  if (trust.revoked.has(h.from)) throw untrusted(`changeset from revoked device ${h.from}`, { deviceId: h.from });
  const member = trust.members.get(h.from);
  if (!member?.kex) throw untrusted(`changeset from unknown device ${h.from}`, { deviceId: h.from });
  if (trust.revoked.has(me.deviceId)) throw untrusted('this device was revoked: it can no longer sync');
  if (!verifyBytes(member.sign, cs.signed, cs.signature)) throw untrusted(`changeset signature of device ${h.from} is wrong`, { deviceId: h.from });
  const base = { from: h.from, changesetId: h.id, applied: 0, duplicates: 0, rowsWritten: 0, pending: 0, conflicts: 0, rejected: [] as AicoDataError[] };
  if (h.sv > s.schemaVersion) {
    await quarantine(s.sql, h, bytes);
    return { status: 'quarantined', ...base };
  }
  const held = await keyById(s.sql, s.sealer, h.keyId);
  const key = held ?? unwrapKey(me, h, member.kex);
  // Bounded inflation (MAX_BODY_BYTES), off the JS thread; CORRUPT when damaged or too large.
  const body = (await openBody(key.key, cs)) as ChangesetBody;
  if (body?.v !== 1 || !Array.isArray(body.changes) || typeof body.vv !== 'object' || typeof body.ranges !== 'object') {
    throw new AicoDataError('CORRUPT', 'not a valid sync changeset: body fields');
  }
  const { result, added } = await s.sql.transaction(async (tx) => {
    // Learned keys only open this sender's changesets; this device never seals under them.
    if (!held) await storeKey(tx, s.sealer, key, h.from);
    // Signed registry operations first: a revocation they carry applies to this very changeset.
    const after = await mergeRegistry(tx, me, trust, (body as { registry?: unknown }).registry);
    const dropped = body.changes.filter((c) => Array.isArray(c) && typeof c[1] === 'string' && after.revoked.has(c[1]));
    const changes = dropped.length ? body.changes.filter((c) => !dropped.includes(c)) : body.changes;
    // Each change is checked alone: a malformed or far-future one is refused, the rest applies.
    const r = await applyChanges(tx, me.deviceId, changes, h.from);
    if (dropped.length) {
      r.rejected.push({
        hlc: null,
        origin: null,
        error: untrusted(`${dropped.length} changes of revoked devices were refused`, { origins: [...new Set(dropped.map((c) => c[1]))] }),
      });
    }
    await receiveClock(tx, r.maxHlc);
    // Only changes held now advance the vector, never a range claimed without them.
    await advanceVector(tx, me.deviceId, body.ranges, r.held, r.rejected);
    const now = new Date().toISOString();
    await notePeer(tx, h.from, body.vv, r.applied, now);
    await projectRevocations(tx, after);
    return { result: r, added: await recordConflicts(tx, me.deviceId, r.conflicts, now) };
  });
  await publishConflicts(s.options, me.deviceId, added);
  return {
    status: 'applied',
    ...base,
    applied: result.applied,
    duplicates: result.duplicates,
    rowsWritten: result.rowsWritten,
    pending: result.pending,
    conflicts: added.length,
    rejected: result.rejected.map((x) => x.error),
  };
}
