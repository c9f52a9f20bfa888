import { homedir } from 'node:os';
import { join } from 'node:path';
import { invalidArgument, nativeAsync, native } from '../../errors.js';
import { loadMiniLm, type NativeMiniLm } from '../../native/index.js';
import type { Embedder } from './embedder.js';

/** Texts per native call: bounds the work of one libuv task (the core accepts at most 4096). */
const CHUNK = 256;

/**
 * The folder {@link MiniLmEmbedder.load} reads by default: `AICO_DATA_MINILM_DIR` when set, else
 * `~/.cache/aico-data/models/all-MiniLM-L6-v2` (where `scripts/model/fetch-minilm.mjs` puts it).
 */
export function defaultMiniLmDir(): string {
  return process.env.AICO_DATA_MINILM_DIR || join(homedir(), '.cache', 'aico-data', 'models', 'all-MiniLM-L6-v2');
}

/**
 * The sentence-embedding model all-MiniLM-L6-v2 (384 dimensions, mean pooling, L2-normalised),
 * computed locally by aico-data's Rust core: no Python, no network, no cloud key. Unlike
 * {@link HashingEmbedder} it is semantic ("what should I offer her to drink?" is close to
 * "Ada loves green tea").
 *
 * Texts longer than 256 word pieces (about 200 English words) are embedded from their first
 * 256 pieces. Embedding runs off the JS thread.
 */
export class MiniLmEmbedder implements Embedder {
  /** `all-MiniLM-L6-v2`. */
  readonly modelId = 'all-MiniLM-L6-v2';
  readonly version = '1';
  /** 384. */
  readonly dimension: number;
  /** Word pieces read per text, `[CLS]` and `[SEP]` included (256). */
  readonly maxTokens: number;
  /** The folder the model was loaded from. */
  readonly dir: string;
  readonly #native: NativeMiniLm;

  private constructor(nativeModel: NativeMiniLm, dir: string) {
    this.#native = nativeModel;
    this.dimension = nativeModel.dimension;
    this.maxTokens = nativeModel.maxTokens;
    this.dir = dir;
  }

  /**
   * Loads the model folder (`config.json`, `vocab.txt`, `model.safetensors`), each file checked
   * against the SHA-256 manifest compiled into the core before it is used. Fails with `IO` when
   * a file is missing and `CORRUPT` when one differs from the manifest.
   */
  static async load(dir: string = defaultMiniLmDir()): Promise<MiniLmEmbedder> {
    if (typeof dir !== 'string' || dir.length === 0) throw invalidArgument('dir must be a non-empty string');
    return new MiniLmEmbedder(await nativeAsync(() => loadMiniLm(dir)), dir);
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (!Array.isArray(texts)) throw invalidArgument('texts must be an array of strings');
    for (const t of texts) if (typeof t !== 'string') throw invalidArgument('texts must be strings');
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += CHUNK) {
      out.push(...(await nativeAsync(() => this.#native.embed(texts.slice(i, i + CHUNK)))));
    }
    return out;
  }

  /** The model's token ids for `text` (`[CLS] … [SEP]`, truncated), without running the model. */
  tokenize(text: string): Uint32Array {
    if (typeof text !== 'string') throw invalidArgument('text must be a string');
    return native(() => this.#native.tokenize(text));
  }
}
