/**
 * The key-value layer: {@link KvStore} (encrypted RocksDB, `<data folder>/kv`) and
 * {@link MemoryKvStore} (the `kv: false` fallback), both {@link KvStoreLike}.
 */
import { invalidArgument, nativeAsync } from '../../errors.js';
import { openKvAsync, type NativeFolder, type NativeKvOpenOptions } from '../../native/index.js';
import { KvStore } from './store.js';
import { createDegradedKvStore, type KvDegradation } from './degraded.js';
import type { KvNamespaceOptions, KvStoreLike } from './types.js';

export { KvStore } from './store.js';
export { MemoryKvStore, type MemoryKvOptions } from './memory.js';
export { createDegradedKvStore, degradedError, kvDegradation, type KvDegradation } from './degraded.js';
export { MAX_KEY_BYTES, MAX_VALUE_BYTES, BUILTIN_NAMESPACES } from './limits.js';
export type * from './types.js';

/** Options of the RocksDB key-value store (`openDataLayer({ kv: { ... } })`). */
export interface KvOptions {
  /**
   * fsync the write-ahead log on every write. Default false: a write survives a process
   * crash (it is in the OS page cache) but not a power loss; with true every write waits
   * for the disk.
   */
  sync?: boolean;
  /** Block cache shared by all namespaces, MiB (default 32). */
  cacheMiB?: number;
  /** Memtable size per namespace, MiB (default 16). */
  writeBufferMiB?: number;
  /** Namespaces to create, or whose options to update, at open. */
  namespaces?: Record<string, KvNamespaceOptions>;
  queue?: {
    /** Deliveries before a message is dead-lettered (default 5). */
    maxAttempts?: number;
  };
  /**
   * When another process (or another handle in this one) holds the store: `'error'`
   * (default) fails with `LOCKED`; `'readOnly'` opens a read-only instance that follows the
   * writer (call `refresh()` to see its latest writes; writes fail with `LOCKED`).
   */
  onLocked?: 'error' | 'readOnly';
  /** Open read-only even when nobody holds the store. */
  readOnly?: boolean;
}

function positiveInt(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw invalidArgument(`${what} must be a positive integer`);
  return v;
}

function nativeOptions(o: KvOptions): NativeKvOpenOptions {
  if (o === null || typeof o !== 'object') throw invalidArgument('kv options must be an object');
  if (o.namespaces !== undefined && (o.namespaces === null || typeof o.namespaces !== 'object')) {
    throw invalidArgument('kv.namespaces must be an object { name: { ttlMs?, compression? } }');
  }
  return {
    sync: o.sync,
    cacheMib: positiveInt(o.cacheMiB, 'cacheMiB'),
    writeBufferMib: positiveInt(o.writeBufferMiB, 'writeBufferMiB'),
    maxAttempts: positiveInt(o.queue?.maxAttempts, 'queue.maxAttempts'),
    onLocked: o.onLocked,
    readOnly: o.readOnly,
    namespaces: Object.entries(o.namespaces ?? {}).map(([name, n]) => ({ name, ttlMs: n?.ttlMs, compression: n?.compression })),
  };
}

/**
 * Opens the encrypted key-value store of an unlocked data folder (`<dir>/kv`), off the JS
 * thread. One writer per folder: a second open fails with `LOCKED` naming the lock file,
 * or opens read-only with `onLocked: 'readOnly'`. Close it with `close()` (the data layer
 * does); a store still open at process exit is closed by an `exit` hook.
 */
export async function openKvStore(folder: NativeFolder, options: KvOptions = {}): Promise<KvStore> {
  const native = nativeOptions(options);
  for (let attempt = 1; ; attempt++) {
    try {
      return new KvStore(await nativeAsync(() => openKvAsync(folder, native)));
    } catch (e) {
      if (native.onLocked !== 'readOnly' || attempt >= CREATION_RACE_ATTEMPTS || !isCreationRace(e)) throw e;
      await new Promise((r) => setTimeout(r, 20 * attempt));
    }
  }
}

/**
 * {@link openKvStore}, except that a damaged store (`CORRUPT` from RocksDB: a flipped or truncated
 * SST, WAL, MANIFEST or CURRENT) does not fail: it comes back as a degraded store whose calls throw
 * `CORRUPT` naming `aico-data repair`, and `onDegraded` is told why. Every other error still fails.
 */
/**
 * Whether an open error means the KV store's files are damaged: `CORRUPT`, or a file of the
 * store that is gone (CURRENT naming a missing MANIFEST, a lost SST), which RocksDB reports as IO.
 */
export function isKvDamage(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return err?.code === 'CORRUPT' || (err?.code === 'IO' && /No such file/i.test(String(err.message ?? '')));
}

export async function openKvStoreOrDegrade(
  folder: NativeFolder,
  options: KvOptions,
  kvPath: string,
  onDegraded?: (d: KvDegradation) => void,
): Promise<KvStoreLike> {
  try {
    return await openKvStore(folder, options);
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (!isKvDamage(e)) throw e;
    const d: KvDegradation = { mode: 'unavailable', path: kvPath, code: 'CORRUPT', message: String(err.message ?? ''), repair: 'aico-data repair' };
    onDegraded?.(d);
    return createDegradedKvStore(d);
  }
}

/** About 4 s of retries in all: creating a store takes milliseconds. */
const CREATION_RACE_ATTEMPTS = 20;

/**
 * Several openers at once (worker threads, processes). Of a folder whose store does not exist yet:
 * the creator holds RocksDB's lock before `CURRENT` exists, so the others see a lock without a
 * store to follow read-only (`LOCKED`), or a store whose column families are not all created
 * yet. Both pass once the creator is done, so `onLocked: 'readOnly'` openers retry briefly.
 */
function isCreationRace(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return (
    err.code === 'LOCKED' ||
    (err.code === 'INTERNAL' && /Column family not found/.test(err.message ?? '')) ||
    // RocksDB rotates and prunes its info LOG files while opening, before it takes the lock:
    // two openers at once can both prune the same old LOG file, and the loser's open fails.
    (err.code === 'IO' && /unlink\(\) file: .*LOG\.old/.test(err.message ?? ''))
  );
}
export { repairKvStore, walRecoveryMode, type KvRepairReport, type KvNamespaceRepair } from './repair.js';
