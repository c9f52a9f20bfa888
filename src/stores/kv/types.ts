/**
 * Types of the key-value store. Both implementations, {@link KvStore} (encrypted RocksDB)
 * and {@link MemoryKvStore} (in-memory, for `kv: false`), implement {@link KvStoreLike}.
 */

/** A key: a string (stored as its UTF-8 bytes) or raw bytes. 1 byte to 64 KiB. */
export type KvKey = string | Uint8Array;

/** Built-in namespaces; user-defined ones are added with `defineNamespace`. */
export type BuiltinNamespace = 'session' | 'config' | 'cache' | 'queue';

/** Options of one put. */
export interface KvPutOptions {
  /**
   * Time to live in milliseconds. Omitted: the namespace's default TTL (none unless the
   * namespace defines one). `0` or `Infinity`: never expires, whatever the namespace default.
   */
  ttlMs?: number;
}

/** Options of a namespace, persisted with it. */
export interface KvNamespaceOptions {
  /** Default time to live (ms) of values put without `ttlMs`. Omitted or 0: no expiry. */
  ttlMs?: number;
  /** Block compression of the namespace's files: `'lz4'` (default), `'zstd'` or `'none'`. */
  compression?: 'lz4' | 'zstd' | 'none';
}

/** A namespace as listed by `namespaces()`. */
export interface KvNamespaceInfo {
  name: string;
  ttlMs?: number;
  compression: 'lz4' | 'zstd' | 'none';
  /** Built-in namespaces cannot be dropped. */
  builtin: boolean;
}

/** One operation of an atomic `writeBatch`. */
export type KvWriteOp =
  | { type: 'put'; ns: string; key: KvKey; value: Uint8Array; ttlMs?: number }
  | { type: 'del'; ns: string; key: KvKey };

/** Which keys a scan visits. Bounds compare bytes (UTF-8 for string keys). */
export interface KvRange {
  /** Only keys starting with this prefix (combined with the bounds below). */
  prefix?: KvKey;
  gt?: KvKey;
  gte?: KvKey;
  lt?: KvKey;
  lte?: KvKey;
  /** Descending key order. */
  reverse?: boolean;
}

/** Options of `entries`/`keys` scans. */
export interface KvScanOptions extends KvRange {
  /** Stop after this many entries. */
  limit?: number;
  /** Entries fetched per native call (default 256). */
  batchSize?: number;
}

/** Scan options with the key type: `'utf8'` (default) yields strings, `'buffer'` Buffers. */
export type KvScanOptionsUtf8 = KvScanOptions & { keyEncoding?: 'utf8' };
export type KvScanOptionsBuffer = KvScanOptions & { keyEncoding: 'buffer' };

/** One page of a scan, as the native cursor returns it. @internal */
export interface KvScanPage {
  keys: Array<string | Buffer>;
  values?: Buffer[];
  /** The last key visited; the next page starts after it. */
  last?: Buffer;
  done: boolean;
}

/** Options of one enqueue. */
export interface KvEnqueueOptions {
  /** Invisible for this long (ms) after the enqueue. */
  delayMs?: number;
  /** Deliveries before the message is dead-lettered (default: the store's `queue.maxAttempts`). */
  maxAttempts?: number;
}

/** A message handed out by `lease`. Settle it with `ack(id)` (or `nack`/`extend`). */
export interface LeasedMessage {
  /** This delivery (`<topic>#<seq>.<attempt>`); stale once the lease expires and the message is redelivered. */
  id: string;
  topic: string;
  /** Position in the queue (increases with each enqueue). */
  seq: number;
  /** 1 for the first delivery, 2 for the first redelivery... */
  attempt: number;
  payload: Buffer;
  /** Unix ms. */
  enqueuedAt: number;
  /** Unix ms after which the message is delivered again unless acked. */
  leaseUntil: number;
}

/** A message that ran out of attempts. */
export interface DeadLetter {
  topic: string;
  seq: number;
  attempts: number;
  payload: Buffer;
  enqueuedAt: number;
  diedAt: number;
}

/** Message counts of a topic. */
export interface QueueDepth {
  /** Deliverable now. */
  ready: number;
  /** Leased, or delayed. */
  waiting: number;
  dead: number;
}

/**
 * The durable queue (the `queue` namespace): per-topic FIFO, at-least-once delivery with
 * leases. A message not acked before its lease ends is delivered again; after
 * `maxAttempts` deliveries it moves to the dead letters.
 */
export interface KvQueueLike {
  /** Appends a message (a string is stored as UTF-8); returns its sequence number. */
  enqueue(topic: string, payload: Uint8Array | string, options?: KvEnqueueOptions): number;
  enqueueAsync(topic: string, payload: Uint8Array | string, options?: KvEnqueueOptions): Promise<number>;
  /** Appends several messages in one atomic write, in order. */
  enqueueMany(topic: string, payloads: ReadonlyArray<Uint8Array | string>, options?: KvEnqueueOptions): number[];
  enqueueManyAsync(topic: string, payloads: ReadonlyArray<Uint8Array | string>, options?: KvEnqueueOptions): Promise<number[]>;
  /** Appends `JSON.stringify(value)`. */
  enqueueJson(topic: string, value: unknown, options?: KvEnqueueOptions): number;
  /** Leases up to `max` visible messages of `topic`, oldest first, hidden for `visibilityMs`. */
  lease(topic: string, max: number, visibilityMs: number): LeasedMessage[];
  leaseAsync(topic: string, max: number, visibilityMs: number): Promise<LeasedMessage[]>;
  /** Deletes the message of this delivery. False if the delivery is stale or already settled. */
  ack(id: string | LeasedMessage): boolean;
  ackAsync(id: string | LeasedMessage): Promise<boolean>;
  /** Gives the message back: visible again after `delayMs` (default 0), or dead-lettered when out of attempts. */
  nack(id: string | LeasedMessage, delayMs?: number): boolean;
  /** Keeps the message hidden for `visibilityMs` more (long work). */
  extend(id: string | LeasedMessage, visibilityMs: number): boolean;
  /** Up to `limit` dead letters of `topic`, oldest first. */
  deadLetters(topic: string, limit?: number): DeadLetter[];
  /** Moves the dead letters of `topic` back into the queue (fresh attempts); returns how many. */
  redrive(topic: string): number;
  depth(topic: string): QueueDepth;
}

/** The key-value store API, implemented by {@link KvStore} and {@link MemoryKvStore}. */
export interface KvStoreLike {
  /** True for the RocksDB store (survives restarts), false for the in-memory fallback. */
  readonly persistent: boolean;
  /** True when opened read-only (another process holds the store). */
  readonly readOnly: boolean;
  readonly closed: boolean;
  readonly queue: KvQueueLike;

  /** The value of `key`, or `undefined` when missing or expired. */
  get(ns: string, key: KvKey): Buffer | undefined;
  getAsync(ns: string, key: KvKey): Promise<Buffer | undefined>;
  /** True when `key` holds an unexpired value. */
  has(ns: string, key: KvKey): boolean;
  put(ns: string, key: KvKey, value: Uint8Array, options?: KvPutOptions): void;
  putAsync(ns: string, key: KvKey, value: Uint8Array, options?: KvPutOptions): Promise<void>;
  delete(ns: string, key: KvKey): void;
  deleteAsync(ns: string, key: KvKey): Promise<void>;
  /** The values of `keys`, in order, in one native call. */
  getMany(ns: string, keys: readonly KvKey[]): Array<Buffer | undefined>;
  getManyAsync(ns: string, keys: readonly KvKey[]): Promise<Array<Buffer | undefined>>;
  /** Puts every entry in one atomic write (one native call). */
  putMany(ns: string, entries: Iterable<readonly [KvKey, Uint8Array]>, options?: KvPutOptions): void;
  putManyAsync(ns: string, entries: Iterable<readonly [KvKey, Uint8Array]>, options?: KvPutOptions): Promise<void>;
  /** Applies puts and deletes across namespaces atomically: all or none. */
  writeBatch(ops: readonly KvWriteOp[]): void;
  writeBatchAsync(ops: readonly KvWriteOp[]): Promise<void>;

  /** `JSON.parse` of the value, or `undefined`. */
  getJson<T = unknown>(ns: string, key: KvKey): T | undefined;
  getJsonAsync<T = unknown>(ns: string, key: KvKey): Promise<T | undefined>;
  /** Stores `JSON.stringify(value)`. */
  putJson(ns: string, key: KvKey, value: unknown, options?: KvPutOptions): void;
  putJsonAsync(ns: string, key: KvKey, value: unknown, options?: KvPutOptions): Promise<void>;

  /** Entries in key order (or reverse), fetched `batchSize` per native call. */
  entries(ns: string, options?: KvScanOptionsUtf8): AsyncIterableIterator<[string, Buffer]>;
  entries(ns: string, options: KvScanOptionsBuffer): AsyncIterableIterator<[Buffer, Buffer]>;
  keys(ns: string, options?: KvScanOptionsUtf8): AsyncIterableIterator<string>;
  keys(ns: string, options: KvScanOptionsBuffer): AsyncIterableIterator<Buffer>;
  /** Synchronous scans (each page runs on the calling thread). */
  entriesSync(ns: string, options?: KvScanOptionsUtf8): IterableIterator<[string, Buffer]>;
  entriesSync(ns: string, options: KvScanOptionsBuffer): IterableIterator<[Buffer, Buffer]>;
  keysSync(ns: string, options?: KvScanOptionsUtf8): IterableIterator<string>;
  keysSync(ns: string, options: KvScanOptionsBuffer): IterableIterator<Buffer>;

  /** Creates a namespace, or updates its options. */
  defineNamespace(name: string, options?: KvNamespaceOptions): void;
  /** Drops a user-defined namespace and its entries. */
  dropNamespace(name: string): void;
  namespaces(): KvNamespaceInfo[];
  /** Deletes every entry of `ns` (`'queue'`: every message). */
  clear(ns: string): void;
  /** Flushes and closes. Idempotent; later calls fail with `CLOSED`. */
  close(): void;
}
