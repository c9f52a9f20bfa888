/**
 * The composition root: builds every component of an open data folder in dependency order and
 * registers each one's disposal on one {@link DisposalStack}, so that `DataLayer.close()` and a
 * failed open unwind the same things in the same (reverse) order. {@link DataLayer} is the
 * facade over the {@link DataLayerParts} this returns.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AicoDataError, invalidArgument, native, nativeAsync } from './errors.js';
import { openFolder, type NativeFolder } from './native/index.js';
import { cryptoOf } from './crypto.js';
import { DisposalStack } from './util/disposal-stack.js';
import { createServices, type Repositories, type Services, type UnitOfWork } from './domain/index.js';
import { createLibsqlRepositories, type LibsqlRepositoriesOptions } from './repositories/index.js';
import { openSchemas, type SchemaManager, type SchemaOpenOptions } from './schema/index.js';
import { openAnalyticsStore, type AnalyticsOptions, type AnalyticsStore } from './stores/analytics/index.js';
import { MemoryKvStore, openKvStoreOrDegrade, type KvOptions, type KvStoreLike } from './stores/kv/index.js';
import { SqlStore, type SqlOptions } from './stores/sql/index.js';
import { DataAccessLayer } from './dal/index.js';
import { LibsqlKeywordRecall, LibsqlMemoryRepository } from './repositories/libsql/index.js';
import { MemoryVectorIndex, SemanticMemory } from './memories/index.js';
import { createSemanticRecall, openVectorStore, type VectorStore, type VectorStoreOptions } from './stores/vectors/index.js';
import { chooseDefaultEmbedder, EmbedderRecord, type DefaultEmbedderChoice } from './stores/vectors/default-embedder.js';
import { InProcessBus, type MessageBus } from './bus/index.js';
import { createOutboxDispatcher, type DerivedStores, type OutboxDispatcher, type OutboxOptions } from './outbox/index.js';
import type { SyncOptions } from './sync/index.js';

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

/** Everything an open folder is made of, built by {@link composeDataLayer}. */
export interface DataLayerParts {
  /** The folder and its keys: outlives `stores` (a key rotation closes the stores, then rewrites the files). */
  folder: NativeFolder;
  /** Disposes every component but the folder, in reverse order of construction. */
  stores: DisposalStack;
  sql: SqlStore;
  schemas: SchemaManager;
  analytics: AnalyticsStore | undefined;
  kv: KvStoreLike;
  vectors: VectorStore | undefined;
  bus: MessageBus | undefined;
  repos: Repositories;
  unitOfWork: UnitOfWork;
  outbox: OutboxDispatcher | undefined;
  memories: SemanticMemory;
  services: Services;
  /** The stores the outbox keeps in step with libSQL (consistency checks, repair, forgetUser). */
  derived: DerivedStores;
  syncOptions: SyncOptions | undefined;
  /** Which embedder semantic memory uses and why (undefined without vectors). */
  embedder: EmbedderInUse | undefined;
}

/** The embedder in use: the app's, or the default choice (`doctor` and `status` print it). */
export type EmbedderInUse = Omit<DefaultEmbedderChoice, 'kind'> & { kind: DefaultEmbedderChoice['kind'] | 'app' };

function validate(options: OpenDataLayerOptions): void {
  if (options === null || typeof options !== 'object') throw invalidArgument('openDataLayer takes an options object');
  const { dir, password, kdf, kv, vectors, bus, outbox } = options;
  if (bus !== undefined && bus !== false && (bus === null || typeof bus !== 'object' || typeof bus.publish !== 'function')) throw invalidArgument('bus must be a MessageBus or false');
  if (outbox !== undefined && outbox !== false && (outbox === null || typeof outbox !== 'object')) throw invalidArgument('outbox must be an options object or false');
  if (vectors !== undefined && vectors !== false && (vectors === null || typeof vectors !== 'object')) throw invalidArgument('vectors must be an options object or false');
  if (kv !== undefined && kv !== false && (kv === null || typeof kv !== 'object')) throw invalidArgument('kv must be an options object or false');
  if (typeof dir !== 'string' || dir.trim() === '') throw invalidArgument('dir must be a non-empty path');
  if (typeof password !== 'string' || password.length === 0) throw invalidArgument('password must be a non-empty string');
  if (kdf !== undefined && (kdf === null || typeof kdf !== 'object')) throw invalidArgument('kdf must be an object');
}

/** Unlocks the key file; a damaged one is named with its path. */
async function unlock(dir: string, password: string, create: boolean, kdf: KdfOptions | undefined): Promise<NativeFolder> {
  return nativeAsync(() => openFolder(dir, password, create, kdf)).catch((e: unknown) => {
    // Name the damaged file: the core says only "key file".
    if (e instanceof AicoDataError && e.code === 'CORRUPT' && /key file/i.test(e.message)) {
      const path = join(dir, 'aico-data.key');
      throw new AicoDataError('CORRUPT', `${path}: ${e.message}`, { ...(e.details ?? {}), path }, { cause: e, hint: e.hint ?? 'restore the data folder from a backup (CLI: aico-data restore)' });
    }
    throw e;
  });
}

/**
 * Opens the folder and builds its components: keys, libSQL, schemas, DuckDB, RocksDB, Chroma,
 * the bus, repositories, the outbox, semantic memory and services. On any failure what was
 * built is disposed (the folder last) and the error is thrown.
 */
export async function composeDataLayer(options: OpenDataLayerOptions): Promise<DataLayerParts> {
  validate(options);
  const { dir, password, create = true, kdf, sql, schemas, analytics, repositories, kv, vectors, bus, outbox, sync: syncOptions } = options;
  const folder = await unlock(dir, password, create, kdf);
  // Which derived stores existed before this open (the outbox replays to them what they miss).
  const existing = { chroma: existsSync(join(folder.dir, 'chroma')), rocksdb: existsSync(join(folder.dir, 'kv')) };
  const stores = new DisposalStack();
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
        throw namePrimaryDamage(e, dbPath);
      }
    });
    const store = stores.use(new SqlStore(nativeSql), (s) => s.close());
    // Core schemas are applied at every open.
    const manager = await openSchemas(store, schemas);
    // Analytics closes before the SQL store: its snapshot reads it.
    const engine = analytics === false ? undefined : stores.use(await openAnalyticsStore(folder, nativeSql, analytics ?? {}), (e) => e.close().catch(() => undefined));
    // A damaged KV store degrades (calls throw CORRUPT naming `aico-data repair`) instead of locking the user out.
    // RocksDB is closed explicitly, never torn down late at process exit; its close error (still in
    // a disk-full error state) is the one close() reports, after the rest is closed.
    const kvStore = stores.use(kv === false ? new MemoryKvStore() : await openKvStoreOrDegrade(folder, { onLocked: 'readOnly', ...kv }, join(folder.dir, 'kv')), (k) => k.close());
    // A damaged Chroma index is dropped by the store, which then signals it; the outbox (built
    // below, as it feeds Chroma) rebuilds it from libSQL. Without an outbox the signal is a no-op.
    let rebuildIndex: (() => Promise<void>) | undefined;
    // Without an app embedder: the one the folder's vectors are made with, else the local model if installed.
    // The record is in libSQL (read once from KV, where earlier versions kept it).
    const embedderRecord = new EmbedderRecord(store, kvStore);
    const embedderChoice =
      vectors === false
        ? undefined
        : vectors?.embedder
          ? { embedder: vectors.embedder, kind: 'app' as const, why: 'the app passed vectors.embedder' }
          : chooseDefaultEmbedder({ record: embedderRecord, crypto: cryptoOf(folder), vectorsExisted: existing.chroma });
    // An app's own embedder is recorded for a folder without a record, so that later opens
    // without it (the CLI) know the folder's vectors are not hashing ones.
    if (embedderChoice?.kind === 'app' && !embedderRecord.read()) embedderRecord.write(embedderChoice.embedder);
    const vectorStore =
      vectors === false
        ? undefined
        : stores.use(
            await openVectorStore({
              onDataReset: () => rebuildIndex?.(),
              ...vectors,
              ...(vectors?.embedder ? {} : { embedder: embedderChoice!.embedder }),
              onEmbedderChange: (e) => {
                embedderRecord.write(e);
                vectors?.onEmbedderChange?.(e);
              },
              dir: folder.dir,
              crypto: cryptoOf(folder),
            }),
            // The Chroma server is a child process: stopped before the stores it was fed from.
            (v) => v.close().catch(() => undefined),
          );
    const messageBus = bus === false ? undefined : (bus ?? stores.use(new InProcessBus({ source: 'aico-data' }), (b) => b.close().catch(() => undefined)));
    const dal = new DataAccessLayer(store);
    const layer = createLibsqlRepositories(dal, repositories);
    const index = vectorStore ? new MemoryVectorIndex(vectorStore.memories) : undefined;
    const fed = { sql: store, repos: layer.repos, index, analytics: engine, kv: kvStore };
    // The dispatcher closes first: its pass in progress uses the stores below. Pending rows stay for the next open.
    const dispatcher = outbox === false ? undefined : stores.use(createOutboxDispatcher(fed, messageBus, outbox, existing), (d) => d.close().catch(() => undefined));
    if (dispatcher) {
      rebuildIndex = async () => {
        await store.execute(`INSERT OR IGNORE INTO outbox_skipped (target, seq) VALUES ('chroma', 0)`);
        dispatcher.kick();
      };
    }
    const keyword = new LibsqlKeywordRecall(dal);
    const memories = new SemanticMemory({
      repository: layer.repos.memories,
      unitOfWork: layer.unitOfWork,
      index,
      // Through the outbox: the commit holds the change, one dispatch pass carries it to Chroma.
      ...(dispatcher ? { propagate: (ids: readonly string[]) => dispatcher.flush(ids) } : {}),
      embedder: () => vectorStore?.embedder,
      hybrid: vectorStore
        ? (weights, withKeyword) => new LibsqlMemoryRepository(dal, createSemanticRecall(vectorStore, { ...(withKeyword ? { keyword } : {}), ...(weights ? { weights } : {}) }))
        : undefined,
    });
    const derived: DerivedStores = { ...fed, dispatcher, ...(vectorStore ? { scrubVectors: () => vectorStore.scrub() } : {}) };
    // Replays what a crash left in the outbox, then keeps applying new rows.
    dispatcher?.start();
    return {
      folder,
      stores,
      sql: store,
      schemas: manager,
      analytics: engine,
      kv: kvStore,
      vectors: vectorStore,
      bus: messageBus,
      repos: layer.repos,
      unitOfWork: layer.unitOfWork,
      outbox: dispatcher,
      memories,
      services: createServices(layer.repos, layer.unitOfWork),
      derived,
      syncOptions,
      embedder: embedderChoice,
    };
  } catch (e) {
    await stores.disposeAsync().catch(() => undefined);
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

