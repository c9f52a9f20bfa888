/**
 * The changeset wire format. Everything a transport carries is one of these:
 *
 * ```
 * "AICOSYN1" | u32 header length | header (JSON) | u32 body length | body | Ed25519 signature (64)
 * ```
 *
 * The header holds only routing and key metadata (device ids, key id, schema version, the sync
 * key wrapped per trusted device). The body is the deflated change list encrypted with
 * AES-256-GCM under the sync key, the header bound as associated data. The signature covers
 * every byte before it, so nothing (header included) can be altered or replayed under another
 * sender.
 */
import { promisify } from 'node:util';
import { inflateRaw } from 'node:zlib';
import { AicoDataError, isAicoError } from '../errors.js';
import { decrypt } from './crypto.js';

export const MAGIC = Buffer.from('AICOSYN1');
const SIG = 64;

/**
 * Size bounds. A decrypted body inflates to at most {@link MAX_BODY_BYTES} (a deflate bomb is
 * refused as `CORRUPT` once the limit is reached, never inflated further); the exporter fills
 * a changeset with at most {@link CHANGESET_BUDGET_BYTES} of changes (a large first sync takes
 * several rounds), well inside that limit. A whole changeset is at most
 * {@link MAX_CHANGESET_BYTES}, its header at most {@link MAX_HEADER_BYTES}.
 */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;
export const CHANGESET_BUDGET_BYTES = 16 * 1024 * 1024;
export const MAX_HEADER_BYTES = 1024 * 1024;
export const MAX_CHANGESET_BYTES = MAX_BODY_BYTES + MAX_HEADER_BYTES + 1024 * 1024;

const inflate = promisify(inflateRaw) as (b: Buffer, o: { maxOutputLength: number }) => Promise<Buffer>;

/** The plaintext header of a changeset. */
export interface ChangesetHeader {
  readonly v: 1;
  /** Random id of this changeset (quarantine and logs). */
  readonly id: string;
  readonly from: string;
  readonly to: string;
  /** The sync key that encrypts the body. */
  readonly keyId: string;
  readonly keyCreated: string;
  /** The sender's schema version of the synced tables. */
  readonly sv: number;
  /** The sync key wrapped for each trusted device: device id -> base64url. */
  readonly wraps: Readonly<Record<string, string>>;
}

/** A parsed changeset: header, encrypted body, and the signed bytes. */
export interface ParsedChangeset {
  readonly header: ChangesetHeader;
  readonly headerBytes: Buffer;
  readonly body: Buffer;
  readonly signed: Buffer;
  readonly signature: Buffer;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** Lays out header and encrypted body; `sign` signs the bytes before the signature. */
export function encodeChangeset(headerBytes: Buffer, body: Buffer, sign: (signed: Buffer) => Buffer): Buffer {
  const signed = Buffer.concat([MAGIC, u32(headerBytes.length), headerBytes, u32(body.length), body]);
  return Buffer.concat([signed, sign(signed)]);
}

/** The associated data binding a body to its header. */
export function bodyAad(headerBytes: Buffer): Buffer {
  return Buffer.concat([MAGIC, headerBytes]);
}

function malformed(why: string): AicoDataError {
  return new AicoDataError('CORRUPT', `not a valid sync changeset: ${why}`);
}

/** Splits a changeset; structural problems give `CORRUPT` (authenticity is checked by the caller). */
export function parseChangeset(bytes: unknown): ParsedChangeset {
  if (!(bytes instanceof Uint8Array)) throw new AicoDataError('INVALID_ARGUMENT', 'a changeset is a Buffer or Uint8Array');
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length > MAX_CHANGESET_BYTES) throw malformed(`larger than ${MAX_CHANGESET_BYTES} bytes`);
  if (b.length < MAGIC.length + 8 + SIG || !b.subarray(0, MAGIC.length).equals(MAGIC)) throw malformed('bad magic or too short');
  let at = MAGIC.length;
  const hl = b.readUInt32BE(at);
  at += 4;
  if (hl > MAX_HEADER_BYTES || at + hl + 4 + SIG > b.length) throw malformed('header length');
  const headerBytes = b.subarray(at, at + hl);
  at += hl;
  const bl = b.readUInt32BE(at);
  at += 4;
  if (at + bl + SIG !== b.length) throw malformed('body length');
  const body = b.subarray(at, at + bl);
  at += bl;
  let header: ChangesetHeader;
  try {
    header = JSON.parse(headerBytes.toString('utf8')) as ChangesetHeader;
  } catch {
    throw malformed('header is not JSON');
  }
  const ok =
    header !== null &&
    typeof header === 'object' &&
    header.v === 1 &&
    [header.id, header.from, header.to, header.keyId, header.keyCreated].every((s) => typeof s === 'string') &&
    Number.isInteger(header.sv) &&
    header.wraps !== null &&
    typeof header.wraps === 'object';
  if (!ok) throw malformed('header fields');
  return { header, headerBytes, body, signed: b.subarray(0, at), signature: b.subarray(at) };
}

/**
 * Decrypts and inflates a body (off the JS thread, bounded by {@link MAX_BODY_BYTES}) and
 * parses its JSON. Anything wrong gives `CORRUPT`.
 */
export async function openBody(key: Uint8Array, cs: ParsedChangeset): Promise<unknown> {
  const plain = decrypt(key, cs.body, bodyAad(cs.headerBytes));
  let inflated: Buffer;
  try {
    inflated = await inflate(plain, { maxOutputLength: MAX_BODY_BYTES });
  } catch (e) {
    if (isAicoError(e)) throw e;
    const big = (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError;
    throw new AicoDataError('CORRUPT', big ? `not a valid sync changeset: the body inflates beyond ${MAX_BODY_BYTES} bytes` : 'not a valid sync changeset: body', { limit: MAX_BODY_BYTES }, { cause: e });
  }
  try {
    return JSON.parse(inflated.toString('utf8')) as unknown;
  } catch (e) {
    throw new AicoDataError('CORRUPT', 'not a valid sync changeset: body is not JSON', undefined, { cause: e });
  }
}
