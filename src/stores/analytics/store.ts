import { AicoDataError, native, nativeAsync } from '../../errors.js';
import type { NativeAnalytics } from '../../native/index.js';
import { checkSql } from '../sql/check.js';
import type { SqlParams } from '../sql/types.js';
import { AnalyticsReports } from './reports.js';
import type { AnalyticsEvent, AnalyticsOptions, AnalyticsRow, AnalyticsStatus, SnapshotInfo, SyncReport } from './types.js';

function defaultOnEvent(e: AnalyticsEvent): void {
  if (e.level === 'warn') console.warn(`[aico-data analytics] ${e.kind}: ${e.message}`);
}

/**
 * The analytics store: an in-memory DuckDB derived from the encrypted libSQL store, synced
 * incrementally in Rust, persisted only as sealed snapshots (no plaintext on disk).
 *
 * @example
 * ```ts
 * const report = await analytics.sync(); // { tables: [{ name: 'messages', inserted, updated, deleted }], ms }
 * const days = await analytics.reports.dailyMetrics({ days: 30 });
 * const rows = await analytics.query('SELECT role, count(*) AS n FROM messages WHERE created_at > $since GROUP BY 1', { since: '2025-01-01' });
 * const ipc = await analytics.queryArrow('SELECT * FROM messages'); // Arrow IPC stream bytes
 * ```
 */
export class AnalyticsStore {
  /** Named, typed reports (the seed's daily metrics, heatmap, lengths, engagement, sentiment). */
  readonly reports: AnalyticsReports;

  readonly #n: NativeAnalytics;
  readonly #onEvent: (e: AnalyticsEvent) => void;
  readonly #debounceMs: number;
  #closed = false;
  #pending: { timer: NodeJS.Timeout; promise: Promise<SyncReport> } | undefined;
  #running: Promise<unknown> = Promise.resolve();
  /**
   * Set when open found no usable snapshot (missing, or rejected as damaged/foreign) and nothing
   * was synced yet: the tables do not exist in DuckDB, so the first query or report waits for a
   * full rebuild from libSQL instead of failing with an engine "table does not exist" error.
   */
  #build: Promise<void> | undefined;
  #needsBuild = false;

  /** @internal Use {@link openAnalyticsStore}. */
  constructor(n: NativeAnalytics, options: AnalyticsOptions = {}) {
    this.#n = n;
    this.#onEvent = options.onEvent ?? defaultOnEvent;
    this.#debounceMs = options.syncDebounceMs ?? 250;
    this.reports = new AnalyticsReports(n, () => this.#ready());
    this.#drainEvents();
    try {
      const st = n.status() as AnalyticsStatus;
      this.#needsBuild = !st.restored && !st.lastSync;
    } catch {
      this.#needsBuild = true;
    }
  }

  /** Whether the first query will rebuild from libSQL (no snapshot was restored at open). */
  get rebuildPending(): boolean {
    return this.#needsBuild;
  }

  /** Checks the store is open and, once, rebuilds it from libSQL when open restored nothing. */
  async #ready(): Promise<void> {
    this.#check();
    if (!this.#needsBuild) return;
    this.#build ??= this.sync().then(
      () => {
        this.#needsBuild = false;
        this.#emit('info', 'rebuilt_from_libsql', 'no usable snapshot at open: the analytics tables were rebuilt from libSQL before the first query');
      },
      (e: unknown) => {
        // Let the next query try again rather than caching the failure.
        this.#build = undefined;
        throw e;
      },
    );
    await this.#build;
  }

  #emit(level: AnalyticsEvent['level'], kind: string, message: string): void {
    try {
      this.#onEvent({ atMs: Date.now(), level, kind, message });
    } catch {
      // a throwing listener must not break the store
    }
  }

  #check(): void {
    if (this.#closed) throw new AicoDataError('CLOSED', 'the analytics store was closed');
  }

  #drainEvents(): void {
    for (const e of this.#n.takeEvents()) {
      try {
        this.#onEvent({ atMs: e.atMs, level: e.level as AnalyticsEvent['level'], kind: e.kind, message: e.message });
      } catch {
        // a throwing listener must not break the store
      }
    }
  }

  /** Serialises the operations that change the store, so a debounced sync and an explicit one never interleave. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#running.then(fn, fn);
    this.#running = next.catch(() => undefined);
    return next;
  }

  /**
   * Copies what changed in libSQL since the last sync (all rows the first time, or after a
   * schema change) into DuckDB: inserts, updates, soft and hard deletes. Runs in Rust on the
   * libuv pool; queries keep seeing the previous state until it commits.
   */
  sync(): Promise<SyncReport> {
    this.#check();
    return this.#serial(async () => {
      try {
        const report = (await nativeAsync(() => this.#n.syncAsync())) as SyncReport;
        this.#needsBuild = false;
        return report;
      } finally {
        this.#drainEvents();
      }
    });
  }

  /**
   * Schedules a sync after {@link AnalyticsOptions.syncDebounceMs}; calls within that time
   * share one sync. For wiring to commit notifications (the bus).
   */
  requestSync(): Promise<SyncReport> {
    this.#check();
    if (this.#pending) return this.#pending.promise;
    let resolve!: (r: SyncReport) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<SyncReport>((res, rej) => ((resolve = res), (reject = rej)));
    const timer = setTimeout(() => {
      this.#pending = undefined;
      if (this.#closed) return reject(new AicoDataError('CLOSED', 'the analytics store was closed'));
      this.sync().then(resolve, reject);
    }, this.#debounceMs);
    timer.unref?.();
    this.#pending = { timer, promise };
    return promise;
  }

  /**
   * Runs one read-only `SELECT` over the analytics tables (`messages`, `conversations`,
   * `memories`). Parameters: `?`/`$1` positional (array) or `$name` (object). Anything but a
   * single SELECT is refused with `INVALID_ARGUMENT`; file and network access is off.
   */
  async query<T = AnalyticsRow>(sql: string, params?: SqlParams): Promise<T[]> {
    this.#check();
    const checked = checkSql(sql);
    await this.#ready();
    return (await nativeAsync(() => this.#n.queryAsync(checked, params, false))) as T[];
  }

  /** Like {@link AnalyticsStore.query}, rows as arrays in column order. */
  async queryRaw(sql: string, params?: SqlParams): Promise<unknown[][]> {
    this.#check();
    const checked = checkSql(sql);
    await this.#ready();
    return (await nativeAsync(() => this.#n.queryAsync(checked, params, true))) as unknown[][];
  }

  /**
   * @internal Like {@link AnalyticsStore.queryRaw} on the tables as DuckDB holds them now, without
   * the first-query rebuild: consistency checks and forget proofs report what is stored.
   */
  queryRawAsStored(sql: string, params?: SqlParams): Promise<unknown[][]> {
    this.#check();
    return nativeAsync(() => this.#n.queryAsync(checkSql(sql), params, true)) as Promise<unknown[][]>;
  }

  /** Runs a read-only query and returns the result as an Arrow IPC stream (uncompressed), for columnar consumers. */
  async queryArrow(sql: string, params?: SqlParams): Promise<Buffer> {
    this.#check();
    const checked = checkSql(sql);
    await this.#ready();
    return (await nativeAsync(() => this.#n.queryArrowAsync(checked, params))) as Buffer;
  }

  /** Writes a sealed snapshot now (it also happens on close when something changed). */
  snapshot(): Promise<SnapshotInfo> {
    this.#check();
    return this.#serial(async () => {
      try {
        return (await nativeAsync(() => this.#n.snapshotAsync())) as SnapshotInfo;
      } finally {
        this.#drainEvents();
      }
    });
  }

  /** Cancels the query running now, if any (it fails with `SQL_ERROR`). */
  interrupt(): void {
    this.#n.interrupt();
  }

  /** Tables, row counts, watermarks, last sync and snapshot, memory in use. */
  status(): AnalyticsStatus {
    this.#check();
    return native(() => this.#n.status()) as AnalyticsStatus;
  }

  /** True after {@link AnalyticsStore.close}. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Writes a final sealed snapshot when something changed, then frees DuckDB's memory.
   * Idempotent. Resolves with the snapshot written, if any.
   */
  async close(): Promise<SnapshotInfo | null> {
    if (this.#closed) return null;
    this.#closed = true;
    if (this.#pending) {
      clearTimeout(this.#pending.timer);
      this.#pending = undefined;
    }
    return this.#serial(async () => {
      try {
        return (await nativeAsync(() => this.#n.closeAsync())) as SnapshotInfo | null;
      } finally {
        this.#drainEvents();
      }
    });
  }
}
