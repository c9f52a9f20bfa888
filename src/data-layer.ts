import { AicoDataError, invalidArgument, native, nativeAsync } from './errors.js';
import { openFolder, type NativeFolder } from './native/index.js';
import { createServices, type Repositories, type Services, type UnitOfWork } from './domain/index.js';
import { createLibsqlRepositories, type LibsqlRepositoriesOptions } from './repositories/index.js';
import { openSchemas, type SchemaManager, type SchemaOpenOptions } from './schema/index.js';
import { openAnalyticsStore, type AnalyticsOptions, type AnalyticsStore } from './stores/analytics/index.js';
import { MemoryKvStore, openKvStore, type KvOptions, type KvStoreLike } from './stores/kv/index.js';
import { SqlStore, type SqlOptions } from './stores/sql/index.js';
import { DataAccessLayer } from './dal/index.js';
import { LibsqlKeywordRecall, LibsqlMemoryRepository } from './repositories/libsql/index.js';
import { SemanticMemory } from './memories/index.js';
import { createSemanticRecall, MemoryVectorIndex, openVectorStore, type VectorStore, type VectorStoreOptions } from './stores/vectors/index.js';

/** Argon2id cost for a new key file. Defaults: 64 MiB, 3 passes, 1 lane (the floor). */
export interface KdfOptions {
  memoryKib?: number;
  iterations?: number;
  parallelism?: number;
}

/** Options of {@link openDataLayer}. */
export interface OpenDataLayerOptions {
  /** The data folder. Created (mode 0700) when missing, unless `create` is false. */
  dir: string;
  /** The master password. Never stored; it unwraps the data key in the folder's key file. */
  password: string;
  /** Create the folder and its key file when missing (default true). */
  create?: boolean;
  /** Argon2id parameters for a new key file (ignored when the key file exists). */
  kdf?: KdfOptions;
  /** Options of the encrypted SQL store. */
  sql?: SqlOptions;
  /** Schema registry options (registry, drift acceptance, migration lock timeouts). */
  schemas?: SchemaOpenOptions;
  /** DuckDB analytics options, or `false` to not open the analytics engine. */
  analytics?: AnalyticsOptions | false;
  /** Repository options (e.g. the memory recall strategy). */
  repositories?: LibsqlRepositoriesOptions;
  /**
   * RocksDB key-value store options, or `false` for an in-memory cache instead. By default a
   * second process opening the same folder gets a read-only KV store (`onLocked: 'readOnly'`):
   * RocksDB allows one writer per folder.
   */
  kv?: KvOptions | false;
  /**
   * Semantic memory on a managed local Chroma server (embedder, server discovery, extra
   * collections), or `false` to run without vectors (recall is then keyword-only). The server
   * starts lazily, with the first vector operation.
   */
  vectors?: Omit<VectorStoreOptions, 'dir' | 'crypto'> | false;
}

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
function cryptoOf(folder: NativeFolder, check: () => void = () => undefined): Crypto {
  return {
    seal: (purpose, plaintext, aad) => (check(), native(() => folder.seal(purposeOf(purpose), bytes(plaintext, 'plaintext'), bytes(aad ?? EMPTY, 'aad')))),
    open: (purpose, sealed, aad) => (check(), native(() => folder.open(purposeOf(purpose), bytes(sealed, 'sealed'), bytes(aad ?? EMPTY, 'aad')))),
    hmac: (purpose, data) => (check(), native(() => folder.hmac(purposeOf(purpose), bytes(data, 'data')))),
  };
}

/**
 * An open aico-data folder: the encrypted stores and the layers built on them.
 * Obtain one with {@link openDataLayer}; call {@link DataLayer.close} when done.
 */
export class DataLayer {
  /** The encrypted libSQL store. */
  readonly sql: SqlStore;
  /** Schema registry: versions, history, migrations, plugin schemas. */
  readonly schemas: SchemaManager;
  /** Domain repositories over the encrypted store. */
  readonly repos: Repositories;
  /** Runs several repositories' writes in one transaction (all roll back if `work` throws). */
  readonly unitOfWork: UnitOfWork;
  /** Domain services (conversation processing, onboarding). */
  readonly services: Services;
  /** DuckDB analytics over the conversation data (undefined with `analytics: false`). */
  readonly analytics: AnalyticsStore | undefined;
  /** Encrypted key-value store (RocksDB), or an in-memory one with `kv: false`. */
  readonly kv: KvStoreLike;
  /** Sealing and HMAC under keys derived from the folder's data key. */
  readonly crypto: Crypto;
  /** Semantic memory on Chroma (undefined with `vectors: false`); the server starts on first use. */
  readonly vectors: VectorStore | undefined;
  /** Memories across libSQL (facts, FTS5) and Chroma (embeddings): remember, hybrid recall, forget. */
  readonly memories: SemanticMemory;
  /** The data folder. */
  readonly dir: string;
  /** True when this open created the folder. */
  readonly created: boolean;
  /** Public id of the folder's data key (names backups and sync peers; not secret). */
  readonly keyId: string;

  readonly #folder: NativeFolder;
  #closed = false;

  /** @internal Use {@link openDataLayer}. */
  constructor(
    folder: NativeFolder,
    sql: SqlStore,
    schemas: SchemaManager,
    analytics: AnalyticsStore | undefined,
    repositories: LibsqlRepositoriesOptions | undefined,
    kv: KvStoreLike,
    vectors: VectorStore | undefined,
  ) {
    this.kv = kv;
    this.vectors = vectors;
    this.#folder = folder;
    this.sql = sql;
    this.schemas = schemas;
    this.analytics = analytics;
    const dal = new DataAccessLayer(sql);
    const layer = createLibsqlRepositories(dal, repositories);
    this.repos = layer.repos;
    this.unitOfWork = layer.unitOfWork;
    const keyword = new LibsqlKeywordRecall(dal);
    this.memories = new SemanticMemory({
      repository: layer.repos.memories,
      unitOfWork: layer.unitOfWork,
      index: vectors ? new MemoryVectorIndex(vectors.memories) : undefined,
      embedder: () => vectors?.embedder,
      hybrid: vectors ? (weights) => new LibsqlMemoryRepository(dal, createSemanticRecall(vectors, { keyword, ...(weights ? { weights } : {}) })) : undefined,
    });
    this.services = createServices(layer.repos, layer.unitOfWork);
    this.dir = folder.dir;
    this.created = folder.created;
    this.keyId = folder.keyId;
    const check = () => {
      if (this.#closed) throw new AicoDataError('CLOSED', 'the data layer was closed');
    };
    this.crypto = cryptoOf(folder, check);
  }

  /** True after {@link DataLayer.close}. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Changes the master password: the data key is rewrapped under the new password in a new
   * key file (written atomically); no store is re-encrypted. `WRONG_PASSWORD` if `oldPassword`
   * is wrong, and then nothing changes.
   */
  async changePassword(oldPassword: string, newPassword: string, kdf?: KdfOptions): Promise<void> {
    if (this.#closed) throw new AicoDataError('CLOSED', 'the data layer was closed');
    if (typeof oldPassword !== 'string' || typeof newPassword !== 'string') throw invalidArgument('passwords must be strings');
    if (newPassword.length === 0) throw invalidArgument('the new password must not be empty');
    await nativeAsync(() => this.#folder.changePassword(oldPassword, newPassword, kdf));
  }

  /** Closes every store and forgets the keys. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // The Chroma server is a child process: stop it before anything else.
    await this.vectors?.close().catch(() => undefined);
    // Analytics next: its snapshot reads the SQL store.
    await this.analytics?.close().catch(() => undefined);
    // RocksDB must be closed explicitly, never torn down late at process exit.
    this.kv.close();
    this.sql.close();
    this.#folder.close();
  }
}

/**
 * Opens (or creates) an aico-data folder with its master password.
 *
 * The password is checked against the key file before any store is opened: a wrong one
 * fails with `WRONG_PASSWORD` and leaves every file byte-identical.
 *
 * @example
 * ```ts
 * import { openDataLayer } from 'aico-data';
 * const data = await openDataLayer({ dir: './companion-data', password: process.env.AICO_PASSWORD! });
 * try {
 *   await data.sql.exec('CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, body TEXT)');
 * } finally {
 *   await data.close();
 * }
 * ```
 */
export async function openDataLayer(options: OpenDataLayerOptions): Promise<DataLayer> {
  if (options === null || typeof options !== 'object') throw invalidArgument('openDataLayer takes an options object');
  const { dir, password, create = true, kdf, sql, schemas, analytics, repositories, kv, vectors } = options;
  if (vectors !== undefined && vectors !== false && (vectors === null || typeof vectors !== 'object')) throw invalidArgument('vectors must be an options object or false');
  if (kv !== undefined && kv !== false && (kv === null || typeof kv !== 'object')) throw invalidArgument('kv must be an options object or false');
  if (typeof dir !== 'string' || dir.trim() === '') throw invalidArgument('dir must be a non-empty path');
  if (typeof password !== 'string' || password.length === 0) throw invalidArgument('password must be a non-empty string');
  if (kdf !== undefined && (kdf === null || typeof kdf !== 'object')) throw invalidArgument('kdf must be an object');
  const folder = await nativeAsync(() => openFolder(dir, password, create, kdf));
  let store: SqlStore | undefined;
  let engine: AnalyticsStore | undefined;
  let kvStore: KvStoreLike | undefined;
  let vectorStore: VectorStore | undefined;
  try {
    const nativeSql = native(() => folder.openSql(sql));
    store = new SqlStore(nativeSql);
    // Core schemas are applied at every open; a failure closes what was opened.
    const manager = await openSchemas(store, schemas);
    if (analytics !== false) engine = await openAnalyticsStore(folder, nativeSql, analytics ?? {});
    kvStore = kv === false ? new MemoryKvStore() : await openKvStore(folder, { onLocked: 'readOnly', ...kv });
    if (vectors !== false) vectorStore = await openVectorStore({ ...vectors, dir: folder.dir, crypto: cryptoOf(folder) });
    return new DataLayer(folder, store, manager, engine, repositories, kvStore, vectorStore);
  } catch (e) {
    await vectorStore?.close().catch(() => undefined);
    kvStore?.close();
    await engine?.close().catch(() => undefined);
    store?.close();
    folder.close();
    throw e;
  }
}
