/**
 * Sealing with the folder's keys, the contract the stores and sync share. Its own module so
 * that stores import it without importing the composition root (`data-layer.ts`).
 */
import { invalidArgument, native } from './errors.js';
import type { NativeFolder } from './native/index.js';

/** Sealing with the folder's keys (XChaCha20-Poly1305 with associated data). */
export interface Crypto {
  /**
   * Seals `plaintext` under the key for `purpose` (`'chroma'`, `'sync'`, or a sub-purpose such
   * as `'chroma/documents'`), binding `aad`: opening needs the same purpose and `aad`.
   */
  seal(purpose: string, plaintext: Uint8Array, aad?: Uint8Array): Buffer;
  /** Opens a sealed value; anything altered, or another purpose or `aad`, gives `CORRUPT`. */
  open(purpose: string, sealed: Uint8Array, aad?: Uint8Array): Buffer;
  /** HMAC-SHA256 under the key for `purpose`: stable equality tokens for sealed fields. */
  hmac(purpose: string, data: Uint8Array): Buffer;
}

const EMPTY = new Uint8Array(0);

function bytes(v: unknown, what: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  throw invalidArgument(`${what} must be a Buffer or Uint8Array`);
}

function purposeOf(p: unknown): string {
  if (typeof p !== 'string' || !/^[a-z0-9][a-z0-9/_-]{0,63}$/.test(p)) {
    throw invalidArgument('purpose must be a short lower-case label such as "chroma" or "chroma/documents"');
  }
  return p;
}

/** The folder's sealing; `check` runs first (the data layer refuses once closed). */
export function cryptoOf(folder: NativeFolder, check: () => void = () => undefined): Crypto {
  return {
    seal: (purpose, plaintext, aad) => (check(), native(() => folder.seal(purposeOf(purpose), bytes(plaintext, 'plaintext'), bytes(aad ?? EMPTY, 'aad')))),
    open: (purpose, sealed, aad) => (check(), native(() => folder.open(purposeOf(purpose), bytes(sealed, 'sealed'), bytes(aad ?? EMPTY, 'aad')))),
    hmac: (purpose, data) => (check(), native(() => folder.hmac(purposeOf(purpose), bytes(data, 'data')))),
  };
}
