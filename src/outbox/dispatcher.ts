/**
 * The outbox dispatcher: applies committed outbox rows to the derived stores (Chroma, DuckDB,
 * the RocksDB cache) and publishes their events, then marks them dispatched. Failures are
 * retried with exponential backoff and dead-lettered after `maxAttempts`. Rows left by a crash
 * are simply still pending: the next open applies them.
 */
import { AicoDataError, invalidArgument, toAicoError } from '../errors.js';
import type { SqlStore } from '../stores/sql/index.js';
import type { DeadLetter, DispatchReport, OutboxOptions, OutboxRow, OutboxStatus, OutboxTarget } from './types.js';

const NOW = `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`;

interface RawRow {
  seq: number;
  id: string;
  topic: string;
  aggregate_type: string | null;
  aggregate_id: string | null;
  payload: string | Uint8Array;
  attempts: number;
  created_at: string;
}

function positive(v: unknown, field: string, fallback: number, allowZero = false): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) throw invalidArgument(`outbox.${field} must be a ${allowZero ? 'non-negative' : 'positive'} number`, { field });
  return v;
}

function parsePayload(p: string | Uint8Array): Record<string, unknown> {
  try {
    const v = JSON.parse(typeof p === 'string' ? p : Buffer.from(p).toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}

function toRow(r: RawRow): OutboxRow {
  return {
    seq: Number(r.seq),
    id: r.id,
    topic: r.topic,
    aggregateType: r.aggregate_type,
    aggregateId: r.aggregate_id,
    payload: parsePayload(r.payload),
    attempts: Number(r.attempts),
    createdAt: r.created_at,
  };
}

/** Applies the outbox to its targets. Created and started by the data layer (`data.outbox`). */
export class OutboxDispatcher {
  readonly #sql: SqlStore;
  readonly #targets: OutboxTarget[];
  readonly #batch: number;
  readonly #maxAttempts: number;
  readonly #base: number;
  readonly #max: number;
  readonly #pollMs: number;
  readonly #retainMs: number;
  readonly #totals: DispatchReport = { dispatched: 0, retried: 0, deadLettered: 0 };
  #running: Promise<DispatchReport> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #loop = false;
  #closed = false;
  #lastPrune = 0;
  #recovered = false;
  readonly #absent: readonly string[];

  /**
   * `absent`: targets that exist but are off in this open (`vectors: false`, an in-memory or
   * read-only KV store). Rows dispatched meanwhile are recorded in `outbox_skipped` and kept;
   * a dispatcher that has the target (in a later open or another process) replays them to it.
   */
  constructor(sql: SqlStore, targets: readonly OutboxTarget[], options: OutboxOptions = {}, absent: readonly string[] = []) {
    if (options === null || typeof options !== 'object') throw invalidArgument('outbox options must be an object', { field: 'outbox' });
    this.#sql = sql;
    this.#targets = [...targets];
    this.#absent = [...absent];
    this.#batch = Math.floor(positive(options.batchSize, 'batchSize', 256));
    this.#maxAttempts = Math.floor(positive(options.maxAttempts, 'maxAttempts', 8));
    this.#base = positive(options.baseDelayMs, 'baseDelayMs', 200, true);
    this.#max = positive(options.maxDelayMs, 'maxDelayMs', 60_000, true);
    this.#pollMs = positive(options.pollMs, 'pollMs', 250, true);
    this.#retainMs = positive(options.retainMs, 'retainMs', 10 * 60_000, true);
  }

  /** Names of the targets rows are applied to, in order. */
  get targets(): string[] {
    return this.#targets.map((t) => t.name);
  }

  /** Starts the background loop (polls every `pollMs`, and at once on {@link kick}). */
  start(): void {
    if (this.#closed || this.#loop || this.#pollMs === 0) return;
    this.#loop = true;
    this.#schedule(0);
  }

  /** Asks the background loop to run now (after a commit). */
  kick(): void {
    if (!this.#loop || this.#closed) return;
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.dispatch()
        .catch(() => undefined)
        .finally(() => {
          if (this.#loop && !this.#closed && !this.#timer) this.#schedule(this.#pollMs);
        });
    }, ms);
    this.#timer.unref?.();
  }

  /**
   * Applies every row that is due now, batch by batch, and resolves with what happened. Calls
   * made while a pass runs share it (and trigger one more pass after it, for rows committed
   * meanwhile). Never rejects for a target's failure: the row is retried later.
   */
  dispatch(): Promise<DispatchReport> {
    if (this.#closed) return Promise.reject(new AicoDataError('CLOSED', 'the outbox dispatcher was closed'));
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    const run = (async () => {
      const total: DispatchReport = { dispatched: 0, retried: 0, deadLettered: 0 };
      try {
        if (!this.#recovered) this.#recovered = await this.#recover();
        await this.#catchUpAll();
        do {
          this.#again = false;
          for (;;) {
            if (this.#closed) break;
            const rows = await this.#due();
            if (rows.length === 0) break;
            const r = await this.#applyBatch(rows);
            total.dispatched += r.dispatched;
            total.retried += r.retried;
            total.deadLettered += r.deadLettered;
            if (rows.length < this.#batch) break;
          }
        } while (this.#again && !this.#closed);
        await this.#prune();
      } finally {
        this.#running = undefined;
      }
      return total;
    })();
    this.#running = run;
    return run;
  }

  /**
   * Applies the committed rows of these aggregates now (with whatever else is due), for a
   * caller that wants its write in the derived stores before it returns. When none of them is
   * visible as committed (the caller is inside a transaction that has not committed yet) it
   * returns at once: waiting for the writer there would deadlock, and the background loop
   * applies the rows after the commit.
   */
  async flush(aggregateIds: readonly string[]): Promise<void> {
    if (this.#closed || aggregateIds.length === 0) return;
    const visible = await this.#sql.queryOne(
      `SELECT 1 AS x FROM outbox WHERE aggregate_id IN (SELECT value FROM json_each(?)) AND dispatched_at IS NULL AND dead_at IS NULL LIMIT 1`,
      [JSON.stringify(aggregateIds)],
    );
    if (visible) await this.dispatch();
  }

  /**
   * Dispatches until no row is pending (waiting out retry delays), or rejects with `TIMEOUT`.
   * Dead letters do not count as pending. For tests, shutdown and tools.
   */
  async drain(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.dispatch();
      const next = await this.#sql.queryOne<{ n: number; due: string | null }>(
        `SELECT count(*) AS n, min(available_at) AS due FROM outbox WHERE dispatched_at IS NULL AND dead_at IS NULL`,
      );
      if (!next || Number(next.n) === 0) return;
      if (Date.now() > deadline) throw new AicoDataError('TIMEOUT', `${next.n} outbox rows still pending after ${timeoutMs} ms`, { pending: Number(next.n) });
      const wait = next.due ? Math.max(5, Math.min(Date.parse(next.due) - Date.now(), deadline - Date.now(), 1000)) : 5;
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  async #recover(): Promise<boolean> {
    let ok = true;
    for (const t of this.#targets) {
      try {
        await t.recover?.();
      } catch {
        ok = false; // tried again on the next pass; rows are still applied meanwhile
      }
    }
    return ok;
  }

  async #due(): Promise<OutboxRow[]> {
    const rows = await this.#sql.query<RawRow>(
      `SELECT seq, id, topic, aggregate_type, aggregate_id, payload, attempts, created_at FROM outbox
        WHERE dispatched_at IS NULL AND dead_at IS NULL AND available_at <= ${NOW}
        ORDER BY seq LIMIT ?`,
      [this.#batch],
    );
    return rows.map(toRow);
  }

  async #applyAll(rows: readonly OutboxRow[]): Promise<void> {
    for (const t of this.#targets) {
      try {
        await t.apply(rows);
      } catch (e) {
        const err = toAicoError(e);
        throw new AicoDataError(err.code, `${t.name}: ${err.message}`, { target: t.name }, { cause: e });
      }
    }
  }

  async #applyBatch(rows: OutboxRow[]): Promise<DispatchReport> {
    const report: DispatchReport = { dispatched: 0, retried: 0, deadLettered: 0 };
    try {
      await this.#applyAll(rows);
      await this.#markDone(rows);
      report.dispatched = rows.length;
    } catch (e) {
      const err = toAicoError(e);
      // A store that is down fails every row alike; anything else may be one bad row, so
      // retry the batch row by row to keep the others moving.
      if (err.code === 'UNAVAILABLE' || err.code === 'CLOSED' || rows.length === 1) {
        for (const r of rows) this.#count(report, await this.#fail(r, err));
      } else {
        for (const r of rows) {
          try {
            await this.#applyAll([r]);
            await this.#markDone([r]);
            report.dispatched++;
          } catch (e2) {
            this.#count(report, await this.#fail(r, toAicoError(e2)));
          }
        }
      }
    }
    this.#totals.dispatched += report.dispatched;
    this.#totals.retried += report.retried;
    this.#totals.deadLettered += report.deadLettered;
    return report;
  }

  #count(report: DispatchReport, outcome: 'retry' | 'dead'): void {
    if (outcome === 'dead') report.deadLettered++;
    else report.retried++;
  }

  async #markDone(rows: readonly OutboxRow[]): Promise<void> {
    const done = { sql: `UPDATE outbox SET dispatched_at = ${NOW}, last_error = NULL WHERE seq IN (SELECT value FROM json_each(?))`, params: [JSON.stringify(rows.map((r) => r.seq))] };
    if (this.#absent.length === 0) {
      await this.#sql.execute(done.sql, done.params);
      return;
    }
    // Same transaction: a row is never marked done without the skip being on record.
    await this.#sql.batch([
      ...this.#absent.map((target) => ({ sql: `INSERT OR IGNORE INTO outbox_skipped (target, seq) SELECT ?, value FROM json_each(?)`, params: [target, done.params[0]!] })),
      done,
    ]);
  }

  /**
   * Replays to each target here the rows dispatched while it was off (in this process or
   * another one that opened the folder without it), then forgets them. A failure leaves them
   * for the next pass.
   */
  async #catchUpAll(): Promise<void> {
    const skipped = await this.#sql.query<{ target: string }>(`SELECT DISTINCT target FROM outbox_skipped`);
    for (const { target: name } of skipped) {
      const target = this.#targets.find((t) => t.name === name);
      if (!target) continue;
      try {
        await this.#catchUp(target);
      } catch {
        // retried on the next pass
      }
    }
  }

  async #catchUp(target: OutboxTarget): Promise<void> {
    // seq 0: the store was created empty beside existing data and is rebuilt whole.
    if (await this.#sql.queryOne(`SELECT 1 AS x FROM outbox_skipped WHERE target = ? AND seq = 0`, [target.name])) {
      await target.rebuild?.();
      await this.#sql.execute(`DELETE FROM outbox_skipped WHERE target = ? AND seq = 0`, [target.name]);
    }
    for (;;) {
      const rows = await this.#sql.query<RawRow>(
        `SELECT o.seq, o.id, o.topic, o.aggregate_type, o.aggregate_id, o.payload, o.attempts, o.created_at
           FROM outbox_skipped k JOIN outbox o ON o.seq = k.seq
          WHERE k.target = ? ORDER BY k.seq LIMIT ?`,
        [target.name, this.#batch],
      );
      if (rows.length === 0) break;
      await target.apply(rows.map(toRow));
      await this.#sql.execute(`DELETE FROM outbox_skipped WHERE target = ? AND seq IN (SELECT value FROM json_each(?))`, [
        target.name,
        JSON.stringify(rows.map((r) => Number(r.seq))),
      ]);
    }
  }

  async #fail(row: OutboxRow, err: AicoDataError): Promise<'retry' | 'dead'> {
    const attempts = row.attempts + 1;
    const message = `${err.code}: ${err.message}`.slice(0, 1000);
    if (attempts >= this.#maxAttempts) {
      await this.#sql.execute(`UPDATE outbox SET attempts = ?, last_error = ?, dead_at = ${NOW} WHERE seq = ?`, [attempts, message, row.seq]);
      return 'dead';
    }
    // Full jitter keeps many failing rows from retrying in lock-step.
    const delay = Math.min(this.#max, this.#base * 2 ** (attempts - 1)) * (0.5 + Math.random() / 2);
    await this.#sql.execute(`UPDATE outbox SET attempts = ?, last_error = ?, available_at = ? WHERE seq = ?`, [
      attempts,
      message,
      new Date(Date.now() + delay).toISOString(),
      row.seq,
    ]);
    return 'retry';
  }

  async #prune(): Promise<void> {
    const now = Date.now();
    if (now - this.#lastPrune < 30_000 || this.#closed) return;
    this.#lastPrune = now;
    // Rows a skipped target still has to see are kept until it caught up.
    await this.#sql.execute(
      `DELETE FROM outbox WHERE dispatched_at IS NOT NULL AND dispatched_at < ?
         AND seq NOT IN (SELECT seq FROM outbox_skipped)`,
      [new Date(now - this.#retainMs).toISOString()],
    );
  }

  /** Puts dead letters (all, or those with these row ids) back in the queue; returns how many. */
  async retryDeadLetters(ids?: readonly string[]): Promise<number> {
    if (ids !== undefined && (!Array.isArray(ids) || ids.some((i) => typeof i !== 'string'))) throw invalidArgument('ids must be an array of outbox row ids', { field: 'ids' });
    const r = await this.#sql.execute(
      `UPDATE outbox SET dead_at = NULL, attempts = 0, available_at = ${NOW}
        WHERE dead_at IS NOT NULL${ids ? ' AND id IN (SELECT value FROM json_each(?))' : ''}`,
      ids ? [JSON.stringify(ids)] : [],
    );
    this.kick();
    return r.changes;
  }

  /** Pending, retrying, dispatched and dead rows, and this process's totals. */
  async status(): Promise<OutboxStatus> {
    const s = (await this.#sql.queryOne<{ pending: number; retrying: number; dispatched: number; dead: number; oldest: string | null }>(
      `SELECT count(*) FILTER (WHERE dispatched_at IS NULL AND dead_at IS NULL) AS pending,
              count(*) FILTER (WHERE dispatched_at IS NULL AND dead_at IS NULL AND attempts > 0) AS retrying,
              count(*) FILTER (WHERE dispatched_at IS NOT NULL) AS dispatched,
              count(*) FILTER (WHERE dead_at IS NOT NULL) AS dead,
              min(created_at) FILTER (WHERE dispatched_at IS NULL AND dead_at IS NULL) AS oldest
         FROM outbox`,
    ))!;
    const last = await this.#sql.queryOne<{ last_error: string }>(
      `SELECT last_error FROM outbox WHERE dispatched_at IS NULL AND dead_at IS NULL AND last_error IS NOT NULL ORDER BY seq DESC LIMIT 1`,
    );
    const dead = await this.#sql.query<{ seq: number; id: string; topic: string; aggregate_id: string | null; attempts: number; last_error: string | null; dead_at: string }>(
      `SELECT seq, id, topic, aggregate_id, attempts, last_error, dead_at FROM outbox WHERE dead_at IS NOT NULL ORDER BY seq LIMIT 20`,
    );
    return {
      pending: Number(s.pending),
      retrying: Number(s.retrying),
      dispatched: Number(s.dispatched),
      dead: Number(s.dead),
      oldestPending: s.oldest,
      lastError: last?.last_error ?? null,
      deadLetters: dead.map(
        (d): DeadLetter => ({ seq: Number(d.seq), id: d.id, topic: d.topic, aggregateId: d.aggregate_id, attempts: Number(d.attempts), lastError: d.last_error, deadAt: d.dead_at }),
      ),
      totals: { ...this.#totals },
      running: this.#loop && !this.#closed,
    };
  }

  /** Stops the loop and waits for the pass in progress. Pending rows stay for the next open. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#loop = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#closed = true;
    await this.#running?.catch(() => undefined);
  }
}
