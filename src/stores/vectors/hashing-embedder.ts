import { createHmac } from 'node:crypto';
import { invalidArgument } from '../../errors.js';
import type { Embedder } from './embedder.js';

/** Options of {@link HashingEmbedder}. */
export interface HashingEmbedderOptions {
  /** Vector length (default 384, the size of common small sentence models). */
  dimension?: number;
  /**
   * A secret (at least 16 bytes) that decides which bucket and sign each feature gets. Without
   * it anyone can run the public algorithm over a word list and read off which words a stored
   * vector contains; with it the vectors still show which records are alike, but not what they
   * say. The vector store keys its default embedder from the folder's keys.
   */
  key?: Uint8Array;
}

/** Distinct features remembered per embedder (keyed hashing is HMAC-SHA256: worth caching). */
const KEYED_CACHE = 200_000;

const WORD = /[\p{L}\p{N}]+/gu;
const WEIGHT_WORD = 1;
const WEIGHT_BIGRAM = 0.7;
const WEIGHT_TRIGRAM = 0.4;

/**
 * The offline default embedder: feature hashing of word unigrams, word bigrams and character
 * trigrams into a fixed-size vector, L2-normalised.
 *
 * It is **lexical, not semantic**: texts that share words (or word pieces) are close; synonyms
 * and paraphrases are not ("car" and "automobile" are unrelated to it). It needs no download,
 * is deterministic across machines and runs, and is what tests and the demo use. Real recall
 * quality needs a sentence-embedding model behind the {@link Embedder} interface.
 */
export class HashingEmbedder implements Embedder {
  /** `aico-hashing-ngrams`, or `aico-hashing-ngrams-keyed` with a key. */
  readonly modelId: string;
  readonly version = '1';
  readonly dimension: number;
  readonly #key: Buffer | undefined;
  readonly #cache = new Map<string, number>();

  constructor(options: HashingEmbedderOptions = {}) {
    const dimension = options.dimension ?? 384;
    if (!Number.isInteger(dimension) || dimension < 16 || dimension > 65_536) throw invalidArgument('dimension must be an integer in 16..65536');
    if (options.key !== undefined && (!(options.key instanceof Uint8Array) || options.key.length < 16)) {
      throw invalidArgument('key must be a Uint8Array of at least 16 bytes');
    }
    this.dimension = dimension;
    this.#key = options.key === undefined ? undefined : Buffer.from(options.key);
    this.modelId = this.#key ? 'aico-hashing-ngrams-keyed' : 'aico-hashing-ngrams';
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.embedOne(t));
  }

  /** The synchronous core of {@link embed}. */
  embedOne(text: string): Float32Array {
    if (typeof text !== 'string') throw invalidArgument('texts must be strings');
    const v = new Float32Array(this.dimension);
    const words = text.normalize('NFKC').toLowerCase().match(WORD) ?? [];
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      this.#add(v, 'w', w, WEIGHT_WORD);
      if (i > 0) this.#add(v, 'b', `${words[i - 1]} ${w}`, WEIGHT_BIGRAM);
      const padded = `<${w}>`;
      for (let j = 0; j + 3 <= padded.length; j++) this.#add(v, 'c', padded.slice(j, j + 3), WEIGHT_TRIGRAM);
    }
    let norm = 0;
    for (let i = 0; i < v.length; i++) norm += v[i]! * v[i]!;
    if (norm === 0) {
      // An empty (or symbol-only) text still needs a unit vector: cosine of a zero vector is NaN.
      v[0] = 1;
      return v;
    }
    const inv = 1 / Math.sqrt(norm);
    for (let i = 0; i < v.length; i++) v[i]! *= inv;
    return v;
  }

  #add(v: Float32Array, kind: string, feature: string, weight: number): void {
    const h = this.#key ? this.#keyedHash(kind, feature) : fnv1a(kind, feature);
    // The sign comes from independent bits so that colliding features cancel out on average.
    const sign = fmix32(h) & 1 ? -1 : 1;
    v[h % this.dimension]! += sign * weight;
  }

  #keyedHash(kind: string, feature: string): number {
    const id = `${kind}\0${feature}`;
    let h = this.#cache.get(id);
    if (h === undefined) {
      h = createHmac('sha256', this.#key!).update(id).digest().readUInt32LE(0);
      if (this.#cache.size >= KEYED_CACHE) this.#cache.clear();
      this.#cache.set(id, h);
    }
    return h;
  }
}

/** 32-bit FNV-1a over `kind` + NUL + `s` (UTF-16 code units). */
function fnv1a(kind: string, s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < kind.length; i++) h = Math.imul(h ^ kind.charCodeAt(i), 0x01000193);
  h = Math.imul(h, 0x01000193);
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** MurmurHash3's finaliser: decorrelates the sign bit from the bucket. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
