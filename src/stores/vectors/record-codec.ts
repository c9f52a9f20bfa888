import { AicoDataError, invalidArgument } from '../../errors.js';
import type { Crypto } from '../../crypto.js';
import { RESERVED_PREFIX, type CollectionSpec } from './collection-spec.js';

/** A metadata value as callers write it. `Date` is accepted for `number` fields (stored as epoch ms). */
export type MetadataInput = string | number | boolean | null | Date;
/** A metadata value as the store returns it. */
export type MetadataValue = string | number | boolean | null;

/** What Chroma receives for one record: filterable fields (tokens, numbers) plus the sealed envelope. */
export type ChromaMetadata = Record<string, string | number | boolean>;

/** Key of the sealed envelope in Chroma metadata. */
export const SEALED_KEY = `${RESERVED_PREFIX}s`;

/**
 * What a declared field holds in Chroma when the record has no value for it. Every declared
 * field is always written because Chroma merges metadata on upsert and the client cannot delete
 * a key: a field dropped by an upsert would otherwise keep its stale value (and match filters).
 * No token and no number equals '', so `$eq`/`$in`/ranges skip it and `$ne`/`$nin` match it,
 * exactly as Chroma treats a missing key.
 */
export const ABSENT = '';

/**
 * Numbers as Chroma stores them: 15 significant digits. Chroma 1.0 parses JSON floats with up to
 * one ulp of error (0.10333333333333333 comes back as 0.10333333333333332); a 15-digit decimal
 * survives that parse exactly, so the value bound into the envelope's associated data matches.
 */
export function chromaNumber(n: number): number {
  return Number(n.toPrecision(15));
}

const PURPOSE_RECORDS = 'chroma/records';
const PURPOSE_TOKENS = 'chroma/tokens';
const FORMAT = 'aico-vectors/1';
const TOKEN_BYTES = 16;
const utf8 = new TextEncoder();

/** An opened record. */
export interface OpenedRecord {
  text: string;
  metadata: Record<string, MetadataValue>;
}

/**
 * Seals records for Chroma and opens them on the way back.
 *
 * Per record, Chroma stores: the embedding (plaintext, needed for similarity search), `token`
 * fields as HMAC tokens, `number` fields as numbers, and one sealed envelope holding the text and
 * every metadata field. The envelope's associated data binds the collection, the id and the
 * filterable values, so moving an envelope to another record, or editing a plaintext number or
 * token beside it, makes opening fail with `CORRUPT`.
 */
export class RecordCodec {
  readonly #crypto: Crypto;
  readonly #spec: CollectionSpec;

  constructor(crypto: Crypto, spec: CollectionSpec) {
    this.#crypto = crypto;
    this.#spec = spec;
  }

  /** The token Chroma stores for `value` in token field `field`. */
  token(field: string, value: unknown): string {
    if (typeof value !== 'string') {
      throw invalidArgument(`${this.#spec.name}.${field} is a token field: its values must be strings, not ${describe(value)}`);
    }
    const mac = this.#crypto.hmac(PURPOSE_TOKENS, utf8.encode(`${field}\0${value}`));
    return mac.subarray(0, TOKEN_BYTES).toString('base64url');
  }

  /** Chroma metadata for one record. */
  seal(id: string, text: string, metadata: Readonly<Record<string, MetadataInput | undefined>> | undefined): ChromaMetadata {
    if (typeof text !== 'string') throw invalidArgument(`${this.#spec.name}/${id}: text must be a string`);
    const clean = this.#cleanMetadata(id, metadata);
    const filterable: ChromaMetadata = {};
    for (const [field, kind] of Object.entries(this.#spec.fields)) {
      const value = clean[field];
      if (value === undefined || value === null) filterable[field] = ABSENT;
      else filterable[field] = kind === 'token' ? this.token(field, value) : chromaNumber(value as number);
    }
    const envelope = utf8.encode(JSON.stringify({ t: text, m: clean }));
    const sealed = this.#crypto.seal(PURPOSE_RECORDS, envelope, this.#aad(id, filterable));
    return { ...filterable, [SEALED_KEY]: sealed.toString('base64') };
  }

  /** Opens what {@link seal} produced; `CORRUPT` if anything was altered. */
  open(id: string, stored: Readonly<Record<string, unknown>> | null | undefined): OpenedRecord {
    const sealed = stored?.[SEALED_KEY];
    if (typeof sealed !== 'string') {
      throw new AicoDataError('CORRUPT', `${this.#spec.name}/${id}: the record has no sealed envelope (written outside aico-data?)`, { collection: this.#spec.name, id });
    }
    const filterable: ChromaMetadata = {};
    for (const [k, v] of Object.entries(stored!)) {
      if (k === SEALED_KEY) continue;
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        throw new AicoDataError('CORRUPT', `${this.#spec.name}/${id}: unexpected metadata value in ${k}`, { collection: this.#spec.name, id });
      }
      filterable[k] = v;
    }
    let plain: Buffer;
    try {
      plain = this.#crypto.open(PURPOSE_RECORDS, Buffer.from(sealed, 'base64'), this.#aad(id, filterable));
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code === 'CLOSED') throw e;
      throw new AicoDataError('CORRUPT', `${this.#spec.name}/${id}: the sealed record does not open (altered, moved or from another key)`, { collection: this.#spec.name, id }, { cause: e });
    }
    try {
      const { t, m } = JSON.parse(plain.toString('utf8')) as { t: unknown; m: unknown };
      if (typeof t !== 'string' || m === null || typeof m !== 'object') throw new Error('bad envelope');
      return { text: t, metadata: m as Record<string, MetadataValue> };
    } catch (e) {
      throw new AicoDataError('CORRUPT', `${this.#spec.name}/${id}: the sealed envelope is not in the expected format`, { collection: this.#spec.name, id }, { cause: e });
    }
  }

  #aad(id: string, filterable: ChromaMetadata): Uint8Array {
    const keys = Object.keys(filterable).sort();
    const canonical = JSON.stringify(keys.map((k) => {
      const v = filterable[k];
      return [k, typeof v === 'number' ? chromaNumber(v) : v];
    }));
    return utf8.encode(`${FORMAT}\n${this.#spec.name}\n${id}\n${canonical}`);
  }

  #cleanMetadata(id: string, metadata: Readonly<Record<string, MetadataInput | undefined>> | undefined): Record<string, MetadataValue> {
    if (metadata === undefined || metadata === null) return {};
    if (typeof metadata !== 'object' || Array.isArray(metadata)) throw invalidArgument(`${this.#spec.name}/${id}: metadata must be a plain object`);
    const out: Record<string, MetadataValue> = {};
    for (const [k, raw] of Object.entries(metadata)) {
      if (raw === undefined) continue;
      if (k.startsWith(RESERVED_PREFIX)) throw invalidArgument(`${this.#spec.name}/${id}: metadata keys starting with "${RESERVED_PREFIX}" are reserved (${k})`);
      const kind = this.#spec.fields[k];
      let v: MetadataValue;
      if (raw instanceof Date) {
        if (kind !== 'number') throw invalidArgument(`${this.#spec.name}/${id}: a Date is only accepted in a number field (${k})`);
        v = raw.getTime();
      } else if (raw === null || typeof raw === 'string' || typeof raw === 'boolean' || typeof raw === 'number') {
        v = raw;
      } else {
        throw invalidArgument(`${this.#spec.name}/${id}: metadata ${k} must be a string, number, boolean or null, not ${describe(raw)}`);
      }
      if (typeof v === 'number' && !Number.isFinite(v)) throw invalidArgument(`${this.#spec.name}/${id}: metadata ${k} is not a finite number`);
      if (kind === 'number' && v !== null && typeof v !== 'number') throw invalidArgument(`${this.#spec.name}.${k} is a number field, got ${describe(v)}`);
      if (kind === 'token' && v !== null && typeof v !== 'string') throw invalidArgument(`${this.#spec.name}.${k} is a token field: its values must be strings, not ${describe(v)}`);
      out[k] = v;
    }
    return out;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Date) return 'a Date';
  return typeof v;
}
