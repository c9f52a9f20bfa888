import { createRequire } from 'node:module';
import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import { invalidArgument, nativeAsync, native } from '../../errors.js';
import { loadMiniLm, type NativeMiniLm } from '../../native/index.js';
import type { Embedder } from './embedder.js';

/** Texts per native call: bounds the work of one libuv task (the core accepts at most 4096). */
const CHUNK = 256;
/** Below this many characters a batch runs as one task: splitting costs more than it saves. */
const MIN_SPLIT_CHARS = 512;

/** Options of {@link MiniLmEmbedder.load}. */
export interface MiniLmOptions {
  /**
   * How many libuv worker threads one `embed` call may use at once (a batch is split into that
   * many parts of similar size). Default: the machine's cores, at most 4 (libuv's default pool:
   * more would queue the application's other async work behind embeddings).
   */
  threads?: number;
}

/**
 * Splits `texts` into at most `parts` contiguous runs of similar total length (the forward
 * pass's cost grows with the word pieces, roughly the characters).
 */
function splitBySize(texts: readonly string[], parts: number): Array<readonly string[]> {
  const total = texts.reduce((n, t) => n + t.length + 1, 0);
  if (parts <= 1 || texts.length < 2 || total < MIN_SPLIT_CHARS) return [texts];
  const n = Math.min(parts, texts.length);
  const out: Array<readonly string[]> = [];
  let start = 0;
  let acc = 0;
  for (let i = 0; i < texts.length; i++) {
    acc += texts[i]!.length + 1;
    const left = texts.length - i - 1;
    const need = n - out.length - 1; // parts still to fill after this one
    if (need > 0 && (acc >= (total * (out.length + 1)) / n || left === need)) {
      out.push(texts.slice(start, i + 1));
      start = i + 1;
    }
  }
  out.push(texts.slice(start));
  return out.filter((p) => p.length > 0);
}

/** The npm package that ships the model files (built by `scripts/model/pack-minilm.mjs`). */
export const MINILM_PACKAGE = 'aico-data-model-minilm';

/** Where {@link findMiniLmDir} found the model folder, and why that one. */
export interface MiniLmLocation {
  /** The model folder (it may still be missing or damaged: {@link MiniLmEmbedder.load} checks it). */
  dir: string;
  /**
   * `env`: `AICO_DATA_MINILM_DIR` is set; `package`: the installed `aico-data-model-minilm`
   * package; `cache`: `~/.cache/aico-data/models/all-MiniLM-L6-v2` (`scripts/model/fetch-minilm.mjs`).
   */
  source: 'env' | 'package' | 'cache';
  /** One line for people: where the folder came from. */
  why: string;
}

/** The folder the installed model package exports, resolved from `from`; undefined when absent. */
function packageDir(from: string): { dir: string; pkg: string } | undefined {
  try {
    const req = createRequire(from);
    const pkg = req.resolve(`${MINILM_PACKAGE}/package.json`);
    const dir = (req(MINILM_PACKAGE) as { dir?: unknown }).dir;
    return typeof dir === 'string' && dir.length > 0 ? { dir, pkg } : undefined;
  } catch {
    return undefined; // not installed (or not loadable): fall through, quietly
  }
}

/**
 * Where the all-MiniLM-L6-v2 files are, in this order: `AICO_DATA_MINILM_DIR` when set; else the
 * installed `aico-data-model-minilm` package, resolved from aico-data itself and then from the
 * current directory (the app); else `~/.cache/aico-data/models/all-MiniLM-L6-v2`.
 */
export function findMiniLmDir(): MiniLmLocation {
  const env = process.env.AICO_DATA_MINILM_DIR;
  if (env) return { dir: env, source: 'env', why: 'AICO_DATA_MINILM_DIR is set' };
  const found = packageDir(import.meta.url) ?? packageDir(join(process.cwd(), 'noop.js'));
  if (found) return { dir: found.dir, source: 'package', why: `the ${MINILM_PACKAGE} package is installed (${found.pkg})` };
  const dir = join(homedir(), '.cache', 'aico-data', 'models', 'all-MiniLM-L6-v2');
  return { dir, source: 'cache', why: `AICO_DATA_MINILM_DIR is not set and ${MINILM_PACKAGE} is not installed` };
}

/**
 * The folder {@link MiniLmEmbedder.load} reads by default: {@link findMiniLmDir}'s choice
 * (`AICO_DATA_MINILM_DIR`, then the `aico-data-model-minilm` package, then the local cache).
 */
export function defaultMiniLmDir(): string {
  return findMiniLmDir().dir;
}

/**
 * The sentence-embedding model all-MiniLM-L6-v2 (384 dimensions, mean pooling, L2-normalised),
 * computed locally by aico-data's Rust core: no Python, no network, no cloud key. Unlike
 * {@link HashingEmbedder} it is semantic ("what should I offer her to drink?" is close to
 * "Ada loves green tea").
 *
 * Texts longer than 256 word pieces (about 200 English words) are embedded from their first
 * 256 pieces. Embedding runs off the JS thread; a batch is split across up to
 * {@link MiniLmOptions.threads} worker threads.
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
  /** Worker threads one `embed` call uses at most. */
  readonly threads: number;
  readonly #native: NativeMiniLm;

  private constructor(nativeModel: NativeMiniLm, dir: string, threads: number) {
    this.#native = nativeModel;
    this.threads = threads;
    this.dimension = nativeModel.dimension;
    this.maxTokens = nativeModel.maxTokens;
    this.dir = dir;
  }

  /**
   * Loads the model folder (`config.json`, `vocab.txt`, `model.safetensors`), each file checked
   * against the SHA-256 manifest compiled into the core before it is used. Fails with `IO` when
   * a file is missing and `CORRUPT` when one differs from the manifest.
   */
  static async load(dir: string = defaultMiniLmDir(), options: MiniLmOptions = {}): Promise<MiniLmEmbedder> {
    if (typeof dir !== 'string' || dir.length === 0) throw invalidArgument('dir must be a non-empty string');
    const threads = options.threads ?? Math.min(4, availableParallelism());
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw invalidArgument('threads must be an integer from 1 to 64');
    return new MiniLmEmbedder(await nativeAsync(() => loadMiniLm(dir)), dir, threads);
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (!Array.isArray(texts)) throw invalidArgument('texts must be an array of strings');
    for (const t of texts) if (typeof t !== 'string') throw invalidArgument('texts must be strings');
    const out: Float32Array[] = [];
    // Chunks one after another; each chunk's parts at once, one libuv worker each (the weights
    // are shared read-only by the tasks).
    for (let i = 0; i < texts.length; i += CHUNK) {
      const parts = splitBySize(texts.slice(i, i + CHUNK), this.threads);
      const done = await Promise.all(parts.map((part) => nativeAsync(() => this.#native.embed([...part]))));
      for (const d of done) out.push(...d);
    }
    return out;
  }

  /** The model's token ids for `text` (`[CLS] … [SEP]`, truncated), without running the model. */
  tokenize(text: string): Uint32Array {
    if (typeof text !== 'string') throw invalidArgument('text must be a string');
    return native(() => this.#native.tokenize(text));
  }
}
