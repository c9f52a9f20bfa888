import { existsSync } from 'node:fs';
import { privateFolder, tightenModes } from './util/file-modes.js';
import { join, resolve } from 'node:path';
import { AicoDataError, invalidArgument, native, nativeAsync } from './errors.js';
import { openFolder, type NativeFolder } from './native/index.js';
import { cryptoOf, type Crypto } from './crypto.js';
import { createServices, type Repositories, type Services, type UnitOfWork } from './domain/index.js';
import { createLibsqlRepositories, type LibsqlRepositoriesOptions } from './repositories/index.js';
import { openSchemas, type SchemaManager, type SchemaOpenOptions } from './schema/index.js';
import { openAnalyticsStore, type AnalyticsOptions, type AnalyticsStore } from './stores/analytics/index.js';
import { kvDegradation, MemoryKvStore, openKvStoreOrDegrade, repairKvStore, walRecoveryMode, type KvDegradation, type KvOptions, type KvRepairReport, type KvStoreLike } from './stores/kv/index.js';
import { SqlStore, type SqlOptions } from './stores/sql/index.js';
import { DataAccessLayer } from './dal/index.js';
import { LibsqlKeywordRecall, LibsqlMemoryRepository } from './repositories/libsql/index.js';
import { MemoryVectorIndex, SemanticMemory } from './memories/index.js';
import { createSemanticRecall, openVectorStore, type VectorStore, type VectorStoreOptions } from './stores/vectors/index.js';
import { deriveBusKeys, InProcessBus, type BusKeys, type MessageBus } from './bus/index.js';
import type { DatabaseServices } from './services/index.js';
import { serveOn, type ServeBusOptions } from './services/serve.js';
import {
  createOutboxDispatcher,
  type ExistingStores,
  forgetStatus,
  forgetUser,
  repairConsistency,
  verifyConsistency,
  type ConsistencyReport,
  type DerivedStores,
  type ForgetStatus,
  type OutboxDispatcher,
  type OutboxOptions,
  type RepairReport,
} from './outbox/index.js';
import { SyncService, type SyncOptions } from './sync/index.js';
import { resumedRotation, rotateKeys, writeBackup, type BackupOptions, type BackupResult, type RotateKeysOptions, type RotateKeysResult } from './backup/index.js';

/** Argon2id cost for a new key file. Defaults: 64 MiB, 3 passes, 1 lane (the floor). */
/** One store running degraded (see {@link DataLayer.degradations}). */
export type DataLayerDegradation =
  | ({ store: 'kv' } & KvDegradation)
  | { store: 'analytics'; mode: 'rebuilding'; path: string; code: string; message: string; repair: string };

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
  /**
   * The message bus change events go to (`data/<entity>/<created|updated|deleted>/v1`) and
   * `serveBus` answers on. Default: a new in-process bus (closed with the layer); pass a
   * `connectZmqBus(...)` for AICO's ZeroMQ bus (left open on close); `false` for no events.
   */
  bus?: MessageBus | false;
  /**
   * Outbox dispatcher options, or `false` to not dispatch in this process (rows then wait for
   * a process that does; memories are written to Chroma directly).
   */
  outbox?: OutboxOptions | false;
  /** Device sync options (`data.sync`); conflicts are published on `bus` unless `publish` is given. */
  sync?: SyncOptions;
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
  /** The message bus events are published on (undefined with `bus: false`). */
  readonly bus: MessageBus | undefined;
  /** The outbox dispatcher: applies committed changes to Chroma, DuckDB, RocksDB and the bus (undefined with `outbox: false`). */
  readonly outbox: OutboxDispatcher | undefined;
  /** The data folder. */
  readonly dir: string;
  /** Federated sync with the user's other devices (created on first use). */
  get sync(): SyncService {
    if (this.#closed) throw new AicoDataError('CLOSED', 'the data layer was closed');
    const bus = this.bus;
    this.#sync ??= new SyncService(this.sql, this.crypto, {
      ...(bus ? { publish: (topic: string, payload: unknown) => bus.publish(topic, payload) } : {}),
      ...this.#syncOptions,
    });
    return this.#sync;
  }
  /** True when this open created the folder. */
  readonly created: boolean;
  /** Public id of the folder's data key (names backups and sync peers; not secret). */
  readonly keyId: string;

  readonly #folder: NativeFolder;
  readonly #derived: DerivedStores;
  readonly #ownsBus: boolean;
  readonly #syncOptions: SyncOptions | undefined;
  #sync: SyncService | undefined;
  #closed = false;
  /** Set while rotateKeys closes the stores: the folder (the keys) stays open for the rotation. */
  #rotating = false;
  /** Backups in flight: a key rotation waits for them before it closes the stores. */
  readonly #backups = new Set<Promise<unknown>>();

  /** @internal Use {@link openDataLayer}. */
  constructor(
    folder: NativeFolder,
    sql: SqlStore,
    schemas: SchemaManager,
    analytics: AnalyticsStore | undefined,
    repositories: LibsqlRepositoriesOptions | undefined,
    kv: KvStoreLike,
    vectors: VectorStore | undefined,
    wiring: {
      bus: MessageBus | undefined;
      ownsBus: boolean;
      outbox: OutboxOptions | false | undefined;
      existing?: ExistingStores;
      sync?: SyncOptions;
    } = { bus: undefined, ownsBus: false, outbox: false },
  ) {
    this.#syncOptions = wiring.sync;
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
    const index = vectors ? new MemoryVectorIndex(vectors.memories) : undefined;
    this.bus = wiring.bus;
    this.#ownsBus = wiring.ownsBus;
    const stores = { sql, repos: layer.repos, index, analytics, kv };
    this.outbox = wiring.outbox === false ? undefined : createOutboxDispatcher(stores, wiring.bus, wiring.outbox, wiring.existing);
    this.#derived = { ...stores, dispatcher: this.outbox, ...(vectors ? { scrubVectors: () => vectors.scrub() } : {}) };
    const outbox = this.outbox;
    this.memories = new SemanticMemory({
      repository: layer.repos.memories,
      unitOfWork: layer.unitOfWork,
      index,
      // Through the outbox: the commit holds the change, one dispatch pass carries it to Chroma.
      ...(outbox ? { propagate: (ids: readonly string[]) => outbox.flush(ids) } : {}),
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
   *
   * The data key is unchanged, so a copy of the old key file (in a backup, a copied or synced
   * folder) still opens today's data with the old password. Only {@link DataLayer.rotateKeys}
   * (a new data key; old key files then fail with `WRONG_PASSWORD` or `CORRUPT`) retires the old
   * password's access.
   */
  async changePassword(oldPassword: string, newPassword: string, kdf?: KdfOptions): Promise<void> {
    if (this.#closed) throw new AicoDataError('CLOSED', 'the data layer was closed');
    if (typeof oldPassword !== 'string' || typeof newPassword !== 'string') throw invalidArgument('passwords must be strings');
    if (newPassword.length === 0) throw invalidArgument('the new password must not be empty');
    await nativeAsync(() => this.#folder.changePassword(oldPassword, newPassword, kdf));
  }

  /**
   * Compares Chroma, DuckDB and the RocksDB cache with libSQL: ids missing from or extra in each.
   * Run it after `outbox.drain()`: pending rows show up as differences until applied.
   */
  verifyConsistency(): Promise<ConsistencyReport> {
    if (this.#closed) throw new AicoDataError('CLOSED', 'the data layer was closed');
    return verifyConsistency(this.#derived);
  }

  /** Makes the derived stores match libSQL again (upserts, removals, an analytics sync) and checks again. */
  repair(): Promise<RepairReport> {
    if (this.#closed) throw new AicoDataError('CLOSED', 'the data layer was closed');
    return repairConsistency(this.#derived);
  }

  /**
   * Removes a user and everything of theirs from every store, through the outbox (crash-safe:
   * the next open finishes it), and resolves with what is left ({@link ForgetStatus.clean}).
   */
  forgetUser(userId: string): Promise<ForgetStatus> {
    if (this.#closed) throw new AicoDataError('CLOSED', 'the data layer was closed');
    return forgetUser(this.#derived, userId);
  }

  /** What every store still holds of a user (the proof for {@link DataLayer.forgetUser}). */
  forgetStatus(userId: string): Promise<ForgetStatus> {
    if (this.#closed) throw new AicoDataError('CLOSED', 'the data layer was closed');
    return forgetStatus(this.#derived, userId);
  }

  /**
   * Answers the database request topics (`memory/store/request/v1`, ...) on {@link DataLayer.bus},
   * or on `options.bus` (e.g. a ZeroMQ bus connected with {@link DataLayer.busKeys}), to which
   * this layer's change events are then forwarded.
   */
  serveBus(options: ServeBusOptions = {}): Promise<DatabaseServices> {
    if (this.#closed) throw new AicoDataError('CLOSED', 'the data layer was closed');
    const { bus, ...rest } = options ?? {};
    const target = bus ?? this.bus;
    if (!target) throw new AicoDataError('INVALID_ARGUMENT', 'this data layer was opened with bus: false: pass serveBus({ bus })', { field: 'bus' });
    return serveOn(target, this.bus, this, rest);
  }

  /**
   * CURVE keys for the ZeroMQ bus derived from this folder's data key: the broker's pair and the
   * pair of client `client` (default `owner`). The same on every open with the password; a
   * process that cannot open the folder cannot compute them. `rotateKeys` changes them.
   */
  busKeys(client?: string): BusKeys {
    if (this.#closed) throw new AicoDataError('CLOSED', 'the data layer was closed');
    return deriveBusKeys(this.crypto, client);
  }

  /**
   * Writes one encrypted, authenticated backup file while the data layer stays open and
   * writable: a consistent copy of libSQL (online backup API, pages stay encrypted), a RocksDB
   * checkpoint, the key file (the data key wrapped under the password) and a manifest with the
   * schema versions. Analytics and Chroma are rebuilt from libSQL after a restore. `file` must
   * not exist. Restore with {@link restoreBackup} and the password of the time of the backup.
   */
  backup(file: string, options?: BackupOptions): Promise<BackupResult> {
    if (this.#closed) throw new AicoDataError('CLOSED', 'the data layer was closed');
    const running = writeBackup(this.#folder, this.schemas, file, options);
    const settled = running.catch(() => undefined);
    this.#backups.add(settled);
    void settled.finally(() => this.#backups.delete(settled));
    return running;
  }

  /**
   * Re-encrypts every store under a new data key (new key file; the password stays). The stores
   * must be offline while their files are rewritten, so this closes the data layer: reopen it
   * with {@link openDataLayer} afterwards. Crash-safe: a rotation interrupted at any point is
   * finished by the next open ({@link DataLayer.resumedRotation}). Analytics are re-synced at the
   * next open; Chroma's folder is dropped and refilled from libSQL by {@link DataLayer.repair}.
   */
  async rotateKeys(options?: RotateKeysOptions): Promise<RotateKeysResult> {
    if (this.#closed) throw new AicoDataError('CLOSED', 'the data layer was closed');
    this.#rotating = true;
    await Promise.all(this.#backups);
    await this.close();
    try {
      return await rotateKeys(this.#folder, options);
    } finally {
      this.#folder.close();
    }
  }

  /**
   * What runs degraded in this open (empty when everything is healthy): a damaged KV store
   * (`data.kv` calls throw `CORRUPT`; run {@link DataLayer.repairKv} / `aico-data repair`), or an
   * analytics store that rebuilds from libSQL before its first answer. Primary data is never here:
   * libSQL either opens or `openDataLayer` fails.
   */
  degradations(): DataLayerDegradation[] {
    if (this.#closed) throw new AicoDataError('CLOSED', 'the data layer was closed');
    const out: DataLayerDegradation[] = [];
    const kv = kvDegradation(this.kv);
    if (kv) out.push({ store: 'kv', ...kv });
    if (this.analytics?.rebuildPending) {
      out.push({ store: 'analytics', mode: 'rebuilding', path: join(this.dir, 'analytics.snapshot'), code: 'SNAPSHOT_REJECTED_OR_MISSING', message: 'no usable snapshot: rebuilt from libSQL before the first query', repair: 'none needed' });
    }
    return out;
  }

  /** The RocksDB WAL recovery mode the KV store opens with (`pointInTime`, see the KV README). */
  get kvWalRecovery(): string {
    return walRecoveryMode();
  }

  /**
   * Salvages the RocksDB store (`<dir>/kv`): RocksDB's repair or a rebuild, damaged files kept
   * aside, losses reported per namespace and queue message. Only while `data.kv` is not the
   * RocksDB store (degraded, or opened with `kv: false`): `LOCKED` otherwise. Reopen the layer
   * afterwards to use the repaired store.
   */
  async repairKv(): Promise<KvRepairReport> {
    if (this.#closed) throw new AicoDataError('CLOSED', 'the data layer was closed');
    if (this.kv.persistent && kvDegradation(this.kv)?.mode !== 'unavailable' && !this.kv.closed) {
      throw new AicoDataError('LOCKED', 'the KV store is open in this data layer: open with `kv: false` (the CLI does) to repair it', { component: 'kv' });
    }
    return repairKvStore(this.#folder);
  }

  /** The key rotation this open finished because a crash had interrupted it (else undefined). */
  get resumedRotation(): RotateKeysResult | undefined {
    if (this.#closed) throw new AicoDataError('CLOSED', 'the data layer was closed');
    return resumedRotation(this.#folder);
  }

  /** Closes every store and forgets the keys. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#sync?.close().catch(() => undefined);
    // The dispatcher first: its pass in progress uses the stores below. Pending rows stay for the next open.
    await this.outbox?.close().catch(() => undefined);
    if (this.#ownsBus) await this.bus?.close().catch(() => undefined);
    // The Chroma server is a child process: stop it before anything else.
    await this.vectors?.close().catch(() => undefined);
    // Analytics next: its snapshot reads the SQL store.
    await this.analytics?.close().catch(() => undefined);
    // RocksDB must be closed explicitly, never torn down late at process exit. A failing close
    // (RocksDB still in its disk-full error state) must not leave the SQL store and keys open.
    let kvError: unknown;
    try {
      this.kv.close();
    } catch (e) {
      kvError = e;
    }
    this.sql.close();
    if (!this.#rotating) this.#folder.close();
    // Files made while open (RocksDB compaction output, snapshots, Chroma's folder) become private too.
    tightenModes(this.dir);
    if (kvError !== undefined) throw kvError;
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
async function openDataLayerPrivately(options: OpenDataLayerOptions): Promise<DataLayer> {
  if (options === null || typeof options !== 'object') throw invalidArgument('openDataLayer takes an options object');
  const { dir, password, create = true, kdf, sql, schemas, analytics, repositories, kv, vectors, bus, outbox, sync: syncOptions } = options;
  if (bus !== undefined && bus !== false && (bus === null || typeof bus !== 'object' || typeof bus.publish !== 'function')) throw invalidArgument('bus must be a MessageBus or false');
  if (outbox !== undefined && outbox !== false && (outbox === null || typeof outbox !== 'object')) throw invalidArgument('outbox must be an options object or false');
  if (vectors !== undefined && vectors !== false && (vectors === null || typeof vectors !== 'object')) throw invalidArgument('vectors must be an options object or false');
  if (kv !== undefined && kv !== false && (kv === null || typeof kv !== 'object')) throw invalidArgument('kv must be an options object or false');
  if (typeof dir !== 'string' || dir.trim() === '') throw invalidArgument('dir must be a non-empty path');
  if (typeof password !== 'string' || password.length === 0) throw invalidArgument('password must be a non-empty string');
  if (kdf !== undefined && (kdf === null || typeof kdf !== 'object')) throw invalidArgument('kdf must be an object');
  const folder = await nativeAsync(() => openFolder(dir, password, create, kdf)).catch((e: unknown) => {
    // Name the damaged file: the core says only "key file".
    if (e instanceof AicoDataError && e.code === 'CORRUPT' && /key file/i.test(e.message)) {
      const path = join(dir, 'aico-data.key');
      throw new AicoDataError('CORRUPT', `${path}: ${e.message}`, { ...(e.details ?? {}), path }, { cause: e, hint: e.hint ?? 'restore the data folder from a backup (CLI: aico-data restore)' });
    }
    throw e;
  });
  // Which derived stores existed before this open (the outbox replays to them what they miss).
  const existing = { chroma: existsSync(join(folder.dir, 'chroma')), rocksdb: existsSync(join(folder.dir, 'kv')) };
  let store: SqlStore | undefined;
  let engine: AnalyticsStore | undefined;
  let kvStore: KvStoreLike | undefined;
  let vectorStore: VectorStore | undefined;
  try {
    // A folder that already holds derived stores but lost aico.db must not silently start empty.
    const dbPath = join(folder.dir, 'aico.db');
    if (!folder.created && !existsSync(dbPath) && (existing.rocksdb || existsSync(join(folder.dir, 'analytics.snapshot')))) {
      throw new AicoDataError('CORRUPT', `${dbPath}: the primary database is missing from a folder that holds data`, { path: dbPath }, { hint: 'restore the data folder from a backup (CLI: aico-data restore)' });
    }
    const nativeSql = native(() => {
      try {
        return folder.openSql(sql);
      } catch (e) {
        throw namePrimaryDamage(e, join(folder.dir, 'aico.db'));
      }
    });
    store = new SqlStore(nativeSql);
    // Core schemas are applied at every open; a failure closes what was opened.
    const manager = await openSchemas(store, schemas);
    if (analytics !== false) engine = await openAnalyticsStore(folder, nativeSql, analytics ?? {});
    // A damaged KV store degrades (calls throw CORRUPT naming `aico-data repair`) instead of locking the user out.
    kvStore = kv === false ? new MemoryKvStore() : await openKvStoreOrDegrade(folder, { onLocked: 'readOnly', ...kv }, join(folder.dir, 'kv'));
    // A damaged Chroma index is dropped by the store; the outbox then rebuilds it from libSQL.
    let rebuildIndex: () => Promise<void> = async () => undefined;
    if (vectors !== false) {
      vectorStore = await openVectorStore({ onDataReset: () => rebuildIndex(), ...vectors, dir: folder.dir, crypto: cryptoOf(folder) });
    }
    const ownsBus = bus === undefined;
    const wiring = { bus: bus === false ? undefined : (bus ?? new InProcessBus({ source: 'aico-data' })), ownsBus, outbox, existing, ...(syncOptions ? { sync: syncOptions } : {}) };
    const layer = new DataLayer(folder, store, manager, engine, repositories, kvStore, vectorStore, wiring);
    rebuildIndex = async () => {
      if (!layer.outbox) return;
      await layer.sql.execute(`INSERT OR IGNORE INTO outbox_skipped (target, seq) VALUES ('chroma', 0)`);
      layer.outbox.kick();
    };
    // Replays what a crash left in the outbox, then keeps applying new rows.
    layer.outbox?.start();
    return layer;
  } catch (e) {
    await vectorStore?.close().catch(() => undefined);
    kvStore?.close();
    await engine?.close().catch(() => undefined);
    store?.close();
    folder.close();
    // SQLite's own words for a damaged database, wherever the open first read it.
    if (/database disk image is malformed|file is not a database/i.test(String((e as Error)?.message ?? ''))) throw namePrimaryDamage(e, resolve(dir, 'aico.db'));
    throw e;
  }
}

/**
 * A damaged primary store is not degraded (it is the data): the open fails, and the error names
 * the file and the fix (restoring a backup), whatever words the engine used.
 */
function namePrimaryDamage(e: unknown, path: string): unknown {
  const err = e as { code?: string; message?: string; details?: Record<string, unknown> };
  if (err?.code !== 'CORRUPT' && !(err?.code === 'SQL_ERROR' && /not a database|malformed|corrupt/i.test(err.message ?? ''))) return e;
  const message = String(err.message ?? '');
  return new AicoDataError(
    'CORRUPT',
    message.includes(path) ? message : `${path}: ${message}`,
    { ...(err.details ?? {}), path },
    { cause: e, hint: 'the primary database is damaged: restore the data folder from a backup (CLI: aico-data restore)' },
  );
}

/**
 * Opens (or creates) a data folder: see the options above. Files and folders the engines create
 * are private (0600 / 0700; `src/util/file-modes.ts`).
 */
export async function openDataLayer(options: OpenDataLayerOptions): Promise<DataLayer> {
  if (typeof options?.dir === 'string' && options.dir.trim() !== '') privateFolder(options.dir);
  const layer = await openDataLayerPrivately(options);
  // Files of folders made by older versions, or made wider since.
  tightenModes(layer.dir);
  return layer;
}
