/**
 * The trust registry: who belongs to the device group, with which keys, and who was revoked.
 *
 * It is not the synced `devices` table (last-writer-wins data any member could rewrite with raw
 * SQL in its own folder). It is a set of **signed operations** kept in `sync_registry_ops`
 * (local, never captured), relayed in every changeset body and verified on import:
 *
 * - `add`: signer vouches for a subject's card (id, Ed25519 key, X25519 key). A card carries the
 *   subject's own signature over its keys, so nobody but the subject can bind an X25519 key to it.
 * - `revoke`: signer revokes the subject. Monotone: no operation un-revokes.
 *
 * Trust is a pure function of the set of operations (so every device converges):
 *
 * 1. Signing keys are self-certifying (device id = hash of the key).
 * 2. `everTrusted`: reachable from this device through `add` operations.
 * 3. `revoked`: subjects of `revoke` operations signed by an ever-trusted device.
 * 4. `members`: reachable from this device through `add` operations whose signer is not revoked,
 *    minus the revoked. A device only vouched for by a revoked device is not a member.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { AicoDataError } from '../errors.js';
import type { SqlExecutor } from '../stores/sql/index.js';
import { b64u, deviceIdOf, fromB64u, signBytes, verifyBytes } from './crypto.js';
import type { Identity } from './identity.js';

/** A device's public description, signed by the device itself (`sig` over id and keys). */
export interface SignedCard {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly platform: string;
  readonly sign: string;
  readonly kex: string;
  /** The subject's signature over its keys; absent only on cards seeded from a pre-v4 registry. */
  readonly sig?: string;
}

export interface RegistryOpBody {
  readonly v: 1;
  readonly kind: 'add' | 'revoke';
  readonly subject: string;
  readonly signer: string;
  readonly card?: SignedCard;
  readonly at: string;
}

/** An operation as it travels: the exact signed text and its signature. */
export interface WireOp {
  readonly b: string;
  readonly s: string;
}

export interface Member {
  readonly id: string;
  readonly sign: Buffer;
  readonly kex: Buffer | null;
}

export interface Trust {
  /** Devices this one trusts (itself excluded), with their keys. */
  readonly members: ReadonlyMap<string, Member>;
  readonly revoked: ReadonlySet<string>;
  /** The ids of every device whose revocation is known, with when it was signed (informational). */
  readonly revokedAt: ReadonlyMap<string, string>;
}

/** At most this many operations are taken from one changeset (a group has a handful of devices). */
export const MAX_OPS_PER_CHANGESET = 1_000;

const DEVICE = /^[0-9a-f]{32}$/;

function cardSigText(id: string, sign: string, kex: string): Buffer {
  return Buffer.from(`aico-sync/card/v2|${id}|${sign}|${kex}`);
}

/** This device's card, signed by its own key. */
export function ownCard(me: Identity, info: { name: string; type: string; platform: string }): SignedCard {
  const sign = b64u(me.signPublic);
  const kex = b64u(me.kexPublic);
  return { id: me.deviceId, name: info.name, type: info.type, platform: info.platform, sign, kex, sig: b64u(signBytes(me.signPrivate, cardSigText(me.deviceId, sign, kex))) };
}

/** Checks a card's shape, its id against its key and (when `needSig`) its self-signature. Returns the keys. */
export function checkCard(c: unknown, needSig: boolean): { sign: Buffer; kex: Buffer; selfSigned: boolean } | undefined {
  if (c === null || typeof c !== 'object') return undefined;
  const o = c as Record<string, unknown>;
  for (const k of ['id', 'name', 'type', 'platform', 'sign', 'kex']) if (typeof o[k] !== 'string' || (o[k] as string).length > 400) return undefined;
  let sign: Buffer;
  let kex: Buffer;
  try {
    sign = fromB64u(o.sign, 'sign');
    kex = fromB64u(o.kex, 'kex');
  } catch {
    return undefined;
  }
  if (sign.length !== 32 || kex.length !== 32 || deviceIdOf(sign) !== o.id) return undefined;
  const selfSigned = typeof o.sig === 'string' && verifyBytes(sign, cardSigText(o.id as string, o.sign as string, o.kex as string), safeB64(o.sig));
  if (needSig && !selfSigned) return undefined;
  return { sign, kex, selfSigned };
}

function safeB64(s: unknown): Buffer {
  try {
    return fromB64u(s, 'signature');
  } catch {
    return Buffer.alloc(0);
  }
}

/** Signs an operation with this device's key. */
export function signOp(signPrivate: KeyObject, body: RegistryOpBody): WireOp {
  const b = JSON.stringify(body);
  return { b, s: b64u(signBytes(signPrivate, Buffer.from(`aico-sync/registry/v1|${b}`))) };
}

function opId(op: WireOp): string {
  return createHash('sha256').update(op.b).digest('hex').slice(0, 32);
}

function parseBody(b: unknown): RegistryOpBody | undefined {
  if (typeof b !== 'string' || b.length > 8192) return undefined;
  let o: unknown;
  try {
    o = JSON.parse(b);
  } catch {
    return undefined;
  }
  if (o === null || typeof o !== 'object') return undefined;
  const x = o as Record<string, unknown>;
  if (x.v !== 1 || (x.kind !== 'add' && x.kind !== 'revoke')) return undefined;
  if (typeof x.subject !== 'string' || !DEVICE.test(x.subject) || typeof x.signer !== 'string' || !DEVICE.test(x.signer) || typeof x.at !== 'string') return undefined;
  if (x.kind === 'add') {
    const card = x.card as Record<string, unknown> | undefined;
    if (!card || card.id !== x.subject || !checkCard(card, false)) return undefined;
  }
  return x as unknown as RegistryOpBody;
}

interface StoredOp {
  readonly id: string;
  readonly body: RegistryOpBody;
  readonly wire: WireOp;
}

async function loadOps(sql: SqlExecutor): Promise<StoredOp[]> {
  const rows = await sql.query<{ id: string; body: string; sig: string }>(`SELECT id, body, sig FROM sync_registry_ops ORDER BY id`);
  const out: StoredOp[] = [];
  for (const r of rows) {
    const body = parseBody(r.body);
    if (body) out.push({ id: r.id, body, wire: { b: r.body, s: r.sig } });
  }
  return out;
}

/** The trust a set of operations gives `self` (see the module comment). Pure. */
export function computeTrust(self: string, selfSign: Buffer, ops: readonly StoredOp[]): Trust {
  // 1. Signing keys: self-certifying, so any card naming the id gives the one right key.
  const signKeys = new Map<string, Buffer>([[self, selfSign]]);
  for (const o of ops) if (o.body.kind === 'add') signKeys.set(o.body.subject, fromB64u(o.body.card!.sign, 'sign'));
  const valid = ops.filter((o) => {
    const k = signKeys.get(o.body.signer);
    return k !== undefined && verifyBytes(k, Buffer.from(`aico-sync/registry/v1|${o.wire.b}`), safeB64(o.wire.s));
  });
  const adds = valid.filter((o) => o.body.kind === 'add');
  const reach = (skip: ReadonlySet<string>): Set<string> => {
    const set = new Set([self]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const a of adds) {
        if (set.has(a.body.signer) && !skip.has(a.body.signer) && !skip.has(a.body.subject) && !set.has(a.body.subject)) {
          set.add(a.body.subject);
          grew = true;
        }
      }
    }
    return set;
  };
  const ever = reach(new Set());
  const revokedAt = new Map<string, string>();
  for (const o of valid) {
    if (o.body.kind !== 'revoke' || !ever.has(o.body.signer)) continue;
    const prev = revokedAt.get(o.body.subject);
    if (prev === undefined || o.body.at < prev) revokedAt.set(o.body.subject, o.body.at);
  }
  const revoked = new Set(revokedAt.keys());
  const trusted = revoked.has(self) ? new Set<string>() : reach(revoked);
  const members = new Map<string, Member>();
  for (const id of trusted) {
    if (id === self) continue;
    // The X25519 key: a card the subject signed itself (nobody else can bind one), preferably one
    // a member vouched for at pairing (the subject cannot swap it later alone); pre-v4 cards last.
    let best: { kex: string; rank: number } | undefined;
    for (const a of adds) {
      if (a.body.subject !== id || !trusted.has(a.body.signer)) continue;
      const c = checkCard(a.body.card, false);
      if (!c) continue;
      const cand = { kex: a.body.card!.kex, rank: c.selfSigned ? (a.body.signer !== id ? 0 : 1) : 2 };
      if (!best || cand.rank < best.rank || (cand.rank === best.rank && cand.kex < best.kex)) best = cand;
    }
    members.set(id, { id, sign: signKeys.get(id)!, kex: best ? fromB64u(best.kex, 'kex') : null });
  }
  return { members, revoked, revokedAt };
}

/** The trust of this device now. */
export async function loadTrust(sql: SqlExecutor, me: Identity): Promise<Trust> {
  return computeTrust(me.deviceId, me.signPublic, await loadOps(sql));
}

/** Every operation held, to relay in a changeset. */
export async function wireOps(sql: SqlExecutor): Promise<WireOp[]> {
  return (await loadOps(sql)).map((o) => o.wire);
}

/** Stores an operation (idempotent). */
export async function storeOp(tx: SqlExecutor, op: WireOp): Promise<boolean> {
  const body = parseBody(op.b);
  if (!body) return false;
  const r = await tx.execute(`INSERT OR IGNORE INTO sync_registry_ops (id, kind, subject, signer, body, sig) VALUES (?, ?, ?, ?, ?, ?)`, [
    opId(op),
    body.kind,
    body.subject,
    body.signer,
    op.b,
    op.s,
  ]);
  return r.changes > 0;
}

/** Signs and stores an operation of this device. */
export async function addOwnOp(tx: SqlExecutor, me: Identity, kind: 'add' | 'revoke', subject: string, card?: SignedCard, at = new Date().toISOString()): Promise<void> {
  await storeOp(tx, signOp(me.signPrivate, { v: 1, kind, subject, signer: me.deviceId, ...(card ? { card } : {}), at }));
}

/**
 * Merges operations received in a changeset: malformed ones and ones whose signature does not
 * verify under a known key are dropped (they could never count). Returns how many were new.
 */
export async function mergeOps(tx: SqlExecutor, me: Identity, raw: unknown): Promise<number> {
  if (raw === undefined) return 0;
  if (!Array.isArray(raw)) throw new AicoDataError('CORRUPT', 'not a valid sync changeset: registry operations');
  const incoming: StoredOp[] = [];
  for (const x of raw.slice(0, MAX_OPS_PER_CHANGESET)) {
    if (x === null || typeof x !== 'object' || typeof (x as WireOp).b !== 'string' || typeof (x as WireOp).s !== 'string') continue;
    const body = parseBody((x as WireOp).b);
    if (body) incoming.push({ id: opId(x as WireOp), body, wire: { b: (x as WireOp).b, s: (x as WireOp).s } });
  }
  const signKeys = new Map<string, Buffer>([[me.deviceId, me.signPublic]]);
  for (const o of [...(await loadOps(tx)), ...incoming]) if (o.body.kind === 'add') signKeys.set(o.body.subject, fromB64u(o.body.card!.sign, 'sign'));
  let n = 0;
  for (const o of incoming) {
    const k = signKeys.get(o.body.signer);
    if (!k || !verifyBytes(k, Buffer.from(`aico-sync/registry/v1|${o.wire.b}`), safeB64(o.wire.s))) continue;
    if (await storeOp(tx, o.wire)) n++;
  }
  return n;
}

/** The strict revocation predicate of the display column: an ISO date, nothing else (`''`, `0` are not). */
export function isRevocationStamp(v: unknown): v is string {
  return typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v) && !Number.isNaN(Date.parse(v));
}

/** The registry's refusal: an unknown or revoked device, or a signature that does not verify. */
export function untrusted(message: string, details?: Record<string, unknown>): AicoDataError {
  return new AicoDataError('SYNC_UNTRUSTED', message, details);
}
