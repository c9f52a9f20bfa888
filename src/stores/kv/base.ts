/**
 * What both key-value stores share: the JSON layer, and scans as iterators over a batched
 * cursor (each native call returns up to `batchSize` entries and the key to resume after).
 */
import { invalidArgument } from '../../errors.js';
import { decodeJson, encodeJson } from './json.js';
import type {
  KvKey,
  KvNamespaceInfo,
  KvNamespaceOptions,
  KvPutOptions,
  KvQueueLike,
  KvRange,
  KvScanOptions,
  KvScanOptionsBuffer,
  KvScanOptionsUtf8,
  KvScanPage,
  KvStoreLike,
  KvWriteOp,
} from './types.js';

const DEFAULT_BATCH = 256;
const MAX_BATCH = 65_536;

type ScanOptionsAny = KvScanOptions & { keyEncoding?: 'utf8' | 'buffer' };

interface ScanPlan {
  range: KvRange;
  limit: number;
  batch: number;
  stringKeys: boolean;
}

function plan(ns: unknown, options: ScanOptionsAny | undefined): ScanPlan {
  // Checked here, eagerly: the binding's own conversion error cannot describe every value (a BigInt inside an array).
  if (typeof ns !== 'string') throw invalidArgument('namespace must be a string');
  const o = options ?? {};
  if (typeof o !== 'object') throw invalidArgument('scan options must be an object');
  const limit = o.limit ?? Infinity;
  if (limit !== Infinity && (!Number.isInteger(limit) || limit < 0)) throw invalidArgument('limit must be a non-negative integer');
  const batch = o.batchSize ?? DEFAULT_BATCH;
  if (!Number.isInteger(batch) || batch < 1 || batch > MAX_BATCH) throw invalidArgument(`batchSize must be an integer from 1 to ${MAX_BATCH}`);
  if (o.keyEncoding !== undefined && o.keyEncoding !== 'utf8' && o.keyEncoding !== 'buffer') {
    throw invalidArgument("keyEncoding must be 'utf8' or 'buffer'");
  }
  const range: KvRange = { prefix: o.prefix, gt: o.gt, gte: o.gte, lt: o.lt, lte: o.lte, reverse: o.reverse };
  return { range, limit, batch, stringKeys: o.keyEncoding !== 'buffer' };
}

function where(ns: string, key: KvKey): string {
  return `${ns}/${typeof key === 'string' ? key : Buffer.from(key).toString('hex')}`;
}

export abstract class KvBase implements KvStoreLike {
  abstract readonly persistent: boolean;
  abstract readonly readOnly: boolean;
  abstract readonly closed: boolean;
  abstract readonly queue: KvQueueLike;

  abstract get(ns: string, key: KvKey): Buffer | undefined;
  abstract getAsync(ns: string, key: KvKey): Promise<Buffer | undefined>;
  abstract has(ns: string, key: KvKey): boolean;
  abstract put(ns: string, key: KvKey, value: Uint8Array, options?: KvPutOptions): void;
  abstract putAsync(ns: string, key: KvKey, value: Uint8Array, options?: KvPutOptions): Promise<void>;
  abstract delete(ns: string, key: KvKey): void;
  abstract deleteAsync(ns: string, key: KvKey): Promise<void>;
  abstract getMany(ns: string, keys: readonly KvKey[]): Array<Buffer | undefined>;
  abstract getManyAsync(ns: string, keys: readonly KvKey[]): Promise<Array<Buffer | undefined>>;
  abstract putMany(ns: string, entries: Iterable<readonly [KvKey, Uint8Array]>, options?: KvPutOptions): void;
  abstract putManyAsync(ns: string, entries: Iterable<readonly [KvKey, Uint8Array]>, options?: KvPutOptions): Promise<void>;
  abstract writeBatch(ops: readonly KvWriteOp[]): void;
  abstract writeBatchAsync(ops: readonly KvWriteOp[]): Promise<void>;
  abstract defineNamespace(name: string, options?: KvNamespaceOptions): void;
  abstract dropNamespace(name: string): void;
  abstract namespaces(): KvNamespaceInfo[];
  abstract clear(ns: string): void;
  abstract close(): void;

  /** One page of a scan (see {@link KvScanPage}). */
  protected abstract scanPage(ns: string, range: KvRange, after: Buffer | undefined, limit: number, keysOnly: boolean, stringKeys: boolean): KvScanPage;
  protected abstract scanPageAsync(ns: string, range: KvRange, after: Buffer | undefined, limit: number, keysOnly: boolean, stringKeys: boolean): Promise<KvScanPage>;

  // ---- JSON ----

  getJson<T = unknown>(ns: string, key: KvKey): T | undefined {
    const v = this.get(ns, key);
    return v === undefined ? undefined : decodeJson<T>(v, where(ns, key));
  }

  async getJsonAsync<T = unknown>(ns: string, key: KvKey): Promise<T | undefined> {
    const v = await this.getAsync(ns, key);
    return v === undefined ? undefined : decodeJson<T>(v, where(ns, key));
  }

  putJson(ns: string, key: KvKey, value: unknown, options?: KvPutOptions): void {
    this.put(ns, key, encodeJson(value), options);
  }

  putJsonAsync(ns: string, key: KvKey, value: unknown, options?: KvPutOptions): Promise<void> {
    return this.putAsync(ns, key, encodeJson(value), options);
  }

  // ---- scans ----

  entries(ns: string, options?: KvScanOptionsUtf8): AsyncIterableIterator<[string, Buffer]>;
  entries(ns: string, options: KvScanOptionsBuffer): AsyncIterableIterator<[Buffer, Buffer]>;
  entries(ns: string, options?: ScanOptionsAny): AsyncIterableIterator<[string | Buffer, Buffer]> {
    return this.#scanAsync(ns, plan(ns, options), false) as unknown as AsyncIterableIterator<[string | Buffer, Buffer]>;
  }

  keys(ns: string, options?: KvScanOptionsUtf8): AsyncIterableIterator<string>;
  keys(ns: string, options: KvScanOptionsBuffer): AsyncIterableIterator<Buffer>;
  keys(ns: string, options?: ScanOptionsAny): AsyncIterableIterator<string | Buffer> {
    return this.#scanAsync(ns, plan(ns, options), true) as unknown as AsyncIterableIterator<string | Buffer>;
  }

  entriesSync(ns: string, options?: KvScanOptionsUtf8): IterableIterator<[string, Buffer]>;
  entriesSync(ns: string, options: KvScanOptionsBuffer): IterableIterator<[Buffer, Buffer]>;
  entriesSync(ns: string, options?: ScanOptionsAny): IterableIterator<[string | Buffer, Buffer]> {
    return this.#scanSync(ns, plan(ns, options), false) as unknown as IterableIterator<[string | Buffer, Buffer]>;
  }

  keysSync(ns: string, options?: KvScanOptionsUtf8): IterableIterator<string>;
  keysSync(ns: string, options: KvScanOptionsBuffer): IterableIterator<Buffer>;
  keysSync(ns: string, options?: ScanOptionsAny): IterableIterator<string | Buffer> {
    return this.#scanSync(ns, plan(ns, options), true) as unknown as IterableIterator<string | Buffer>;
  }

  *#scanSync(ns: string, p: ScanPlan, keysOnly: boolean): Generator<unknown> {
    let after: Buffer | undefined;
    let left = p.limit;
    while (left > 0) {
      const page = this.scanPage(ns, p.range, after, Math.min(p.batch, left), keysOnly, p.stringKeys);
      yield* items(page, keysOnly);
      left -= page.keys.length;
      if (page.done || page.last === undefined) return;
      after = page.last;
    }
  }

  /** Fetches the next page while the caller consumes the current one. */
  async *#scanAsync(ns: string, p: ScanPlan, keysOnly: boolean): AsyncGenerator<unknown> {
    if (p.limit === 0) return;
    let left = p.limit;
    const fetch = (after: Buffer | undefined) => this.scanPageAsync(ns, p.range, after, Math.min(p.batch, left), keysOnly, p.stringKeys);
    let pending: Promise<KvScanPage> | undefined = fetch(undefined);
    while (pending) {
      const page: KvScanPage = await pending;
      left -= page.keys.length;
      pending = undefined;
      if (!page.done && page.last !== undefined && left > 0) {
        pending = fetch(page.last);
        // An abandoned iterator (break) leaves this page unread: never an unhandled rejection.
        pending.catch(() => {});
      }
      yield* items(page, keysOnly);
    }
  }
}

function* items(page: KvScanPage, keysOnly: boolean): Generator<unknown> {
  const { keys, values } = page;
  if (keysOnly || values === undefined) {
    yield* keys;
    return;
  }
  for (let i = 0; i < keys.length; i++) yield [keys[i], values[i]];
}
