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
import { AicoDataError } from '../errors.js';

export const MAGIC = Buffer.from('AICOSYN1');
const SIG = 64;

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
  if (b.length < MAGIC.length + 8 + SIG || !b.subarray(0, MAGIC.length).equals(MAGIC)) throw malformed('bad magic or too short');
  let at = MAGIC.length;
  const hl = b.readUInt32BE(at);
  at += 4;
  if (at + hl + 4 + SIG > b.length) throw malformed('header length');
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
