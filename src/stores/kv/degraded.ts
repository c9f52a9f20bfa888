/**
 * The KV store in degraded mode: what `data.kv` is when `<dir>/kv` is damaged (RocksDB refused
 * to open it with `CORRUPT`). The data layer still opens (libSQL holds the primary data); every
 * KV call throws a typed `CORRUPT` naming the damaged store and `aico-data repair`.
 *
 * Why throw rather than serve an empty in-memory cache: `config`, `session` and `queue` are not
 * caches. Serving them empty would look like lost settings and sessions, writes accepted into
 * memory would vanish at close, and a later repair could not merge them back. Callers that only
 * cache (`cache` namespace) already treat a failed read as a miss.
 */
import { AicoDataError } from '../../errors.js';
import type { KvStoreLike } from './types.js';

/** Why the KV store is degraded, as `status()`, `aico-data status` and `doctor` report it. */
export interface KvDegradation {
  /** `unavailable`: RocksDB refused to open it (every call throws); `damaged`: it opened, but a read found damage. */
  mode: 'unavailable' | 'damaged';
  /** The damaged store's folder. */
  path: string;
  /** The engine's error (code and message) that refused the open. */
  code: string;
  message: string;
  /** The command that salvages it. */
  repair: string;
}

const REPAIR_CLI = 'aico-data repair --dir <folder>';

/** The typed error every call of a degraded store throws. */
export function degradedError(d: KvDegradation): AicoDataError {
  return new AicoDataError(
    'CORRUPT',
    `the KV store at ${d.path} is damaged and was not opened (${d.code}: ${d.message}); the rest of the data layer works`,
    { component: 'kv', path: d.path, degraded: true, fix: `run \`${REPAIR_CLI}\` (or DataLayer.repairKv()) to salvage it` },
    { hint: 'call DataLayer.repairKv() (CLI: aico-data repair) to salvage the KV store', cliHint: `run \`${REPAIR_CLI}\` to salvage the KV store` },
  );
}

const PASSIVE = new Set<PropertyKey>(['persistent', 'readOnly', 'closed', 'close', 'degraded', 'then', 'constructor', Symbol.toPrimitive, Symbol.toStringTag]);

/**
 * A `KvStoreLike` whose every operation throws {@link degradedError}; `close()` is a no-op and
 * `degraded` says why. A Proxy keeps it complete as the interface grows.
 */
export function createDegradedKvStore(d: KvDegradation): KvStoreLike & { readonly degraded: KvDegradation } {
  let closed = false;
  const base = {
    persistent: true,
    readOnly: false,
    get closed() {
      return closed;
    },
    degraded: d,
    close() {
      closed = true;
    },
  };
  const error = () => (closed ? new AicoDataError('CLOSED', 'the KV store was closed') : degradedError(d));
  // `*Async` methods reject (as the real store's do); the others throw.
  const fail = (p: PropertyKey) =>
    typeof p === 'string' && p.endsWith('Async') ? () => Promise.reject(error()) : () => {
      throw error();
    };
  const queue = new Proxy({}, { get: (_t, p) => (p === 'then' ? undefined : fail(p)) });
  return new Proxy(base, {
    get(target, p, recv) {
      if (PASSIVE.has(p)) return p === 'then' ? undefined : Reflect.get(target, p, recv);
      if (p === 'queue') return queue;
      return fail(p);
    },
  }) as unknown as KvStoreLike & { readonly degraded: KvDegradation };
}

/** The degradation of `kv`, if it is a degraded store. */
export function kvDegradation(kv: unknown): KvDegradation | undefined {
  const d = (kv as { degraded?: unknown } | undefined)?.degraded;
  const mode = (d as KvDegradation | undefined)?.mode;
  return d && typeof d === 'object' && (mode === 'unavailable' || mode === 'damaged') ? (d as KvDegradation) : undefined;
}
