/**
 * The sync primitives, all from `node:crypto`: Ed25519 signatures, X25519 key agreement,
 * HKDF-SHA256 and AES-256-GCM. Raw 32-byte public keys travel and are stored; private keys
 * leave this module only as PKCS#8 bytes to be sealed under the data key.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { AicoDataError } from '../errors.js';

/** A device's key pairs: Ed25519 signs changesets, X25519 agrees keys (and is the CURVE key). */
export interface DeviceKeys {
  readonly signPrivate: KeyObject;
  readonly signPublic: Buffer;
  readonly kexPrivate: KeyObject;
  readonly kexPublic: Buffer;
}

export function b64u(b: Uint8Array): string {
  return Buffer.from(b).toString('base64url');
}

export function fromB64u(s: unknown, what: string): Buffer {
  if (typeof s !== 'string' || !/^[A-Za-z0-9_-]*$/.test(s)) throw new AicoDataError('INVALID_ARGUMENT', `${what} is not base64url`);
  return Buffer.from(s, 'base64url');
}

function rawPublic(k: KeyObject): Buffer {
  return fromB64u(k.export({ format: 'jwk' }).x, 'public key');
}

/** Fresh Ed25519 and X25519 key pairs. */
export function generateDeviceKeys(): DeviceKeys {
  const s = generateKeyPairSync('ed25519');
  const x = generateKeyPairSync('x25519');
  return { signPrivate: s.privateKey, signPublic: rawPublic(s.publicKey), kexPrivate: x.privateKey, kexPublic: rawPublic(x.publicKey) };
}

/** PKCS#8 DER of a private key (to be sealed, never stored as is). */
export function privateDer(k: KeyObject): Buffer {
  return k.export({ format: 'der', type: 'pkcs8' });
}

export function privateFromDer(der: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
}

/** Raw 32-byte private scalar of an X25519 key (the CURVE secret key). */
export function rawPrivate(k: KeyObject): Buffer {
  return fromB64u(k.export({ format: 'jwk' }).d, 'private key');
}

function publicKey(raw: Uint8Array, crv: 'Ed25519' | 'X25519'): KeyObject {
  if (raw.length !== 32) throw new AicoDataError('INVALID_ARGUMENT', `${crv} public keys are 32 bytes`);
  return createPublicKey({ key: { kty: 'OKP', crv, x: b64u(raw) }, format: 'jwk' });
}

/** The device id: the first 16 bytes of SHA-256 over the signing key, as hex. */
export function deviceIdOf(signPublic: Uint8Array): string {
  return createHash('sha256').update('aico-sync/device/v1').update(signPublic).digest().subarray(0, 16).toString('hex');
}

export function signBytes(k: KeyObject, data: Uint8Array): Buffer {
  return sign(null, data, k);
}

export function verifyBytes(signPublic: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    return verify(null, data, publicKey(signPublic, 'Ed25519'), signature);
  } catch {
    return false;
  }
}

const NONCE = 12;
const TAG = 16;

/** AES-256-GCM: `nonce || ciphertext || tag`, binding `aad`. */
export function encrypt(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  const nonce = randomBytes(NONCE);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(aad);
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([nonce, body, c.getAuthTag()]);
}

/** Opens {@link encrypt}'s output; anything altered gives `CORRUPT`. */
export function decrypt(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer {
  if (sealed.length < NONCE + TAG) throw new AicoDataError('CORRUPT', 'sealed sync data is truncated');
  const b = Buffer.from(sealed);
  try {
    const d = createDecipheriv('aes-256-gcm', key, b.subarray(0, NONCE));
    d.setAAD(aad);
    d.setAuthTag(b.subarray(b.length - TAG));
    return Buffer.concat([d.update(b.subarray(NONCE, b.length - TAG)), d.final()]);
  } catch (e) {
    throw new AicoDataError('CORRUPT', 'sync data failed authentication (altered, or sealed under another key)', undefined, { cause: e });
  }
}

/**
 * The pairwise wrapping key of two devices: X25519(own private, peer public) through
 * HKDF-SHA256 bound to both device ids (sorted, so both sides derive the same key).
 *
 * The peer key comes from the synced registry, so it may be anything: not 32 bytes, or a
 * low-order point (all-zero shared secret, which OpenSSL refuses). Either gives
 * `SYNC_UNTRUSTED` naming the device (`b`), never a raw OpenSSL error.
 */
export function pairwiseKey(ownKex: KeyObject, peerKexPublic: Uint8Array | null | undefined, a: string, b: string): Buffer {
  const unusable = (why: string, cause?: unknown) =>
    new AicoDataError('SYNC_UNTRUSTED', `device ${b} has no usable X25519 key in the registry: ${why}`, { deviceId: b, reason: 'invalid_kex_key' }, { cause });
  if (!(peerKexPublic instanceof Uint8Array) || peerKexPublic.length !== 32) throw unusable(`${peerKexPublic instanceof Uint8Array ? peerKexPublic.length : 0} bytes, not 32`);
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey: ownKex, publicKey: publicKey(peerKexPublic, 'X25519') });
  } catch (e) {
    throw unusable('not a valid X25519 point (low order)', e);
  }
  // Defence in depth: an all-zero secret would be a key anyone can compute.
  if (shared.every((x) => x === 0)) throw unusable('not a valid X25519 point (low order)');
  const [x, y] = a < b ? [a, b] : [b, a];
  return Buffer.from(hkdfSync('sha256', shared, Buffer.from('aico-sync/pairwise/v1'), Buffer.from(`${x}|${y}`), 32));
}

/** True when `raw` is a usable X25519 public key (see {@link pairwiseKey}). */
export function usableKexKey(ownKex: KeyObject, raw: Uint8Array | null | undefined): boolean {
  try {
    pairwiseKey(ownKex, raw, '', '');
    return true;
  } catch {
    return false;
  }
}

export function randomKey(): Buffer {
  return randomBytes(32);
}

export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString('hex');
}
