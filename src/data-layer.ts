import { privateFolder, tightenModes } from './util/file-modes.js';
import { join } from 'node:path';
import { AicoDataError, invalidArgument, nativeAsync } from './errors.js';
import type { NativeFolder } from './native/index.js';
import { cryptoOf, type Crypto } from './crypto.js';
import type { DisposalStack } from './util/disposal-stack.js';
import type { Repositories, Services, UnitOfWork } from './domain/index.js';
import type { SchemaManager } from './schema/index.js';
import type { AnalyticsStore } from './stores/analytics/index.js';
import { KvStore, kvDegradation, repairKvStore, walRecoveryMode, type KvDegradation, type KvRepairReport, type KvStoreLike } from './stores/kv/index.js';
import type { SqlStore } from './stores/sql/index.js';
import type { SemanticMemory } from './memories/index.js';
import type { VectorStore } from './stores/vectors/index.js';
import { deriveBusKeys, deriveNatsCredentials, type BusKeys, type MessageBus, type NatsCredentials } from './bus/index.js';
import type { DatabaseServices } from './services/index.js';
import { serveOn, type ServeBusOptions } from './services/serve.js';
import { forgetStatus, forgetUser, repairConsistency, verifyConsistency, type ConsistencyReport, type DerivedStores, type ForgetStatus, type OutboxDispatcher, type RepairReport } from './outbox/index.js';
import { SyncService, type SyncOptions } from './sync/index.js';
import { resumedRotation, rotateKeys, writeBackup, type BackupOptions, type BackupResult, type RotateKeysOptions, type RotateKeysResult } from './backup/index.js';
import { composeDataLayer, type DataLayerParts, type EmbedderInUse, type KdfOptions, type OpenDataLayerOptions } from './compose.js';

export type { KdfOptions, OpenDataLayerOptions } from './compose.js';

/** One store running degraded (see {@link DataLayer.degradations}). */
export type DataLayerDegradation =
  | ({ store: 'kv' } & KvDegradation)
  | { store: 'analytics'; mode: 'rebuilding'; path: string; code: string; message: string; repair: string };

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
  /**
   * Which embedder semantic memory uses and why: the app's `vectors.embedder`, else the one the
   * folder's vectors are made with, else the local model when installed, else the hashing
   * embedder (with `advice`). Undefined with `vectors: false`.
   */
  readonly embedder: EmbedderInUse | undefined;
  /** Federated sync with the user's other devices (created on first use). */
  get sync(): SyncService {
    if (this.#closed) throw new AicoDataError('CLOSED', 'the data layer was closed');
    const bus = this.bus;
    if (!this.#sync) {
      const sync = new SyncService(this.sql, this.crypto, {
        ...(bus ? { publish: (topic: string, payload: unknown) => bus.publish(topic, payload) } : {}),
        ...this.#syncOptions,
      });
      // Closed first: it writes through every store below.
      this.#stores.defer(() => sync.close().catch(() => undefined));
      this.#sync = sync;
    }
    return this.#sync;
  }
  /** True when this open created the folder. */
  readonly created: boolean;
  /** Public id of the folder's data key (names backups and sync peers; not secret). */
  readonly keyId: string;

  readonly #folder: NativeFolder;
  readonly #stores: DisposalStack;
  readonly #derived: DerivedStores;
  readonly #syncOptions: SyncOptions | undefined;
  #sync: SyncService | undefined;
  #closed = false;
  /** Set while rotateKeys closes the stores: the folder (the keys) stays open for the rotation. */
  #rotating = false;
  /** Backups in flight: a key rotation waits for them before it closes the stores. */
  readonly #backups = new Set<Promise<unknown>>();

  /** @internal Use {@link openDataLayer}: the facade over what {@link composeDataLayer} built. */
  constructor(parts: DataLayerParts) {
    this.#folder = parts.folder;
    this.#stores = parts.stores;
    this.#derived = parts.derived;
    this.#syncOptions = parts.syncOptions;
    this.sql = parts.sql;
    this.schemas = parts.schemas;
    this.analytics = parts.analytics;
    this.kv = parts.kv;
    this.vectors = parts.vectors;
    this.bus = parts.bus;
    this.repos = parts.repos;
    this.unitOfWork = parts.unitOfWork;
    this.outbox = parts.outbox;
    this.memories = parts.memories;
    this.services = parts.services;
    this.dir = parts.folder.dir;
    this.embedder = parts.embedder;
    this.created = parts.folder.created;
    this.keyId = parts.folder.keyId;
    this.crypto = cryptoOf(parts.folder, () => {
      if (this.#closed) throw new AicoDataError('CLOSED', 'the data layer was closed');
    });
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
   * User and password of client `client` (default `owner`) on a NATS bus, derived from this
   * folder's data key like {@link DataLayer.busKeys}: configure the server with them and pass
   * them to `connectNatsBus`. `rotateKeys` changes them.
   */
  natsCredentials(client?: string): NatsCredentials {
    if (this.#closed) throw new AicoDataError('CLOSED', 'the data layer was closed');
    return deriveNatsCredentials(this.crypto, client);
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
   * Writes the KV store's WAL replay dropped at this open because the log was damaged after a
   * crash (the damaged ones included), or null when nothing was dropped (or the store is not RocksDB).
   */
  get kvWalDroppedWrites(): number | null {
    return this.kv instanceof KvStore ? this.kv.walDroppedWrites : null;
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

  /**
   * Closes every store (in reverse order of opening, as a failed open does) and forgets the keys.
   * Idempotent. Throws the first close error (RocksDB still in a disk-full error state) after
   * everything else is closed.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#stores.disposeAsync();
    } finally {
      if (!this.#rotating) this.#folder.close();
      // Files made while open (RocksDB compaction output, snapshots, Chroma's folder) become private too.
      tightenModes(this.dir);
    }
  }

  /** `await using data = await openDataLayer(...)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Opens (or creates) an aico-data folder with its master password.
 *
 * The password is checked against the key file before any store is opened: a wrong one
 * fails with `WRONG_PASSWORD` and leaves every file byte-identical. Files and folders the
 * engines create are private (0600 / 0700; `src/util/file-modes.ts`).
 *
 * @example
 * ```ts
 * import { openDataLayer } from 'aico-data';
 * await using data = await openDataLayer({ dir: './companion-data', password: process.env.AICO_DATA_PASSWORD! });
 * await data.sql.exec('CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, body TEXT)');
 * ```
 */
export async function openDataLayer(options: OpenDataLayerOptions): Promise<DataLayer> {
  if (typeof options?.dir === 'string' && options.dir.trim() !== '') privateFolder(options.dir);
  const layer = new DataLayer(await composeDataLayer(options));
  // Files of folders made by older versions, or made wider since.
  tightenModes(layer.dir);
  return layer;
}
