/**
 * The in-memory key-value store used when the data layer is opened with `kv: false`: the
 * same API, limits, error codes, TTL and queue semantics as {@link KvStore}, nothing on disk
 * (everything is lost when the process ends).
 */
import { invalidArgument } from '../../errors.js';
import { KvBase } from './base.js';
import {
  BUILTIN_NAMESPACES,
  QUEUE_NAMESPACE,
  checkNamespaceName,
  closedError,
  expiryOf,
  keyBytes,
  valueCopy,
} from './limits.js';
import { MemoryQueue } from './memory-queue.js';
import type {
  KvKey,
  KvNamespaceInfo,
  KvNamespaceOptions,
  KvPutOptions,
  KvRange,
  KvScanPage,
  KvWriteOp,
} from './types.js';

interface Entry {
  value: Buffer;
  /** Unix ms; 0 = never. */
  expiry: number;
}

interface Namespace {
  options: Required<Pick<KvNamespaceOptions, 'compression'>> & { ttlMs?: number };
  /** Keyed by the key's bytes as latin1: one char per byte, so string order is byte order. */
  entries: Map<string, Entry>;
  /** Sorted keys, rebuilt lazily after a key is added or removed. */
  sorted?: string[];
}

/** Options of {@link MemoryKvStore}. */
export interface MemoryKvOptions {
  namespaces?: Record<string, KvNamespaceOptions>;
  queue?: { maxAttempts?: number };
}

const latin1 = (b: Buffer) => b.toString('latin1');
const live = (e: Entry | undefined, now: number): e is Entry => e !== undefined && (e.expiry === 0 || e.expiry > now);

function namespaceOptions(o: KvNamespaceOptions | undefined): Namespace['options'] {
  if (o !== undefined && (o === null || typeof o !== 'object')) throw invalidArgument('namespace options must be an object');
  const compression = o?.compression ?? 'lz4';
  if (!['lz4', 'zstd', 'none'].includes(compression)) throw invalidArgument(`compression must be 'none', 'lz4' or 'zstd', not ${JSON.stringify(compression)}`);
  const out: Namespace['options'] = { compression };
  if (o?.ttlMs !== undefined && o.ttlMs !== 0) {
    if (typeof o.ttlMs !== 'number' || !Number.isFinite(o.ttlMs) || o.ttlMs < 0) throw invalidArgument('ttlMs must be a non-negative finite number');
    out.ttlMs = Math.ceil(o.ttlMs);
  }
  return out;
}

/** Index of the first element of `sorted` that is `>= k`. */
function lowerBound(sorted: string[], k: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The smallest key above every key starting with `prefix` (undefined: none). */
function prefixEnd(prefix: string): string | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const c = prefix.charCodeAt(i);
    if (c < 0xff) return prefix.slice(0, i) + String.fromCharCode(c + 1);
  }
  return undefined;
}

/**
 * A range as `[lo, hi)` over latin1 keys (hi undefined: unbounded), narrowed by the cursor
 * `after` (the last key of the previous page) in scan direction.
 */
function bounds(range: KvRange, after: Buffer | undefined): [string, string | undefined] {
  const b = (k: KvKey | undefined, what: string) => (k === undefined || k === null ? undefined : latin1(keyBytes(k, what)));
  const [gt, gte, lt, lte, prefix] = [b(range.gt, 'gt'), b(range.gte, 'gte'), b(range.lt, 'lt'), b(range.lte, 'lte'), b(range.prefix, 'prefix')];
  if (gt !== undefined && gte !== undefined) throw invalidArgument('give at most one of gte and gt');
  if (lt !== undefined && lte !== undefined) throw invalidArgument('give at most one of lte and lt');
  let lo = gte ?? (gt !== undefined ? gt + '\0' : '');
  let hi = lt ?? (lte !== undefined ? lte + '\0' : undefined);
  if (prefix !== undefined) {
    if (lo < prefix) lo = prefix;
    const end = prefixEnd(prefix);
    if (end !== undefined && (hi === undefined || hi > end)) hi = end;
  }
  if (after !== undefined) {
    const a = latin1(after);
    if (range.reverse) hi = hi === undefined || hi > a ? a : hi;
    else if (a + '\0' > lo) lo = a + '\0';
  }
  return [lo, hi];
}

export class MemoryKvStore extends KvBase {
  readonly persistent = false;
  readonly readOnly = false;
  readonly queue: MemoryQueue;
  readonly #namespaces = new Map<string, Namespace>();
  #closed = false;

  constructor(options: MemoryKvOptions = {}) {
    super();
    for (const name of BUILTIN_NAMESPACES) this.#namespaces.set(name, { options: { compression: 'lz4' }, entries: new Map() });
    this.queue = new MemoryQueue(() => this.#check(), options.queue?.maxAttempts ?? 5);
    for (const [name, o] of Object.entries(options.namespaces ?? {})) this.defineNamespace(name, o);
  }

  get closed(): boolean {
    return this.#closed;
  }

  #check(): void {
    if (this.#closed) throw closedError();
  }

  /** A namespace reachable by the key-value API (all but `queue`). */
  #ns(ns: string): Namespace {
    this.#check();
    if (ns === QUEUE_NAMESPACE) throw invalidArgument('the queue namespace is managed by the queue API (enqueue/lease/ack)');
    const n = typeof ns === 'string' ? this.#namespaces.get(ns) : undefined;
    if (!n) throw invalidArgument(`unknown namespace ${JSON.stringify(ns)} (define it first with defineNamespace)`);
    return n;
  }

  get(ns: string, key: KvKey): Buffer | undefined {
    const n = this.#ns(ns);
    const e = n.entries.get(latin1(keyBytes(key)));
    return live(e, Date.now()) ? Buffer.from(e.value) : undefined;
  }

  async getAsync(ns: string, key: KvKey): Promise<Buffer | undefined> {
    return this.get(ns, key);
  }

  has(ns: string, key: KvKey): boolean {
    const n = this.#ns(ns);
    return live(n.entries.get(latin1(keyBytes(key))), Date.now());
  }

  put(ns: string, key: KvKey, value: Uint8Array, options?: KvPutOptions): void {
    this.writeBatch([{ type: 'put', ns, key, value, ttlMs: options?.ttlMs }]);
  }

  async putAsync(ns: string, key: KvKey, value: Uint8Array, options?: KvPutOptions): Promise<void> {
    this.put(ns, key, value, options);
  }

  delete(ns: string, key: KvKey): void {
    this.writeBatch([{ type: 'del', ns, key }]);
  }

  async deleteAsync(ns: string, key: KvKey): Promise<void> {
    this.delete(ns, key);
  }

  getMany(ns: string, keys: readonly KvKey[]): Array<Buffer | undefined> {
    this.#ns(ns);
    if (!Array.isArray(keys)) throw invalidArgument('keys must be an array');
    for (const [i, k] of keys.entries()) keyBytes(k, `key ${i + 1}`);
    return keys.map((k) => this.get(ns, k));
  }

  async getManyAsync(ns: string, keys: readonly KvKey[]): Promise<Array<Buffer | undefined>> {
    return this.getMany(ns, keys);
  }

  putMany(ns: string, entries: Iterable<readonly [KvKey, Uint8Array]>, options?: KvPutOptions): void {
    const list = Array.from(entries ?? [], (pair, i) => {
      if (!Array.isArray(pair) || pair.length !== 2) throw invalidArgument(`entry ${i + 1} must be a [key, value] pair`);
      return { type: 'put' as const, ns, key: pair[0], value: pair[1], ttlMs: options?.ttlMs };
    });
    this.writeBatch(list);
  }

  async putManyAsync(ns: string, entries: Iterable<readonly [KvKey, Uint8Array]>, options?: KvPutOptions): Promise<void> {
    this.putMany(ns, entries, options);
  }

  /** Validates every operation first, then applies them all: atomic like the RocksDB batch. */
  writeBatch(ops: readonly KvWriteOp[]): void {
    this.#check();
    if (!Array.isArray(ops)) throw invalidArgument('batch operations must be an array');
    const now = Date.now();
    const planned = ops.map((op, i) => {
      try {
        if (op === null || typeof op !== 'object') throw invalidArgument('must be an object { type, ns, key, value?, ttlMs? }');
        const n = this.#ns(op.ns);
        const k = latin1(keyBytes(op.key));
        if (op.type === 'put') return { n, k, entry: { value: valueCopy(op.value), expiry: expiryOf(op.ttlMs, n.options.ttlMs, now) } };
        if (op.type === 'del' || (op.type as string) === 'delete') return { n, k, entry: undefined };
        throw invalidArgument(`type must be 'put' or 'del', not ${JSON.stringify((op as { type: unknown }).type)}`);
      } catch (e) {
        if (ops.length > 1 && (e as { code?: string }).code === 'INVALID_ARGUMENT') throw invalidArgument(`operation ${i + 1}: ${(e as Error).message}`);
        throw e;
      }
    });
    for (const { n, k, entry } of planned) {
      const had = n.entries.has(k);
      if (entry) n.entries.set(k, entry);
      else n.entries.delete(k);
      if (had !== (entry !== undefined)) n.sorted = undefined;
    }
  }

  async writeBatchAsync(ops: readonly KvWriteOp[]): Promise<void> {
    this.writeBatch(ops);
  }

  protected scanPage(ns: string, range: KvRange, after: Buffer | undefined, limit: number, keysOnly: boolean, stringKeys: boolean): KvScanPage {
    const n = this.#ns(ns);
    const sorted = (n.sorted ??= [...n.entries.keys()].sort());
    const [lo, hi] = bounds(range ?? {}, after);
    const now = Date.now();
    const page: KvScanPage = { keys: [], values: keysOnly ? undefined : [], done: false };
    const reverse = range?.reverse === true;
    let i = reverse ? (hi === undefined ? sorted.length : lowerBound(sorted, hi)) - 1 : lowerBound(sorted, lo);
    for (; i >= 0 && i < sorted.length; i += reverse ? -1 : 1) {
      const k = sorted[i]!;
      if (reverse ? k < lo : hi !== undefined && k >= hi) break;
      if (page.keys.length === limit) return page;
      const e = n.entries.get(k);
      if (live(e, now)) {
        const key = Buffer.from(k, 'latin1');
        page.keys.push(stringKeys ? key.toString('utf8') : key);
        page.values?.push(Buffer.from(e.value));
      }
      page.last = Buffer.from(k, 'latin1');
    }
    page.done = true;
    return page;
  }

  protected async scanPageAsync(ns: string, range: KvRange, after: Buffer | undefined, limit: number, keysOnly: boolean, stringKeys: boolean): Promise<KvScanPage> {
    return this.scanPage(ns, range, after, limit, keysOnly, stringKeys);
  }

  defineNamespace(name: string, options?: KvNamespaceOptions): void {
    this.#check();
    checkNamespaceName(name);
    const o = namespaceOptions(options);
    if (name === QUEUE_NAMESPACE && o.ttlMs !== undefined) throw invalidArgument('the queue namespace takes no TTL (messages live until acknowledged)');
    const existing = this.#namespaces.get(name);
    if (existing) existing.options = o;
    else this.#namespaces.set(name, { options: o, entries: new Map() });
  }

  dropNamespace(name: string): void {
    this.#check();
    if ((BUILTIN_NAMESPACES as readonly string[]).includes(name)) throw invalidArgument(`the built-in namespace ${JSON.stringify(name)} cannot be dropped (use clear)`);
    if (!this.#namespaces.delete(name)) throw invalidArgument(`unknown namespace ${JSON.stringify(name)}`);
  }

  namespaces(): KvNamespaceInfo[] {
    this.#check();
    return [...this.#namespaces]
      .map(([name, n]) => {
        const info: KvNamespaceInfo = { name, compression: n.options.compression, builtin: (BUILTIN_NAMESPACES as readonly string[]).includes(name) };
        if (n.options.ttlMs !== undefined) info.ttlMs = n.options.ttlMs;
        return info;
      })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  clear(ns: string): void {
    this.#check();
    if (ns === QUEUE_NAMESPACE) {
      this.queue.clear();
      return;
    }
    const n = this.#ns(ns);
    n.entries.clear();
    n.sorted = undefined;
  }

  close(): void {
    this.#closed = true;
    for (const n of this.#namespaces.values()) n.entries.clear();
    this.queue.clear();
  }
}
