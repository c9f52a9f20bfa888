/**
 * `data.sync`: federated sync between the user's own devices. See `src/sync/README.md` for the
 * protocol; this class wires identity, pairing, the change log, changesets and transports to
 * one data folder.
 */
import { randomUUID } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { AicoDataError, invalidArgument, isAicoError } from '../errors.js';
import type { SqlExecutor, SqlStore, SqlValue } from '../stores/sql/index.js';
import { syncImageSql } from '../schema/core/sync.js';
import { applyChanges, sameImage, upsertImage, type DetectedConflict } from './apply.js';
import type { WireChange } from './wire.js';
import { advanceVector, collectChanges, ownVector, peerVector, type ChangesetBody, type VersionVector } from './collect.js';
import { b64u, decrypt, encrypt, fromB64u, pairwiseKey, randomId, rawPrivate, signBytes, usableKexKey, verifyBytes } from './crypto.js';
import { bodyAad, encodeChangeset, openBody, parseChangeset, type ChangesetHeader } from './envelope.js';
import { isHlc, receiveClock } from './hlc.js';
import { createIdentity, loadIdentity, type Identity, type Sealer } from './identity.js';
import { currentKey, keyById, retireOwnKeys, storeKey, type SyncKey } from './keys.js';
import {
  commitment,
  decodeAnswer,
  decodeConfirm,
  decodeOffer,
  decodeReveal,
  encodeAnswer,
  encodeConfirm,
  encodeOffer,
  encodeReveal,
  newNonce,
  offerHash,
  PAIRING_TTL_MS,
  payloadKind,
  rejected,
  sameCode,
  sasCode,
  signPublicOf,
  transcriptHash,
  type Transcript,
} from './pairing.js';
import { addOwnOp, isRevocationStamp, loadTrust, mergeOps, ownCard, wireOps, type SignedCard, type Trust } from './registry.js';
import {
  CRITICALITY,
  DEFAULT_POLICIES,
  LOCAL_ONLY,
  parseImage,
  REQUIRED_TABLES,
  specOf,
  SYNC_MODES,
  SYNC_TABLES,
  type DeviceSyncPolicy,
  type SyncMode,
} from './tables.js';
import type { SyncTransport } from './transports/types.js';
import { ZmqTransport } from './transports/zmq.js';

/** Topic published when a diverging edit is recorded in the conflict ledger. */
export const CONFLICT_TOPIC = 'sync/conflict/detected/v1';

/** Components whose versions shape the synced rows: their sum is the sync schema version. */
const SCHEMA_COMPONENTS = ['system_config', 'users', 'user_preferences', 'conversations', 'memories', 'devices', 'sync'];

/** Options of the sync facade. */
export interface SyncOptions {
  /**
   * Called after commit for each new conflict with `sync/conflict/detected/v1` and ids only
   * (no content): plug a `MessageBus.publish` here. Errors it throws are ignored.
   */
  readonly publish?: (topic: string, payload: Readonly<Record<string, unknown>>) => unknown;
  /** Pending `batch` changes that make a sync due (default 100). */
  readonly batchSize?: number;
  /** Receives warnings (a device skipped for an unusable registry key...), ids and codes only. Default: `console.warn`. */
  readonly logger?: { warn(message: string, details: Readonly<Record<string, unknown>>): void };
  /** Wall clock in ms for pairing expiry (default `Date.now`); tests inject one instead of sleeping. */
  readonly now?: () => number;
}

/**
 * One step of pairing (see `src/sync/pairing.ts`). On the new device: `createPairingOffer` ->
 * `completePairing(answer)` gives `step: 'reveal'` with the code to show -> `completePairing(confirm)`
 * gives `step: 'done'`. On the trusted device: `pair(offer)` gives `step: 'answer'` ->
 * `pair(reveal, code)` with the code the new device shows gives `step: 'confirm'`.
 */
export interface PairingStep {
  readonly step: 'answer' | 'reveal' | 'confirm' | 'done';
  /** The payload to carry to the other device (none after `done`). */
  readonly payload?: string;
  /** The 6-digit code (from `reveal` on). */
  readonly code?: string;
  /** The other device (at `confirm` and `done`; at `reveal` as announced, not yet trusted). */
  readonly device?: SyncDevice | { readonly id: string; readonly name: string };
}

/** How this device describes itself to its peers. */
export interface EnableOptions {
  readonly name?: string;
  readonly type?: string;
  readonly platform?: string;
}

/** A device of the registry. */
export interface SyncDevice {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly platform: string;
  readonly trustLevel: string;
  readonly self: boolean;
  readonly revokedAt: string | null;
  readonly lastSeenAt: string | null;
  readonly signPublicKey: Buffer;
  readonly kexPublicKey: Buffer | null;
}

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

/** Options of {@link SyncService.exportChanges}. */
export interface ExportOptions {
  /** Also send tables whose policy is `on_demand` (default false). */
  readonly onDemand?: boolean;
}

/** A peer reachable over a transport. */
export interface SyncPeer {
  readonly deviceId: string;
  readonly transport: SyncTransport;
}

/** What one {@link SyncService.syncWith} round did. */
export interface SyncRound {
  readonly sentBytes: number;
  readonly received: number;
  readonly results: ImportResult[];
  readonly errors: AicoDataError[];
}

/** A conflict ledger entry. */
export interface SyncConflict {
  readonly id: string;
  readonly table: string;
  readonly rowId: string;
  readonly a: { readonly hlc: string; readonly row: Record<string, SqlValue> | null };
  readonly b: { readonly hlc: string; readonly row: Record<string, SqlValue> | null };
  readonly detectedBy: string;
  readonly detectedAt: string;
  readonly status: 'open' | 'resolved';
  readonly resolution: string | null;
}

/** How to resolve a conflict: keep one version, keep both (the other as a new row), or merge fields. */
export type Resolution = { readonly keep: 'a' | 'b' | 'both' } | { readonly merge: Readonly<Record<string, SqlValue>> };

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

interface DeviceRow {
  id: string;
  name: string;
  type: string;
  platform: string;
  trust_level: string;
  revoked_at: string | null;
  last_seen_at: string | null;
  public_key: Uint8Array;
  kex_public_key: Uint8Array | null;
}

const DEVICE_ID = /^[0-9a-f]{32}$/;

function checkDeviceId(id: unknown, what = 'deviceId'): string {
  if (typeof id !== 'string' || !DEVICE_ID.test(id)) throw invalidArgument(`${what} must be a device id (32 hex characters)`);
  return id;
}

const consoleLogger = { warn: (message: string, details: Readonly<Record<string, unknown>>) => console.warn(`[aico-data] ${message}`, details) };

function untrusted(message: string, details?: Record<string, unknown>): AicoDataError {
  return new AicoDataError('SYNC_UNTRUSTED', message, details);
}

function decodeRow(text: string | null): Record<string, SqlValue> | null {
  if (text === null) return null;
  const img = parseImage(text);
  const out: Record<string, SqlValue> = {};
  for (const [k, v] of Object.entries(img)) {
    out[k] = Array.isArray(v) ? (v[0] === 'b' ? Buffer.from(String(v[1]), 'hex') : Number(v[1])) : (v as SqlValue);
  }
  return out;
}

function wrapAad(key: SyncKey | { keyId: string }, from: string, to: string): Buffer {
  return Buffer.from(`aico-sync/wrap/v1|${key.keyId}|${from}|${to}`);
}

/** The sync facade of one data folder (`data.sync`). */
export class SyncService {
  readonly #sql: SqlStore;
  readonly #sealer: Sealer;
  readonly #options: SyncOptions;
  #identity: Identity | undefined;
  #schemaVersion = 0;
  #ready: Promise<void> | undefined;
  #closed = false;
  #quarantineChecked = false;
  readonly #transports = new Set<SyncTransport>();

  /** @internal Use `data.sync`. */
  constructor(sql: SqlStore, sealer: Sealer, options: SyncOptions = {}) {
    this.#sql = sql;
    this.#sealer = sealer;
    this.#options = options;
  }

  // ---- lifecycle ----

  async #init(): Promise<void> {
    if (this.#closed) throw new AicoDataError('CLOSED', 'the data layer was closed');
    this.#ready ??= (async () => {
      const rows = await this.#sql.query<{ name: string; current_version: number }>(
        `SELECT name, current_version FROM _aico_schema_metadata WHERE name IN (${SCHEMA_COMPONENTS.map(() => '?').join(', ')})`,
        SCHEMA_COMPONENTS,
      );
      this.#schemaVersion = rows.reduce((n, r) => n + Number(r.current_version), 0);
      await this.#sql.execute(`UPDATE sync_clock SET schema_version = ? WHERE id = 1 AND schema_version != ?`, [this.#schemaVersion, this.#schemaVersion]);
      this.#identity = await loadIdentity(this.#sql, this.#sealer);
      if (this.#identity) await this.#ensureRegistry(this.#identity);
    })();
    try {
      await this.#ready;
    } catch (e) {
      this.#ready = undefined;
      throw e;
    }
    // Once per open: changesets quarantined for a newer schema apply if this folder caught up.
    if (this.#identity && !this.#quarantineChecked) {
      this.#quarantineChecked = true;
      await this.retryQuarantined().catch(() => undefined);
    }
  }

  async #me(): Promise<Identity> {
    await this.#init();
    if (!this.#identity) throw new AicoDataError('NOT_FOUND', 'sync is not enabled on this device', undefined, { hint: 'call data.sync.enable() first', cliHint: 'run `aico-data sync enable` first' });
    return this.#identity;
  }

  /**
   * Enables sync on this folder (idempotent): creates the device identity (keys sealed under
   * the data key), records this device in the registry as owner, and snapshots the existing
   * rows of the synced tables into the change log so the first peer receives them.
   */
  async enable(options: EnableOptions = {}): Promise<SyncDevice> {
    await this.#init();
    const name = options.name ?? 'this device';
    const type = options.type ?? 'other';
    const platform = options.platform ?? process.platform;
    for (const [k, v] of Object.entries({ name, type, platform })) {
      if (typeof v !== 'string' || v.trim() === '' || v.length > 200) throw invalidArgument(`${k} must be a non-empty string of at most 200 characters`);
    }
    if (!this.#identity) {
      this.#identity = await this.#sql.transaction(async (tx) => {
        const again = await loadIdentity(tx, this.#sealer);
        if (again) return again;
        const id = await createIdentity(tx, this.#sealer);
        const clock = await tx.queryOne<{ wall: number; counter: number }>(`SELECT wall, counter FROM sync_clock WHERE id = 1`);
        const wall = Math.max(Date.now(), Number(clock!.wall) + 1);
        let n = 0;
        for (const spec of SYNC_TABLES) {
          const r = await tx.execute(
            `INSERT INTO sync_changes (hlc, origin, tbl, pk, op, base, cols, data, schema_version)
             SELECT printf('%015d.%05d.%s', :wall + ((:n + rn) / 100000), (:n + rn) % 100000, :dev), :dev, '${spec.table}', t.${spec.pk}, 'I', NULL, NULL, ${syncImageSql(spec, 't')}, :sv
             FROM (SELECT *, row_number() OVER () AS rn FROM ${spec.table}) t`,
            { wall, n, dev: id.deviceId, sv: this.#schemaVersion },
          );
          n += r.changes + 1;
        }
        await tx.execute(
          `INSERT INTO sync_heads (tbl, pk, hlc) SELECT tbl, pk, hlc FROM sync_changes WHERE tbl IN (${SYNC_TABLES.filter((s) => s.kind === 'versioned').map((s) => `'${s.table}'`).join(', ')})`,
        );
        await tx.execute(`UPDATE sync_clock SET device = ?, wall = ?, counter = ?, capture = 1, schema_version = ? WHERE id = 1`, [
          id.deviceId,
          wall + Math.floor(n / 100000),
          n % 100000,
          this.#schemaVersion,
        ]);
        for (const [tbl, mode] of Object.entries(DEFAULT_POLICIES)) {
          await tx.execute(`INSERT OR IGNORE INTO sync_policies (tbl, mode) VALUES (?, ?)`, [tbl, mode]);
        }
        await tx.execute(
          `INSERT INTO devices (id, name, type, platform, public_key, kex_public_key, trust_level) VALUES (?, ?, ?, ?, ?, ?, 'owner')`,
          [id.deviceId, name, type, platform, id.signPublic, id.kexPublic],
        );
        return id;
      });
      await this.#ensureRegistry(this.#identity);
    }
    return (await this.devices()).find((d) => d.self)!;
  }

  /** True once {@link enable} ran on this folder. */
  async enabled(): Promise<boolean> {
    await this.#init();
    return this.#identity !== undefined;
  }

  /** This device's id (public: derived from its signing key). */
  async deviceId(): Promise<string> {
    return (await this.#me()).deviceId;
  }

  /** @internal Closes transports opened through {@link zmqTransport}. Called by `DataLayer.close`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#transports) await t.close().catch(() => undefined);
    this.#transports.clear();
  }

  // ---- devices and pairing ----

  /** The device registry (this device included, `self: true`). */
  async devices(): Promise<SyncDevice[]> {
    const me = await this.#me();
    const rows = await this.#sql.query<DeviceRow>(
      `SELECT id, name, type, platform, trust_level, revoked_at, last_seen_at, public_key, kex_public_key FROM devices ORDER BY created_at, id`,
    );
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      type: r.type,
      platform: r.platform,
      trustLevel: r.trust_level,
      self: r.id === me.deviceId,
      revokedAt: r.revoked_at,
      lastSeenAt: r.last_seen_at,
      signPublicKey: Buffer.from(r.public_key),
      kexPublicKey: r.kex_public_key ? Buffer.from(r.kex_public_key) : null,
    }));
  }

  #now(): number {
    return this.#options.now?.() ?? Date.now();
  }

  async #ownCard(sql: SqlExecutor, me: Identity): Promise<SignedCard> {
    const r = await sql.queryOne<DeviceRow>(`SELECT name, type, platform FROM devices WHERE id = ?`, [me.deviceId]);
    return ownCard(me, { name: r?.name ?? 'device', type: r?.type ?? 'other', platform: r?.platform ?? process.platform });
  }

  /**
   * Makes sure the signed registry holds this device's own card. A folder paired before the
   * signed registry (`sync` schema version 4) vouches, once, for what its registry trusted then:
   * any device with a non-null `revoked_at` (even `''`) counts as revoked.
   */
  async #ensureRegistry(me: Identity): Promise<void> {
    const has = await this.#sql.queryOne(`SELECT 1 AS ok FROM sync_registry_ops WHERE kind = 'add' AND subject = ? AND signer = ?`, [me.deviceId, me.deviceId]);
    if (has) return;
    await this.#sql.transaction(async (tx) => {
      const legacy = Number((await tx.queryOne<{ n: number }>(`SELECT count(*) AS n FROM sync_registry_ops`))?.n ?? 0) === 0;
      await addOwnOp(tx, me, 'add', me.deviceId, await this.#ownCard(tx, me));
      if (!legacy) return;
      for (const d of await tx.query<DeviceRow>(`SELECT id, name, type, platform, public_key, kex_public_key, revoked_at FROM devices WHERE id != ?`, [me.deviceId])) {
        if (d.revoked_at !== null) {
          await addOwnOp(tx, me, 'revoke', d.id, undefined, isRevocationStamp(d.revoked_at) ? d.revoked_at : undefined);
        } else if (d.public_key && d.kex_public_key && d.kex_public_key.length === 32 && d.public_key.length === 32) {
          const card = { id: d.id, name: d.name, type: d.type, platform: d.platform, sign: b64u(d.public_key), kex: b64u(d.kex_public_key) };
          await addOwnOp(tx, me, 'add', d.id, card);
        }
      }
    });
  }

  /**
   * A revocation written on this device by SQL or the device repository (`revoked_at` set by a
   * local change) is signed here, and rotates the own key: only local changes count, never a
   * remote device's edit of the synced column.
   */
  async #localRevocations(tx: SqlExecutor, me: Identity, trust: Trust): Promise<Trust> {
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
  async #mergeRegistry(tx: SqlExecutor, me: Identity, before: Trust, ops: unknown): Promise<Trust> {
    if ((await mergeOps(tx, me, ops)) === 0) return before;
    const after = await loadTrust(tx, me);
    if ([...after.revoked].some((id) => !before.revoked.has(id))) await retireOwnKeys(tx, me.deviceId);
    return after;
  }

  /**
   * Shows every revocation of the signed registry in the display column `devices.revoked_at`
   * when the synced value is missing or not a date (`''` planted by the revoked device), without
   * capture (a local correction, not a change to relay).
   */
  async #projectRevocations(tx: SqlExecutor, trust: Trust): Promise<void> {
    for (const [id, at] of trust.revokedAt) {
      const d = await tx.queryOne<{ r: unknown }>(`SELECT revoked_at AS r FROM devices WHERE id = ?`, [id]);
      if (!d || isRevocationStamp(d.r)) continue;
      await tx.execute(`UPDATE sync_clock SET applying = 1 WHERE id = 1`);
      await tx.execute(`UPDATE devices SET revoked_at = ? WHERE id = ?`, [isRevocationStamp(at) ? at : new Date().toISOString(), id]);
      await tx.execute(`UPDATE sync_clock SET applying = 0 WHERE id = 1`);
    }
  }

  async #pending(key: string): Promise<{ raw: string; st: Record<string, unknown> } | undefined> {
    const row = await this.#sql.queryOne<{ offer: string }>(`SELECT offer FROM sync_pairing WHERE nonce = ?`, [key]);
    if (!row) return undefined;
    try {
      return { raw: row.offer, st: JSON.parse(row.offer) as Record<string, unknown> };
    } catch {
      return undefined;
    }
  }

  /** Moves a session to its next stage, once (compare-and-set): a second use finds it gone. */
  async #advance(key: string, from: { raw: string }, next: Record<string, unknown>, tx: SqlExecutor = this.#sql): Promise<void> {
    const r = await tx.execute(`UPDATE sync_pairing SET offer = ? WHERE nonce = ? AND offer = ?`, [JSON.stringify(next), key, from.raw]);
    if (r.changes === 0) throw rejected('this pairing session was already used');
  }

  async #trustCard(tx: SqlExecutor, me: Identity, c: SignedCard): Promise<void> {
    await tx.execute(
      `INSERT INTO devices (id, name, type, platform, public_key, kex_public_key, trust_level) VALUES (?, ?, ?, ?, ?, ?, 'trusted')
       ON CONFLICT (id) DO UPDATE SET trust_level = 'trusted'`,
      [c.id, c.name, c.type, c.platform, fromB64u(c.sign, 'sign'), fromB64u(c.kex, 'kex')],
    );
    await addOwnOp(tx, me, 'add', c.id, c);
  }

  /**
   * Step 1, on the new device: a pairing offer to carry to a trusted device. It commits to this
   * device's card and a secret nonce; no code exists yet (the code depends on both devices'
   * nonces, so nobody can choose it). Expires after 10 minutes.
   */
  async createPairingOffer(): Promise<{ payload: string; expiresAt: string }> {
    const me = await this.#me();
    const s = randomId(16);
    const nJ = newNonce();
    const card = await this.#ownCard(this.#sql, me);
    const exp = this.#now() + PAIRING_TTL_MS;
    const payload = encodeOffer(card, s, nJ, exp);
    await this.#sql.execute(`INSERT INTO sync_pairing (nonce, offer) VALUES (?, ?)`, [`j:${s}`, JSON.stringify({ stage: 'offered', nJ, card, exp, offer: offerHash(payload) })]);
    return { payload, expiresAt: new Date(exp).toISOString() };
  }

  /**
   * On the trusted device. With an offer (step 2): answers it with this device's card and a
   * fresh nonce (`step: 'answer'`). With the new device's reveal and the `code` it shows (step
   * 4): checks the commitment and the code; on a match the device is trusted and the
   * confirmation to carry back is returned (`step: 'confirm'`). A wrong code, an expired or a
   * used session gives `SYNC_PAIRING_REJECTED`, and ends the session (one guess).
   */
  async pair(payload: string, code?: string): Promise<PairingStep> {
    const me = await this.#me();
    const kind = payloadKind(payload);
    if (kind === 'offer') return this.#answer(me, payload);
    if (kind === 'reveal') return this.#confirm(me, payload, code);
    throw rejected('pair takes an offer (AICO-PAIR2:...) or a reveal (AICO-PAIRR2:...)');
  }

  async #answer(me: Identity, payload: string): Promise<PairingStep> {
    const offer = decodeOffer(payload);
    if (offer.card.id === me.deviceId) throw rejected('a device cannot pair with itself');
    // A low-order or malformed X25519 key would break every later key wrap for this device.
    if (!usableKexKey(me.kexPrivate, fromB64u(offer.card.kex, 'kex'))) throw rejected('the offer carries an unusable X25519 key');
    const now = this.#now();
    if (offer.exp <= now) throw rejected('the offer expired: make a new one', { expiredAt: new Date(offer.exp).toISOString() });
    if ((await loadTrust(this.#sql, me)).revoked.has(offer.card.id)) throw rejected('this device was revoked; it must reset its sync identity', { deviceId: offer.card.id });
    const nA = newNonce();
    const approver = await this.#ownCard(this.#sql, me);
    const st = { stage: 'answered', joiner: offer.card, commit: offer.commit, nA, approver, exp: now + PAIRING_TTL_MS };
    // One answer per offer, ever: a replayed offer finds its session taken.
    const r = await this.#sql.execute(`INSERT OR IGNORE INTO sync_pairing (nonce, offer) VALUES (?, ?)`, [`a:${offer.s}`, JSON.stringify(st)]);
    if (r.changes === 0) throw rejected('this offer was already answered: make a new one');
    return { step: 'answer', payload: encodeAnswer(me, approver, offer.s, nA, payload), device: { id: offer.card.id, name: offer.card.name } };
  }

  async #confirm(me: Identity, payload: string, code: string | undefined): Promise<PairingStep> {
    const rv = decodeReveal(payload);
    if (typeof code !== 'string' || !/^\d{6}$/.test(code.trim())) throw invalidArgument('type the 6-digit code the new device shows');
    const key = `a:${rv.s}`;
    const p = await this.#pending(key);
    if (!p || p.st.stage !== 'answered') throw rejected(p ? 'this pairing session was already used' : 'no pairing session of this device matches the reveal');
    // Burnt before anything is checked: whatever happens below, the session gives no second guess.
    await this.#advance(key, p, { stage: 'used' });
    const st = p.st as { joiner: SignedCard; commit: string; nA: string; approver: SignedCard; exp: number };
    if (this.#now() > st.exp) throw rejected('the pairing session expired: start again');
    if (commitment(rv.s, st.joiner, rv.nJ) !== st.commit) throw rejected('the reveal does not match the offer it committed to');
    const t: Transcript = { s: rv.s, joiner: st.joiner, approver: st.approver, nA: st.nA, nJ: rv.nJ };
    if (!sameCode(code, sasCode(t))) throw rejected('the code does not match (compare the codes shown on both devices); start again');
    await this.#sql.transaction(async (tx) => {
      if ((await loadTrust(tx, me)).revoked.has(st.joiner.id)) throw rejected('this device was revoked; it must reset its sync identity', { deviceId: st.joiner.id });
      await this.#trustCard(tx, me, st.joiner);
    });
    const device = (await this.devices()).find((d) => d.id === st.joiner.id)!;
    return { step: 'confirm', payload: encodeConfirm(me, rv.s, transcriptHash(t)), code: sasCode(t), device };
  }

  /**
   * On the new device. With the answer (step 3): returns the reveal to carry back and the code
   * to show (`step: 'reveal'`); type that code on the trusted device. With the confirmation
   * (step 5): trusts the approving device (`step: 'done'`), but only if the confirmation is
   * signed by the very key bound into the code, for this device's own pending, unexpired session.
   */
  async completePairing(payload: string): Promise<PairingStep> {
    const me = await this.#me();
    const kind = payloadKind(payload);
    if (kind === 'answer') return this.#reveal(me, payload);
    if (kind === 'confirm') return this.#complete(me, payload);
    throw rejected('completePairing takes an answer (AICO-PAIRA2:...) or a confirmation (AICO-PAIRC2:...)');
  }

  async #reveal(me: Identity, payload: string): Promise<PairingStep> {
    const ans = decodeAnswer(payload);
    const key = `j:${ans.s}`;
    const p = await this.#pending(key);
    if (!p || p.st.stage !== 'offered') throw rejected(p ? 'this pairing session was already used' : 'no pending offer of this device matches the answer');
    const st = p.st as { nJ: string; card: SignedCard; exp: number; offer: string };
    if (this.#now() > st.exp) {
      await this.#advance(key, p, { stage: 'expired' });
      throw rejected('the offer expired: make a new one');
    }
    if (ans.card.id === me.deviceId) throw rejected('a device cannot pair with itself');
    if (!usableKexKey(me.kexPrivate, fromB64u(ans.card.kex, 'kex'))) throw rejected('the answer carries an unusable X25519 key');
    if (ans.offer !== st.offer) throw rejected('the answer is for another offer');
    await this.#advance(key, p, { stage: 'revealed', nJ: st.nJ, card: st.card, exp: st.exp, approver: ans.card, nA: ans.nA });
    const t: Transcript = { s: ans.s, joiner: st.card, approver: ans.card, nA: ans.nA, nJ: st.nJ };
    return { step: 'reveal', payload: encodeReveal(ans.s, st.nJ), code: sasCode(t), device: { id: ans.card.id, name: ans.card.name } };
  }

  async #complete(me: Identity, payload: string): Promise<PairingStep> {
    const pre = decodeConfirm(payload);
    const key = `j:${pre.s}`;
    const p = await this.#pending(key);
    if (!p || p.st.stage !== 'revealed') throw rejected(p ? 'this pairing session was already used' : 'no pending pairing of this device matches the confirmation');
    const st = p.st as { nJ: string; card: SignedCard; exp: number; approver: SignedCard; nA: string };
    await this.#advance(key, p, { stage: 'used' });
    if (this.#now() > st.exp) throw rejected('the pairing session expired: start again');
    const t: Transcript = { s: pre.s, joiner: st.card, approver: st.approver, nA: st.nA, nJ: st.nJ };
    // Verified under the approver key this device bound into the code, not a key the payload carries.
    const c = decodeConfirm(payload, signPublicOf(st.approver));
    if (!c.verified || c.t !== transcriptHash(t)) throw rejected('the confirmation is not from the device whose code was compared');
    await this.#sql.transaction(async (tx) => {
      if ((await loadTrust(tx, me)).revoked.has(st.approver.id)) throw rejected('the approving device was revoked');
      await this.#trustCard(tx, me, st.approver);
    });
    return { step: 'done', code: sasCode(t), device: (await this.devices()).find((d) => d.id === st.approver.id)! };
  }

  /**
   * Revokes a device: a signed, monotone `revoke` operation joins the registry (it travels with
   * every changeset; peers then refuse the device's changesets and stop relaying its changes),
   * and this device retires its own sync keys, so every changeset it makes from now on is sealed
   * under a fresh key wrapped only for the remaining members. Idempotent.
   */
  async revoke(deviceId: string): Promise<void> {
    const me = await this.#me();
    checkDeviceId(deviceId);
    if (deviceId === me.deviceId) throw invalidArgument('a device cannot revoke itself');
    await this.#sql.transaction(async (tx) => {
      const row = await tx.queryOne<DeviceRow>(`SELECT revoked_at FROM devices WHERE id = ?`, [deviceId]);
      const trust = await loadTrust(tx, me);
      if (!row && !trust.members.has(deviceId) && !trust.revoked.has(deviceId)) throw new AicoDataError('NOT_FOUND', `no device ${deviceId} in the registry`, { deviceId });
      const now = new Date(this.#now()).toISOString();
      if (!trust.revoked.has(deviceId)) {
        await addOwnOp(tx, me, 'revoke', deviceId, undefined, now);
        await retireOwnKeys(tx, me.deviceId);
      }
      // The display column follows (and syncs); trust never reads it.
      if (row && !isRevocationStamp(row.revoked_at)) await tx.execute(`UPDATE devices SET revoked_at = ?, updated_at = ? WHERE id = ?`, [now, now, deviceId]);
      await currentKey(tx, this.#sealer, me.deviceId);
    });
  }

  // ---- changesets ----

  /**
   * A signed, encrypted, compressed changeset for `forDevice`: every change it does not hold
   * yet (by the version vector it last reported), or newer than `since` (a stamp for every
   * origin, or a vector). `SYNC_UNTRUSTED` for an unknown or revoked device.
   */
  async exportChanges(forDevice: string, since?: string | VersionVector, options: ExportOptions = {}): Promise<Buffer> {
    const me = await this.#me();
    checkDeviceId(forDevice, 'forDevice');
    if (forDevice === me.deviceId) throw invalidArgument('a device does not export to itself');
    if (since !== undefined && typeof since !== 'string' && (since === null || typeof since !== 'object')) throw invalidArgument('since must be a stamp or a version vector');
    if (typeof since === 'string' && since !== '' && !isHlc(since)) throw invalidArgument('since must be an HLC stamp');
    return this.#sql.transaction(async (tx) => {
      // Trust comes from the signed registry, never from the synced devices columns.
      const trust = await this.#localRevocations(tx, me, await loadTrust(tx, me));
      if (trust.revoked.has(me.deviceId)) throw untrusted('this device was revoked: it can no longer sync');
      const member = trust.members.get(forDevice);
      if (!member || !member.kex) {
        throw untrusted(`device ${forDevice} is ${trust.revoked.has(forDevice) ? 'revoked' : 'not a paired device'}`, { deviceId: forDevice });
      }
      const policyRow = await tx.queryOne<{ sync_policy: DeviceSyncPolicy }>(`SELECT sync_policy FROM devices WHERE id = ?`, [forDevice]);
      const peer = { kex_public_key: member.kex, sync_policy: policyRow?.sync_policy ?? ('full' as DeviceSyncPolicy) };
      let vv: VersionVector;
      if (since === undefined) vv = await peerVector(tx, forDevice);
      else if (typeof since === 'string') {
        vv = {};
        for (const r of await tx.query<{ origin: string }>(`SELECT DISTINCT origin FROM sync_changes`)) vv[r.origin] = since;
      } else vv = { ...since };
      const policies = await this.#policies(tx);
      const modes = new Set<SyncMode>(['immediate', 'batch', ...(options.onDemand ? (['on_demand'] as const) : [])]);
      const include = (t: string) =>
        REQUIRED_TABLES.has(t) ||
        (modes.has(policies[t] ?? 'immediate') && (peer.sync_policy === 'full' || (peer.sync_policy === 'selective' && CRITICALITY[t] === 'critical')));
      const collected = await collectChanges(tx, me.deviceId, forDevice, vv, include);
      // Changes of a revoked device are not relayed; the signed registry travels with every changeset.
      const ranges = Object.fromEntries(Object.entries(collected.ranges).filter(([o]) => !trust.revoked.has(o)));
      const body = { ...collected, ranges, changes: collected.changes.filter((c) => !trust.revoked.has(c[1])), registry: await wireOps(tx) };
      // Always an own key, rotated when a revocation became known (keys.ts): no peer steers it.
      const key = await currentKey(tx, this.#sealer, me.deviceId);
      const wraps: Record<string, string> = {};
      const members = [...trust.members.values()]
        .filter((m) => m.kex !== null)
        .sort((x, y) => (x.id < y.id ? -1 : 1))
        .map((m) => ({ id: m.id, kex_public_key: m.kex! }));
      // The recipient first: an unusable key of its own refuses this export (SYNC_UNTRUSTED).
      wraps[forDevice] = b64u(encrypt(pairwiseKey(me.kexPrivate, peer.kex_public_key, me.deviceId, forDevice), key.key, wrapAad(key, me.deviceId, forDevice)));
      for (const m of members) {
        if (m.id === forDevice) continue;
        try {
          wraps[m.id] = b64u(encrypt(pairwiseKey(me.kexPrivate, m.kex_public_key, me.deviceId, m.id), key.key, wrapAad(key, me.deviceId, m.id)));
        } catch (e) {
          // One device with a broken registry key must not stop sync for all the others.
          if (!isAicoError(e, 'SYNC_UNTRUSTED')) throw e;
          (this.#options.logger ?? consoleLogger).warn(`sync: device ${m.id} skipped in the key wraps: ${e.message}`, { deviceId: m.id, code: e.code, reason: e.details?.reason });
        }
      }
      const header: ChangesetHeader = { v: 1, id: randomId(), from: me.deviceId, to: forDevice, keyId: key.keyId, keyCreated: key.createdHlc, sv: this.#schemaVersion, wraps };
      const headerBytes = Buffer.from(JSON.stringify(header));
      const sealed = encrypt(key.key, deflateRawSync(Buffer.from(JSON.stringify(body))), bodyAad(headerBytes));
      const now = new Date().toISOString();
      await tx.execute(
        `INSERT INTO sync_peers (device_id, exports, last_export_at) VALUES (?, 1, ?)
         ON CONFLICT (device_id) DO UPDATE SET exports = exports + 1, last_export_at = excluded.last_export_at`,
        [forDevice, now],
      );
      return encodeChangeset(headerBytes, sealed, (signed) => signBytes(me.signPrivate, signed));
    });
  }

  /**
   * Verifies, decrypts and applies a changeset, in one transaction. Applying the same
   * changeset again changes nothing. `SYNC_UNTRUSTED`: unknown or revoked sender, or a bad
   * signature; `SYNC_KEY_UNAVAILABLE`: no key of this device opens it (e.g. it was revoked);
   * `CORRUPT`: damaged. A changeset from a newer schema is kept in quarantine
   * (`status: 'quarantined'`) and applied by {@link retryQuarantined} once this folder migrated.
   */
  async importChanges(bytes: Uint8Array): Promise<ImportResult> {
    const me = await this.#me();
    const cs = parseChangeset(bytes);
    const h = cs.header;
    if (!DEVICE_ID.test(h.from)) throw new AicoDataError('CORRUPT', 'not a valid sync changeset: sender id');
    if (h.from === me.deviceId) throw invalidArgument('this changeset was exported by this device');
    // Who may send: members of the signed registry (strict, monotone revocation), never the LWW columns.
    const trust = await loadTrust(this.#sql, me);
    if (trust.revoked.has(h.from)) throw untrusted(`changeset from revoked device ${h.from}`, { deviceId: h.from });
    const member = trust.members.get(h.from);
    if (!member || !member.kex) throw untrusted(`changeset from unknown device ${h.from}`, { deviceId: h.from });
    if (trust.revoked.has(me.deviceId)) throw untrusted('this device was revoked: it can no longer sync');
    const sender = { public_key: member.sign, kex_public_key: member.kex };
    if (!verifyBytes(sender.public_key, cs.signed, cs.signature)) throw untrusted(`changeset signature of device ${h.from} is wrong`, { deviceId: h.from });
    const base = { from: h.from, changesetId: h.id, applied: 0, duplicates: 0, rowsWritten: 0, pending: 0, conflicts: 0, rejected: [] as AicoDataError[] };
    if (h.sv > this.#schemaVersion) {
      await this.#sql.execute(`INSERT OR IGNORE INTO sync_quarantine (id, sender, schema_version, bytes) VALUES (?, ?, ?, ?)`, [h.id, h.from, h.sv, Buffer.from(bytes)]);
      return { status: 'quarantined', ...base };
    }
    let key = await keyById(this.#sql, this.#sealer, h.keyId);
    let learned = false;
    if (!key) {
      const wrap = h.wraps[me.deviceId];
      if (typeof wrap !== 'string') throw new AicoDataError('SYNC_KEY_UNAVAILABLE', `no sync key of this device opens changeset ${h.id}`, { keyId: h.keyId });
      const k = decrypt(pairwiseKey(me.kexPrivate, sender.kex_public_key, me.deviceId, h.from), fromB64u(wrap, 'wrap'), wrapAad(h, h.from, me.deviceId));
      key = { keyId: h.keyId, createdHlc: h.keyCreated, key: k };
      learned = true;
    }
    // Bounded inflation (MAX_BODY_BYTES), off the JS thread; CORRUPT when damaged or too large.
    const body = (await openBody(key.key, cs)) as ChangesetBody;
    if (body?.v !== 1 || !Array.isArray(body.changes) || typeof body.vv !== 'object' || typeof body.ranges !== 'object') {
      throw new AicoDataError('CORRUPT', 'not a valid sync changeset: body fields');
    }
    const newConflicts: DetectedConflict[] = [];
    const result = await this.#sql.transaction(async (tx) => {
      // Learned keys only open this sender's changesets; this device never seals under them.
      if (learned) await storeKey(tx, this.#sealer, key, h.from);
      // Signed registry operations first: a revocation they carry applies to this very changeset.
      const after = await this.#mergeRegistry(tx, me, trust, (body as { registry?: unknown }).registry);
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
      const known = await peerVector(tx, h.from);
      let changed = false;
      for (const [origin, hlc] of Object.entries(body.vv)) {
        if (isHlc(hlc) && hlc > (known[origin] ?? '')) {
          known[origin] = hlc;
          changed = true;
        }
      }
      const now = new Date().toISOString();
      if (changed || r.applied > 0) {
        await tx.execute(
          `INSERT INTO sync_peers (device_id, vv, imports, last_import_at) VALUES (?, ?, 1, ?)
           ON CONFLICT (device_id) DO UPDATE SET vv = excluded.vv, imports = imports + 1, last_import_at = excluded.last_import_at`,
          [h.from, JSON.stringify(known), now],
        );
        await tx.execute(`UPDATE devices SET last_seen_at = ? WHERE id = ?`, [now, h.from]);
      }
      await this.#projectRevocations(tx, after);
      // Recorded as local changes (capture is on again), so the ledger itself syncs.
      for (const c of r.conflicts) {
        const ins = await tx.execute(
          `INSERT OR IGNORE INTO sync_conflicts (id, tbl, row_id, hlc_a, data_a, hlc_b, data_b, detected_by, detected_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [c.id, c.table, c.rowId, c.hlcA, c.dataA, c.hlcB, c.dataB, me.deviceId, now],
        );
        if (ins.changes > 0) newConflicts.push(c);
      }
      return r;
    });
    for (const c of newConflicts) {
      try {
        await this.#options.publish?.(CONFLICT_TOPIC, { conflictId: c.id, table: c.table, rowId: c.rowId, versions: [c.hlcA, c.hlcB], deviceId: me.deviceId });
      } catch {
        // The ledger is the record; a bus failure must not undo an applied changeset.
      }
    }
    return {
      status: 'applied',
      ...base,
      applied: result.applied,
      duplicates: result.duplicates,
      rowsWritten: result.rowsWritten,
      pending: result.pending,
      conflicts: newConflicts.length,
      rejected: result.rejected.map((x) => x.error),
    };
  }

  /**
   * Applies quarantined changesets whose schema this folder now has (done once per open by the
   * first sync call, too). Returns how many.
   */
  async retryQuarantined(): Promise<number> {
    await this.#me();
    const rows = await this.#sql.query<{ id: string; bytes: Uint8Array }>(`SELECT id, bytes FROM sync_quarantine WHERE schema_version <= ? ORDER BY received_at`, [this.#schemaVersion]);
    let n = 0;
    for (const r of rows) {
      try {
        const res = await this.importChanges(r.bytes);
        if (res.status === 'applied') n++;
      } catch (e) {
        if (!isAicoError(e, 'SYNC_UNTRUSTED') && !isAicoError(e, 'CORRUPT')) throw e;
      }
      await this.#sql.execute(`DELETE FROM sync_quarantine WHERE id = ?`, [r.id]);
    }
    return n;
  }

  /**
   * One sync round with a peer: exports what it lacks and sends it, then imports whatever the
   * transport delivered. Failures of single incoming changesets are collected, not thrown.
   */
  async syncWith(peer: SyncPeer, options: ExportOptions = {}): Promise<SyncRound> {
    if (!peer || typeof peer !== 'object' || !peer.transport) throw invalidArgument('peer must be { deviceId, transport }');
    const bytes = await this.exportChanges(peer.deviceId, undefined, options);
    await peer.transport.send(peer.deviceId, bytes);
    const incoming = await peer.transport.receive();
    const results: ImportResult[] = [];
    const errors: AicoDataError[] = [];
    for (const b of incoming) {
      try {
        results.push(await this.importChanges(b));
      } catch (e) {
        if (!(e instanceof AicoDataError)) throw e;
        errors.push(e);
      }
    }
    return { sentBytes: bytes.length, received: incoming.length, results, errors };
  }

  /**
   * A ZeroMQ transport for this device on loopback or LAN: CURVE with the device's X25519 key
   * pair; peers' keys come from the registry. Closed with the data layer.
   */
  async zmqTransport(options: { bind?: string; sendTimeoutMs?: number } = {}): Promise<ZmqTransport> {
    const me = await this.#me();
    const t = await ZmqTransport.listen({
      ...(options.bind !== undefined ? { bind: options.bind } : {}),
      ...(options.sendTimeoutMs !== undefined ? { sendTimeoutMs: options.sendTimeoutMs } : {}),
      publicKey: me.kexPublic,
      secretKey: rawPrivate(me.kexPrivate),
      peerKey: async (id) => {
        const m = (await loadTrust(this.#sql, me)).members.get(id);
        // An unusable registry key (zero bytes, low order) is no CURVE key: refused as untrusted.
        return m?.kex && usableKexKey(me.kexPrivate, m.kex) ? Buffer.from(m.kex) : undefined;
      },
      clientAllowed: async (key) => [...(await loadTrust(this.#sql, me)).members.values()].some((m) => m.kex !== null && m.kex.equals(Buffer.from(key))),
    });
    this.#transports.add(t);
    return t;
  }

  // ---- policies ----

  async #policies(sql: SqlExecutor): Promise<Record<string, SyncMode>> {
    const out: Record<string, SyncMode> = { ...DEFAULT_POLICIES };
    for (const r of await sql.query<{ tbl: string; mode: SyncMode }>(`SELECT tbl, mode FROM sync_policies`)) out[r.tbl] = r.mode;
    return out;
  }

  /** The policy of every synced table. */
  async policies(): Promise<Record<string, SyncMode>> {
    await this.#init();
    return this.#policies(this.#sql);
  }

  /**
   * Sets when a table's changes travel: `immediate`, `batch` (due once `batchSize` are
   * pending), `on_demand` (only with `exportChanges(..., { onDemand: true })`) or `never` (not
   * captured at all). The registry and the conflict ledger always sync.
   */
  async setPolicy(table: string, mode: SyncMode): Promise<void> {
    await this.#init();
    if (!specOf(table)) throw invalidArgument(`${String(table)} is not a synced table (${SYNC_TABLES.map((s) => s.table).join(', ')})`);
    if (!SYNC_MODES.includes(mode)) throw invalidArgument(`mode must be one of ${SYNC_MODES.join(', ')}`);
    if (REQUIRED_TABLES.has(table) && mode !== 'immediate') throw invalidArgument(`${table} always syncs immediately`);
    await this.#sql.execute(`INSERT INTO sync_policies (tbl, mode) VALUES (?, ?) ON CONFLICT (tbl) DO UPDATE SET mode = excluded.mode, updated_at = excluded.updated_at`, [table, mode]);
  }

  /**
   * Sets what a device receives (the registry's `sync_policy`, synced to every device): `full`,
   * `selective` (the critical tables only: users, preferences, memories, registry, ledger) or
   * `none` (registry and ledger only). Narrowing never makes the device skip changes for good:
   * widening again sends what it missed.
   */
  async setDevicePolicy(deviceId: string, policy: DeviceSyncPolicy): Promise<void> {
    await this.#me();
    checkDeviceId(deviceId);
    if (policy !== 'full' && policy !== 'selective' && policy !== 'none') throw invalidArgument("policy must be 'full', 'selective' or 'none'");
    const r = await this.#sql.execute(`UPDATE devices SET sync_policy = ?, updated_at = ? WHERE id = ?`, [policy, new Date().toISOString(), deviceId]);
    if (r.changes === 0) throw new AicoDataError('NOT_FOUND', `no device ${deviceId} in the registry`, { deviceId });
  }

  // ---- conflicts ----

  /** The conflict ledger (open entries by default). */
  async conflicts(options: { status?: 'open' | 'resolved' | 'all' } = {}): Promise<SyncConflict[]> {
    await this.#init();
    const status = options.status ?? 'open';
    const rows = await this.#sql.query<Record<string, string | null>>(
      `SELECT * FROM sync_conflicts ${status === 'all' ? '' : 'WHERE status = ?'} ORDER BY hlc_b, id`,
      status === 'all' ? [] : [status],
    );
    return rows.map((r) => ({
      id: r.id!,
      table: r.tbl!,
      rowId: r.row_id!,
      a: { hlc: r.hlc_a!, row: decodeRow(r.data_a ?? null) },
      b: { hlc: r.hlc_b!, row: decodeRow(r.data_b ?? null) },
      detectedBy: r.detected_by!,
      detectedAt: r.detected_at!,
      status: r.status as 'open' | 'resolved',
      resolution: r.resolution ?? null,
    }));
  }

  /**
   * Resolves a conflict: `{ keep: 'a' }` / `{ keep: 'b' }` writes that version back,
   * `{ keep: 'both' }` keeps the current row and adds the other version as a new row,
   * `{ merge: { content: ... } }` writes the given columns over the current row. The outcome is
   * a normal local change (it syncs); the ledger entry is marked resolved everywhere.
   */
  async resolve(conflictId: string, resolution: Resolution): Promise<{ rowId: string; addedRowId?: string }> {
    await this.#me();
    if (typeof conflictId !== 'string') throw invalidArgument('conflictId must be a string');
    if (!resolution || typeof resolution !== 'object') throw invalidArgument('resolution must be { keep } or { merge }');
    return this.#sql.transaction(async (tx) => {
      const c = await tx.queryOne<Record<string, string | null>>(`SELECT * FROM sync_conflicts WHERE id = ?`, [conflictId]);
      if (!c) throw new AicoDataError('NOT_FOUND', `no conflict ${conflictId}`, { conflictId });
      if (c.status === 'resolved') throw new AicoDataError('CONFLICT', `conflict ${conflictId} is already resolved (${c.resolution})`, { conflictId });
      const spec = specOf(c.tbl!)!;
      const rowId = c.row_id!;
      let out: { rowId: string; addedRowId?: string } = { rowId };
      if ('merge' in resolution) {
        const entries = Object.entries(resolution.merge ?? {});
        const bad = entries.find(([k]) => !spec.columns.includes(k) || k === spec.pk);
        if (entries.length === 0 || bad) throw invalidArgument(`merge must name columns of ${spec.table} other than ${spec.pk}${bad ? ` (not: ${bad[0]})` : ''}`);
        const r = await tx.execute(`UPDATE ${spec.table} SET ${entries.map(([k]) => `${k} = ?`).join(', ')} WHERE ${spec.pk} = ?`, [...entries.map(([, v]) => v), rowId]);
        if (r.changes === 0) {
          const base = parseImage(c.data_b ?? c.data_a ?? '{}');
          const img = { ...base, [spec.pk]: rowId };
          await upsertImage(tx, spec, img);
          await tx.execute(`UPDATE ${spec.table} SET ${entries.map(([k]) => `${k} = ?`).join(', ')} WHERE ${spec.pk} = ?`, [...entries.map(([, v]) => v), rowId]);
        }
      } else if (resolution.keep === 'a' || resolution.keep === 'b') {
        const data = resolution.keep === 'a' ? c.data_a : c.data_b;
        if (data === null || data === undefined) await tx.execute(`DELETE FROM ${spec.table} WHERE ${spec.pk} = ?`, [rowId]);
        else await upsertImage(tx, spec, { ...parseImage(data), updated_at: new Date().toISOString() });
      } else if (resolution.keep === 'both') {
        const cur = await tx.queryOne<{ img: string }>(`SELECT ${syncImageSql(spec, 't')} AS img FROM ${spec.table} t WHERE t.${spec.pk} = ?`, [rowId]);
        const other = cur && c.data_a && sameImage(spec, cur.img, c.data_a) ? c.data_b : cur && c.data_b && sameImage(spec, cur.img, c.data_b) ? c.data_a : (c.data_a ?? c.data_b);
        if (other) {
          const addedRowId = randomUUID();
          await upsertImage(tx, spec, { ...parseImage(other), [spec.pk]: addedRowId });
          out = { rowId, addedRowId };
        }
      } else {
        throw invalidArgument("resolution must be { keep: 'a' | 'b' | 'both' } or { merge: { column: value } }");
      }
      const now = new Date().toISOString();
      await tx.execute(`UPDATE sync_conflicts SET status = 'resolved', resolution = ?, resolved_at = ? WHERE id = ?`, [
        JSON.stringify('merge' in resolution ? { merge: Object.keys(resolution.merge) } : resolution),
        now,
        conflictId,
      ]);
      return out;
    });
  }

  // ---- status ----

  /** What this device holds, owes its peers, and keeps aside. */
  async status(): Promise<SyncStatus> {
    await this.#init();
    const policies = await this.#policies(this.#sql);
    const one = async (sql: string, params: SqlValue[] = []) => Number((await this.#sql.queryOne<{ n: number }>(sql, params))?.n ?? 0);
    const base = {
      schemaVersion: this.#schemaVersion,
      quarantined: await one(`SELECT count(*) AS n FROM sync_quarantine`),
      rejectedChanges: await one(`SELECT count(*) AS n FROM sync_rejected_changes`),
      pendingRows: await one(`SELECT count(*) AS n FROM sync_pending_rows`),
      openConflicts: await one(`SELECT count(*) AS n FROM sync_conflicts WHERE status = 'open'`),
      policies,
      localOnly: LOCAL_ONLY,
    };
    if (!this.#identity) return { enabled: false, deviceId: null, changes: 0, devices: { trusted: 0, revoked: 0 }, peers: [], ...base };
    const self = this.#identity.deviceId;
    const batchSize = this.#options.batchSize ?? 100;
    const peers: SyncStatus['peers'][number][] = [];
    const devs = await this.#sql.query<DeviceRow & { last_import_at: string | null; last_export_at: string | null }>(
      `SELECT d.id, d.name, d.revoked_at, p.last_import_at, p.last_export_at FROM devices d LEFT JOIN sync_peers p ON p.device_id = d.id
       WHERE d.id != ? AND d.revoked_at IS NULL ORDER BY d.id`,
      [self],
    );
    for (const d of devs) {
      const vv = await peerVector(this.#sql, d.id);
      const counts = await this.#sql.query<{ tbl: string; n: number }>(
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
    return {
      enabled: true,
      deviceId: self,
      changes: await one(`SELECT count(*) AS n FROM sync_changes`),
      devices: {
        trusted: await one(`SELECT count(*) AS n FROM devices WHERE revoked_at IS NULL`),
        revoked: await one(`SELECT count(*) AS n FROM devices WHERE revoked_at IS NOT NULL`),
      },
      peers,
      ...base,
    };
  }

  /** This device's version vector: per origin, the stamp up to which it holds every change. */
  async versionVector(): Promise<VersionVector> {
    const me = await this.#me();
    return ownVector(this.#sql, me.deviceId);
  }
}
