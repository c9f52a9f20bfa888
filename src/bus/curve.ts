/**
 * CURVE keys of the ZeroMQ bus. CURVE is X25519: a key is 32 bytes, written as 40 Z85 characters
 * (ZeroMQ's own text form, what `zeromq.curveKeyPair()` returns). Keys are either generated and
 * kept by the application, or derived from a data folder's data key ({@link deriveBusKeys}), so
 * that only someone who can open the folder (knows the password) holds them.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { zeromq } from '../util/zeromq.js';
import { invalidArgument } from '../errors.js';
import { z85 } from '../util/z85.js';

/** A CURVE key pair, both keys as 40-character Z85 strings. */
export interface BusKeyPair {
  readonly publicKey: string;
  readonly secretKey: string;
}

/** A CURVE key: 40 Z85 characters or 32 raw bytes. */
export type BusKey = string | Uint8Array;

/** The keys a folder derives for its bus: the broker's pair and one client pair. */
export interface BusKeys {
  /** The broker's key pair (`startZmqBroker({ serverKeys })`). */
  readonly server: BusKeyPair;
  /** The client's key pair (`connectZmqBus({ ...client })`); its public key goes in `allowedClients`. */
  readonly client: BusKeyPair;
}

const Z85 = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;

/** Normalizes a key to Z85; `INVALID_ARGUMENT` for anything that is not a 32-byte key. */
export function busKey(key: unknown, field: string): string {
  if (typeof key === 'string' && Z85.test(key)) return key;
  if (key instanceof Uint8Array && key.length === 32) return z85(key);
  throw invalidArgument(`${field} must be a CURVE key: 40 Z85 characters or 32 bytes`, { field });
}

/** A new random key pair (for a broker or a client whose keys the application stores). */
export function generateBusKeyPair(): BusKeyPair {
  return zeromq().curveKeyPair();
}

// DER prefix of a PKCS#8 X25519 private key: the 32 raw bytes follow.
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** The key pair whose secret key is these 32 bytes (X25519 clamps them, as libsodium does). */
export function busKeyPairFromSecret(secret: Uint8Array): BusKeyPair {
  if (!(secret instanceof Uint8Array) || secret.length !== 32) throw invalidArgument('a CURVE secret key is 32 bytes', { field: 'secretKey' });
  const priv = createPrivateKey({ key: Buffer.concat([PKCS8_X25519, secret]), format: 'der', type: 'pkcs8' });
  const pub = createPublicKey(priv).export({ format: 'der', type: 'spki' }) as Buffer;
  return { publicKey: z85(pub.subarray(pub.length - 32)), secretKey: z85(secret) };
}

const NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

/**
 * Derives the bus keys from a folder's keyed hash (`data.crypto`, HMAC-SHA256 under a key that
 * HKDF derives from the data key for the purpose `bus`): the same keys every time the folder is
 * opened with its password, different for every folder, unknowable without the password. Each
 * client `name` gets its own pair, so the broker can admit them one by one. After `rotateKeys`
 * the data key changes and so do these keys.
 */
export function deriveBusKeys(crypto: { hmac(purpose: string, data: Uint8Array): Buffer }, client = 'owner'): BusKeys {
  if (typeof client !== 'string' || !NAME.test(client)) throw invalidArgument('the bus client name must be a short lower-case label', { field: 'client' });
  const derive = (label: string) => busKeyPairFromSecret(crypto.hmac('bus', Buffer.from(`aico-data/bus/curve/${label}/v1`, 'utf8')));
  return { server: derive('server'), client: derive(`client/${client}`) };
}
