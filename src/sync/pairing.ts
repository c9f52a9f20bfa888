/**
 * Pairing payloads, exchanged out of band (typed, pasted, or shown as a QR code):
 *
 * 1. The new device makes an **offer** (`AICO-PAIR1:...`): its id, name and public keys and a
 *    fresh nonce. It shows a 6-digit **code** derived from the offer.
 * 2. A trusted device **approves** the offer only with that code typed in by the user (a
 *    tampered or swapped offer gives another code), and answers with an **acceptance**
 *    (`AICO-PAIRED1:...`), signed by its Ed25519 key and bound to the offer's nonce.
 * 3. The new device completes with the acceptance: it checks the nonce is its own pending one
 *    and the signature, and trusts the approving device. Its code is shown on both sides too.
 *
 * Public keys only: no secret is ever in a payload. The sync key follows in the first
 * changeset, wrapped for the new device.
 */
import { createHash } from 'node:crypto';
import { AicoDataError } from '../errors.js';
import { b64u, deviceIdOf, fromB64u, signBytes, verifyBytes } from './crypto.js';
import type { Identity } from './identity.js';

const OFFER = 'AICO-PAIR1:';
const ACCEPT = 'AICO-PAIRED1:';

/** A device's public description. */
export interface DeviceCard {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly platform: string;
  readonly signPublic: Buffer;
  readonly kexPublic: Buffer;
}

export interface PairingOffer extends DeviceCard {
  readonly nonce: string;
}

export interface PairingAcceptance extends DeviceCard {
  /** The nonce of the offer this answers. */
  readonly nonce: string;
  /** The id of the device that was approved. */
  readonly approved: string;
}

function rejected(why: string): AicoDataError {
  return new AicoDataError('SYNC_PAIRING_REJECTED', `pairing rejected: ${why}`);
}

/** The 6-digit code of a payload, shown on both devices. */
export function pairingCode(payload: string): string {
  const h = createHash('sha256').update('aico-sync/pairing-code/v1').update(payload).digest();
  return String(h.readUInt32BE(0) % 1_000_000).padStart(6, '0');
}

function cardJson(c: DeviceCard): Record<string, string> {
  return { id: c.id, name: c.name, type: c.type, platform: c.platform, sign: b64u(c.signPublic), kex: b64u(c.kexPublic) };
}

function parseCard(o: Record<string, unknown>): DeviceCard {
  for (const k of ['id', 'name', 'type', 'platform', 'sign', 'kex']) if (typeof o[k] !== 'string') throw rejected(`field ${k} is missing`);
  const signPublic = fromB64u(o.sign, 'sign');
  const kexPublic = fromB64u(o.kex, 'kex');
  if (signPublic.length !== 32 || kexPublic.length !== 32) throw rejected('public keys must be 32 bytes');
  if (deviceIdOf(signPublic) !== o.id) throw rejected('the device id does not match its signing key');
  return { id: o.id as string, name: o.name as string, type: o.type as string, platform: o.platform as string, signPublic, kexPublic };
}

function decode(payload: unknown, prefix: string): { json: Record<string, unknown>; raw: string } {
  if (typeof payload !== 'string' || !payload.startsWith(prefix)) throw rejected(`not a ${prefix.slice(0, -1)} payload`);
  const raw = payload.slice(prefix.length);
  try {
    const json = JSON.parse(Buffer.from(raw.split('.')[0]!, 'base64url').toString('utf8')) as unknown;
    if (json === null || typeof json !== 'object') throw new Error('not an object');
    return { json: json as Record<string, unknown>, raw };
  } catch {
    throw rejected('the payload is damaged');
  }
}

export function encodeOffer(card: DeviceCard, nonce: string): string {
  return OFFER + b64u(Buffer.from(JSON.stringify({ ...cardJson(card), nonce })));
}

export function decodeOffer(payload: unknown): PairingOffer {
  const { json } = decode(payload, OFFER);
  if (typeof json.nonce !== 'string' || json.nonce.length < 16) throw rejected('the offer has no nonce');
  return { ...parseCard(json), nonce: json.nonce };
}

/** The approving device's signed answer to `offer`. */
export function encodeAcceptance(me: Identity, card: DeviceCard, offer: PairingOffer): string {
  const body = Buffer.from(JSON.stringify({ ...cardJson(card), nonce: offer.nonce, approved: offer.id }));
  return `${ACCEPT}${b64u(body)}.${b64u(signBytes(me.signPrivate, body))}`;
}

export function decodeAcceptance(payload: unknown): PairingAcceptance {
  const { json, raw } = decode(payload, ACCEPT);
  const [body, sig] = raw.split('.');
  if (!body || !sig) throw rejected('the acceptance is not signed');
  const card = parseCard(json);
  if (!verifyBytes(card.signPublic, Buffer.from(body, 'base64url'), fromB64u(sig, 'signature'))) throw rejected('the acceptance signature is wrong');
  if (typeof json.nonce !== 'string' || typeof json.approved !== 'string') throw rejected('the acceptance has no nonce');
  return { ...card, nonce: json.nonce, approved: json.approved };
}
