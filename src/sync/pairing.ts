/**
 * Pairing by commitment and short authentication string (SAS), as in Bluetooth numeric
 * comparison and ZRTP. J is the joining device, A the approving (already trusted) one; payloads
 * travel out of band (pasted, files, QR) over a channel the attacker may control.
 *
 * 1. J `offer`:   card_J, session s, commit = H(s, card_J, n_J)          (n_J kept secret)
 * 2. A `answer`:  card_A, n_A, H(offer)                                  (A has not seen n_J)
 * 3. J `reveal`:  n_J. J shows the code SAS(s, card_J, card_A, n_A, n_J)  (J has already seen n_A,
 *                 but committed to n_J before)
 * 4. A checks the commitment, computes the same code and compares it with the code the user
 *    types (the one J shows): equal, A trusts card_J and signs a `confirm` over the transcript.
 * 5. J accepts the confirm only under the key of card_A it bound into the code (never a key the
 *    confirm carries) and only for its pending, unexpired session: then J trusts card_A.
 *
 * Each party fixes its nonce before it sees the other's, so an attacker swapping a payload
 * cannot choose the code: it matches by chance only (1 in a million), and every mismatch ends
 * the session (no second guess). Sessions expire after {@link PAIRING_TTL_MS} and are used once.
 * Public keys only: no secret ever travels.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { AicoDataError } from '../errors.js';
import { b64u, fromB64u, randomId, signBytes, verifyBytes } from './crypto.js';
import type { Identity } from './identity.js';
import { checkCard, type SignedCard } from './registry.js';

/** How long a pairing session stays open (10 minutes). */
export const PAIRING_TTL_MS = 10 * 60 * 1000;

export const OFFER = 'AICO-PAIR2:';
export const ANSWER = 'AICO-PAIRA2:';
export const REVEAL = 'AICO-PAIRR2:';
export const CONFIRM = 'AICO-PAIRC2:';

export function rejected(why: string, details?: Record<string, unknown>): AicoDataError {
  return new AicoDataError('SYNC_PAIRING_REJECTED', `pairing rejected: ${why}`, details);
}

/** SHA-256 over length-prefixed parts (no two part lists encode alike). */
function h(...parts: string[]): Buffer {
  return createHash('sha256').update(parts.map((p) => `${p.length}:${p}|`).join('')).digest();
}

const digests = new WeakMap<SignedCard, string>();

function cardDigest(c: SignedCard): string {
  let d = digests.get(c);
  if (d === undefined) digests.set(c, (d = h('card', c.id, c.sign, c.kex, c.name, c.type, c.platform).toString('hex')));
  return d;
}

export function commitment(s: string, card: SignedCard, nJ: string): string {
  return h('aico-sync/pair/commit/v2', s, cardDigest(card), nJ).toString('hex');
}

export interface Transcript {
  readonly s: string;
  readonly joiner: SignedCard;
  readonly approver: SignedCard;
  readonly nA: string;
  readonly nJ: string;
}

/** The 6-digit code both devices show: from both cards and both nonces. */
export function sasCode(t: Transcript): string {
  return String(h('aico-sync/pair/sas/v2', t.s, cardDigest(t.joiner), cardDigest(t.approver), t.nA, t.nJ).readUInt32BE(0) % 1_000_000).padStart(6, '0');
}

export function transcriptHash(t: Transcript): string {
  return h('aico-sync/pair/transcript/v2', t.s, cardDigest(t.joiner), cardDigest(t.approver), t.nA, t.nJ).toString('hex');
}

/** Constant-time comparison of the typed code. */
export function sameCode(typed: unknown, expected: string): boolean {
  if (typeof typed !== 'string') return false;
  const a = Buffer.from(typed.trim());
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function encode(prefix: string, json: unknown, me?: Identity): string {
  const body = Buffer.from(JSON.stringify(json));
  return `${prefix}${b64u(body)}${me ? `.${b64u(signBytes(me.signPrivate, Buffer.concat([Buffer.from(prefix), body])))}` : ''}`;
}

function decode(payload: unknown, prefix: string): { json: Record<string, unknown>; body: Buffer; sig: Buffer | undefined } {
  if (typeof payload !== 'string' || !payload.startsWith(prefix) || payload.length > 16384) throw rejected(`not a ${prefix.slice(0, -1)} payload`);
  const [raw, sig] = payload.slice(prefix.length).split('.');
  try {
    const body = fromB64u(raw, 'payload');
    const json = JSON.parse(body.toString('utf8')) as unknown;
    if (json === null || typeof json !== 'object') throw new Error('not an object');
    return { json: json as Record<string, unknown>, body, sig: sig === undefined ? undefined : fromB64u(sig, 'signature') };
  } catch {
    throw rejected('the payload is damaged');
  }
}

/** Which kind of pairing payload this is. */
export function payloadKind(payload: unknown): 'offer' | 'answer' | 'reveal' | 'confirm' | undefined {
  if (typeof payload !== 'string') return undefined;
  if (payload.startsWith(OFFER)) return 'offer';
  if (payload.startsWith(ANSWER)) return 'answer';
  if (payload.startsWith(REVEAL)) return 'reveal';
  if (payload.startsWith(CONFIRM)) return 'confirm';
  return undefined;
}

const HEX = /^[0-9a-f]{32,64}$/;

function str(o: Record<string, unknown>, k: string): string {
  const v = o[k];
  if (typeof v !== 'string' || !HEX.test(v)) throw rejected(`field ${k} is missing`);
  return v;
}

function card(o: unknown): SignedCard {
  // Self-signed: the card's X25519 key is the one its owner chose.
  if (!checkCard(o, true)) throw rejected('the device card is damaged or not signed by its device');
  const c = o as SignedCard;
  return { id: c.id, name: c.name, type: c.type, platform: c.platform, sign: c.sign, kex: c.kex, sig: c.sig! };
}

export function signPublicOf(c: SignedCard): Buffer {
  return fromB64u(c.sign, 'sign');
}

// ---- 1. offer ----

export function newNonce(): string {
  return randomId(32);
}

export function encodeOffer(me: SignedCard, s: string, nJ: string, expiresAt: number): string {
  return encode(OFFER, { s, card: me, commit: commitment(s, me, nJ), exp: expiresAt });
}

export function decodeOffer(payload: unknown): { s: string; card: SignedCard; commit: string; exp: number } {
  const { json } = decode(payload, OFFER);
  const exp = json.exp;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw rejected('the offer has no expiry');
  return { s: str(json, 's'), card: card(json.card), commit: str(json, 'commit'), exp };
}

// ---- 2. answer ----

export function offerHash(payload: string): string {
  return createHash('sha256').update(payload).digest('hex');
}

export function encodeAnswer(me: Identity, approver: SignedCard, s: string, nA: string, offerPayload: string): string {
  return encode(ANSWER, { s, card: approver, nA, offer: offerHash(offerPayload) }, me);
}

export function decodeAnswer(payload: unknown): { s: string; card: SignedCard; nA: string; offer: string } {
  const { json, body, sig } = decode(payload, ANSWER);
  const c = card(json.card);
  // Consistency only: the key that counts is bound into the code the user compares.
  if (!sig || !verifyBytes(signPublicOf(c), Buffer.concat([Buffer.from(ANSWER), body]), sig)) throw rejected('the answer signature is wrong');
  return { s: str(json, 's'), card: c, nA: str(json, 'nA'), offer: str(json, 'offer') };
}

// ---- 3. reveal ----

export function encodeReveal(s: string, nJ: string): string {
  return encode(REVEAL, { s, nJ });
}

export function decodeReveal(payload: unknown): { s: string; nJ: string } {
  const { json } = decode(payload, REVEAL);
  return { s: str(json, 's'), nJ: str(json, 'nJ') };
}

// ---- 4. confirm ----

export function encodeConfirm(me: Identity, s: string, t: string): string {
  return encode(CONFIRM, { s, t }, me);
}

/** The confirm, checked under `approverSign`: the key the joiner bound into the code, not one the payload names. */
export function decodeConfirm(payload: unknown, approverSign?: Buffer): { s: string; t: string; verified: boolean } {
  const { json, body, sig } = decode(payload, CONFIRM);
  const verified = !!sig && !!approverSign && verifyBytes(approverSign, Buffer.concat([Buffer.from(CONFIRM), body]), sig);
  return { s: str(json, 's'), t: str(json, 't'), verified };
}
