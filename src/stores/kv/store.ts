/** The encrypted RocksDB key-value store of a data folder. */
import { AicoDataError, invalidArgument, toAicoError } from '../../errors.js';
import type { KvDegradation } from './degraded.js';
import type { NativeKv } from '../../native/index.js';
import { KvBase } from './base.js';
import { closeAtExit, forgetAtExit } from './exit.js';
import { KvQueue } from './queue.js';
import type {
  KvKey,
  KvNamespaceInfo,
  KvNamespaceOptions,
  KvPutOptions,
  KvRange,
  KvScanPage,
  KvWriteOp,
} from './types.js';

/*
 * Point reads return views of a shared slab instead of one native Buffer each (creating a
 * Buffer from native code, and freeing its backing store later, cost more than the read),
 * the way Node's own Buffer pool serves small allocations: the native side writes the opened
 * value at `slabUsed` and returns its length. The slab is zero-filled when allocated and
 * holds only values this process has read; values larger than `SLAB_MAX_VALUE` come back as
 * Buffers of their own.
 */
const SLAB_BYTES = 16 * 1024;
const SLAB_MAX_VALUE = 4 * 1024;
let slab = Buffer.alloc(SLAB_BYTES);
let slabUsed = 0;

function slabFor(): Buffer {
  if (slabUsed > SLAB_BYTES - SLAB_MAX_VALUE) {
    slab = Buffer.alloc(SLAB_BYTES);
    slabUsed = 0;
  }
  return slab;
}

/** `getInto`'s result: a length in the slab, -1 (missing), or a Buffer of its own. */
function fromSlab(r: number | Buffer): Buffer | undefined {
  if (typeof r !== 'number') return r;
  if (r < 0) return undefined;
  const v = slab.subarray(slabUsed, slabUsed + r);
  slabUsed += (r + 7) & ~7;
  return v;
}

/** `getManyPacked`'s Buffer: `n` i32 lengths (-1: missing), then the values back to back. */
function unpack(packed: Buffer, n: number): Array<Buffer | undefined> {
  const out: Array<Buffer | undefined> = new Array(n);
  let at = n * 4;
  for (let i = 0; i < n; i++) {
    const len = packed.readInt32LE(i * 4);
    if (len < 0) {
      out[i] = undefined;
    } else {
      out[i] = packed.subarray(at, at + len);
      at += len;
    }
  }
  return out;
}

function entryArray(entries: Iterable<readonly [KvKey, Uint8Array]>): Array<[KvKey, Uint8Array]> {
  return (Array.isArray(entries) ? entries : Array.from(entries)) as Array<[KvKey, Uint8Array]>;
}

/**
 * The encrypted key-value store (RocksDB, one column family per namespace). Values are
 * sealed with XChaCha20-Poly1305 under the folder's RocksDB key, bound to their namespace
 * and key; keys stay plaintext so that scans are ordered (do not put secrets in keys).
 *
 * Every call has a synchronous form (runs on the calling thread: microseconds) and an
 * `*Async` form that never blocks the event loop on I/O: it first tries the operation
 * inline, from memory only (a read served by the memtable or block cache; a write that
 * needs no fsync and meets no write slowdown, at most 256 KiB), and otherwise runs it on
 * the libuv pool. Errors are {@link AicoDataError}s:
 * `INVALID_ARGUMENT` (empty or oversized key, value not bytes, unknown namespace), `CLOSED`,
 * `CORRUPT` (a value altered on disk), `LOCKED` (another process holds the store).
 *
 * @example
 * ```ts
 * kv.put('session', 'user:1', Buffer.from('state'), { ttlMs: 30 * 60_000 });
 * kv.get('session', 'user:1'); // Buffer, or undefined once expired
 * kv.putJson('config', 'theme', { dark: true });
 * for await (const [key, value] of kv.entries('cache', { prefix: 'embed:' })) { ... }
 * const seq = kv.queue.enqueue('jobs', 'payload');
 * for (const m of kv.queue.lease('jobs', 10, 30_000)) { work(m.payload); kv.queue.ack(m); }
 * ```
 */
export class KvStore extends KvBase {
  readonly persistent = true;
  readonly queue: KvQueue;
  readonly #n: NativeKv;
  /** `getInto` / `tryGetInto` bound to the store: plain functions, cheaper to call than methods. */
  readonly #getInto: (ns: string, key: KvKey, slab: Buffer, offset: number) => number | Buffer;
  readonly #tryGetInto: (ns: string, key: KvKey, slab: Buffer, offset: number) => number | Buffer;

  /** @internal Use `openKvStore`. */
  constructor(n: NativeKv) {
    super();
    this.#n = n;
    this.#getInto = n.getIntoFn(false);
    this.#tryGetInto = n.getIntoFn(true);
    this.queue = new KvQueue(n);
    closeAtExit(this);
  }

  get readOnly(): boolean {
    return this.#n.readOnly;
  }

  get closed(): boolean {
    return this.#n.closed;
  }

  /**
   * Writes this open's WAL replay dropped (the damaged ones included), or null. pointInTime recovery stops at
   * a damaged WAL record; the writes after it that were not yet flushed are gone, and this says
   * how many instead of losing them silently (see the KV README, "WAL damage").
   */
  get walDroppedWrites(): number | null {
    return this.#n.walDroppedWrites ?? null;
  }

  /** The store's directory (`<data folder>/kv`). */
  get path(): string {
    return this.#n.path;
  }

  /**
   * Set once a call found damage RocksDB could not see at open (a flipped block in an SST file
   * fails its checksum only when read): `DataLayer.degradations()` then reports it, with the repair.
   */
  #damage: KvDegradation | undefined;

  get degraded(): KvDegradation | undefined {
    return this.#damage;
  }

  /** `toAicoError`, recording a `CORRUPT` as damage and naming the repair command in its hint. */
  #noted(e: unknown): AicoDataError {
    const err = toAicoError(e);
    if (err.code !== 'CORRUPT') return err;
    this.#damage ??= { mode: 'damaged', path: this.#n.path, code: err.code, message: err.message, repair: 'aico-data repair' };
    return new AicoDataError('CORRUPT', `${err.message} (KV store ${this.#n.path})`, { ...(err.details ?? {}), path: this.#n.path }, {
      cause: e,
      hint: 'close the data layer and run DataLayer.repairKv() (CLI: aico-data repair) to salvage the KV store',
      cliHint: 'run `aico-data repair` to salvage the KV store',
    });
  }

  get(ns: string, key: KvKey): Buffer | undefined {
    try {
      return fromSlab(this.#getInto(ns, key, slabFor(), slabUsed));
    } catch (e) {
      throw this.#noted(e);
    }
  }

  async getAsync(ns: string, key: KvKey): Promise<Buffer | undefined> {
    try {
      const v = this.#tryGetInto(ns, key, slabFor(), slabUsed);
      return v !== -2 ? fromSlab(v) : await this.#n.getAsync(ns, key);
    } catch (e) {
      throw this.#noted(e);
    }
  }

  has(ns: string, key: KvKey): boolean {
    try {
      return this.#n.has(ns, key);
    } catch (e) {
      throw this.#noted(e);
    }
  }

  put(ns: string, key: KvKey, value: Uint8Array, options?: KvPutOptions): void {
    try {
      this.#n.put(ns, key, value, options?.ttlMs);
    } catch (e) {
      throw this.#noted(e);
    }
  }

  async putAsync(ns: string, key: KvKey, value: Uint8Array, options?: KvPutOptions): Promise<void> {
    try {
      if (!this.#n.tryPut(ns, key, value, options?.ttlMs)) await this.#n.putAsync(ns, key, value, options?.ttlMs);
    } catch (e) {
      throw this.#noted(e);
    }
  }

  delete(ns: string, key: KvKey): void {
    try {
      this.#n.delete(ns, key);
    } catch (e) {
      throw this.#noted(e);
    }
  }

  async deleteAsync(ns: string, key: KvKey): Promise<void> {
    try {
      if (!this.#n.tryDelete(ns, key)) await this.#n.deleteAsync(ns, key);
    } catch (e) {
      throw this.#noted(e);
    }
  }

  getMany(ns: string, keys: readonly KvKey[]): Array<Buffer | undefined> {
    try {
      return unpack(this.#n.getManyPacked(ns, keys as KvKey[]), keys.length);
    } catch (e) {
      throw this.#noted(e);
    }
  }

  async getManyAsync(ns: string, keys: readonly KvKey[]): Promise<Array<Buffer | undefined>> {
    try {
      const v = this.#n.tryGetManyPacked(ns, keys as KvKey[]);
      return v !== false ? unpack(v, keys.length) : await this.#n.getManyAsync(ns, keys as KvKey[]);
    } catch (e) {
      throw this.#noted(e);
    }
  }

  putMany(ns: string, entries: Iterable<readonly [KvKey, Uint8Array]>, options?: KvPutOptions): void {
    try {
      this.#n.putMany(ns, entryArray(entries), options?.ttlMs);
    } catch (e) {
      throw this.#noted(e);
    }
  }

  async putManyAsync(ns: string, entries: Iterable<readonly [KvKey, Uint8Array]>, options?: KvPutOptions): Promise<void> {
    try {
      const list = entryArray(entries);
      if (!this.#n.tryPutMany(ns, list, options?.ttlMs)) await this.#n.putManyAsync(ns, list, options?.ttlMs);
    } catch (e) {
      throw this.#noted(e);
    }
  }

  writeBatch(ops: readonly KvWriteOp[]): void {
    try {
      this.#n.writeBatch(ops as KvWriteOp[]);
    } catch (e) {
      throw this.#noted(e);
    }
  }

  async writeBatchAsync(ops: readonly KvWriteOp[]): Promise<void> {
    try {
      if (!this.#n.tryWriteBatch(ops as KvWriteOp[])) await this.#n.writeBatchAsync(ops as KvWriteOp[]);
    } catch (e) {
      throw this.#noted(e);
    }
  }

  protected scanPage(ns: string, range: KvRange, after: Buffer | undefined, limit: number, keysOnly: boolean, stringKeys: boolean): KvScanPage {
    try {
      return this.#n.scan(ns, range, after, limit, keysOnly, stringKeys);
    } catch (e) {
      throw this.#noted(e);
    }
  }

  protected async scanPageAsync(ns: string, range: KvRange, after: Buffer | undefined, limit: number, keysOnly: boolean, stringKeys: boolean): Promise<KvScanPage> {
    try {
      return await this.#n.scanAsync(ns, range, after, limit, keysOnly, stringKeys);
    } catch (e) {
      throw this.#noted(e);
    }
  }

  defineNamespace(name: string, options?: KvNamespaceOptions): void {
    try {
      // Type-checked here: the binding's own conversion error cannot describe every value (a BigInt inside an object).
      if (typeof name !== 'string') throw invalidArgument('namespace name must be a string');
      if (options !== undefined && (options === null || typeof options !== 'object')) throw invalidArgument('namespace options must be an object');
      this.#n.defineNamespace(name, options);
    } catch (e) {
      throw this.#noted(e);
    }
  }

  dropNamespace(name: string): void {
    try {
      this.#n.dropNamespace(name);
    } catch (e) {
      throw this.#noted(e);
    }
  }

  namespaces(): KvNamespaceInfo[] {
    try {
      return this.#n.namespaces().map((n) => {
        const info: KvNamespaceInfo = { name: n.name, compression: n.compression as KvNamespaceInfo['compression'], builtin: n.builtin };
        if (n.ttlMs != null) info.ttlMs = n.ttlMs;
        return info;
      });
    } catch (e) {
      throw this.#noted(e);
    }
  }

  clear(ns: string): void {
    try {
      this.#n.clear(ns);
    } catch (e) {
      throw this.#noted(e);
    }
  }

  /**
   * Removes deleted keys from every file of the store, write-ahead logs and MANIFEST included
   * (flush, compact everything, reopen the engine in place). `forgetUser` calls it.
   */
  scrub(): void {
    try {
      this.#n.scrub();
    } catch (e) {
      throw this.#noted(e);
    }
  }

  /** Compacts `ns` (or every namespace) now: expired values leave the disk. */
  compact(ns?: string): void {
    try {
      this.#n.compact(ns);
    } catch (e) {
      throw this.#noted(e);
    }
  }

  /** Writes memtables to files and syncs the write-ahead log. */
  flush(): void {
    try {
      this.#n.flush();
    } catch (e) {
      throw this.#noted(e);
    }
  }

  /** Read-only stores: catch up with the writer's latest writes. */
  refresh(): void {
    try {
      this.#n.refresh();
    } catch (e) {
      throw this.#noted(e);
    }
  }

  close(): void {
    forgetAtExit(this);
    try {
      this.#n.close();
    } catch (e) {
      throw this.#noted(e);
    }
  }
}
