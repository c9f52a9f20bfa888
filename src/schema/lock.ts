/**
 * The migration lock: a lease row in `_aico_schema_lock`, so that when several processes open
 * the same data folder at once exactly one migrates and the others wait, then see the finished
 * schema.
 *
 * Taking the lease is a write transaction (`BEGIN IMMEDIATE`), so SQLite serializes it. The
 * lease is renewed inside every migration transaction (atomically with the work), and a lease
 * whose holder is a dead process on this host, or that has expired, may be taken over.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { errorCode, schemaError } from './errors.js';
import { LOCK_TABLE, nowIso } from './tracking.js';
import type { SchemaExecutor, SchemaStore } from './types.js';
import { processAlive } from '../util/process-alive.js';

export interface LockOptions {
  /** How long to wait for another process's migration (default 120 s). */
  readonly timeoutMs?: number;
  /** Lease length, renewed by every migration step (default 30 s). */
  readonly leaseMs?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function processLabel(): string {
  return `${process.pid}@${hostname()}`;
}


export class MigrationLock {
  readonly owner = randomUUID();
  readonly #sql: SchemaStore;
  readonly #timeoutMs: number;
  readonly #leaseMs: number;
  #held = 0;

  constructor(sql: SchemaStore, options: LockOptions = {}) {
    this.#sql = sql;
    this.#timeoutMs = options.timeoutMs ?? 120_000;
    this.#leaseMs = options.leaseMs ?? 30_000;
  }

  get held(): boolean {
    return this.#held > 0;
  }

  /** Runs `fn` holding the lock (re-entrant within this object). */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#held > 0) {
      this.#held++;
      try {
        return await fn();
      } finally {
        this.#held--;
      }
    }
    await this.#acquire();
    this.#held = 1;
    try {
      return await fn();
    } finally {
      this.#held = 0;
      await this.#release();
    }
  }

  /** Extends the lease; call inside each migration transaction. Throws if the lease was lost. */
  async renew(tx: SchemaExecutor): Promise<void> {
    const r = await tx.execute(`UPDATE ${LOCK_TABLE} SET expires_at = ? WHERE id = 1 AND owner = ?`, [
      Date.now() + this.#leaseMs,
      this.owner,
    ]);
    if (r.changes !== 1) {
      throw schemaError('TIMEOUT', 'the schema migration lock was lost (lease expired and taken over by another process)', {
        owner: this.owner,
      });
    }
  }

  async #tryAcquire(): Promise<{ ok: true } | { ok: false; holder: string }> {
    return this.#sql.transaction(async (tx) => {
      const row = await tx.queryOne<{ owner: string; pid: number; host: string; expires_at: number }>(
        `SELECT owner, pid, host, expires_at FROM ${LOCK_TABLE} WHERE id = 1`,
      );
      const now = Date.now();
      const free =
        !row ||
        row.owner === this.owner ||
        Number(row.expires_at) < now ||
        (row.host === hostname() && !processAlive(Number(row.pid)));
      if (!free) return { ok: false as const, holder: `${row.pid}@${row.host}` };
      await tx.execute(
        `INSERT INTO ${LOCK_TABLE} (id, owner, pid, host, acquired_at, expires_at) VALUES (1, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, pid = excluded.pid, host = excluded.host,
           acquired_at = excluded.acquired_at, expires_at = excluded.expires_at`,
        [this.owner, process.pid, hostname(), nowIso(), now + this.#leaseMs],
      );
      return { ok: true as const };
    });
  }

  async #acquire(): Promise<void> {
    const deadline = Date.now() + this.#timeoutMs;
    let wait = 20;
    let holder = 'another process';
    for (;;) {
      try {
        const r = await this.#tryAcquire();
        if (r.ok) return;
        holder = r.holder;
      } catch (e) {
        if (errorCode(e) !== 'BUSY') throw e;
      }
      if (Date.now() >= deadline) {
        throw schemaError('TIMEOUT', `timed out after ${this.#timeoutMs} ms waiting for the schema migration lock held by ${holder}`, {
          holder,
          timeoutMs: this.#timeoutMs,
        });
      }
      await sleep(wait);
      wait = Math.min(wait * 2, 250);
    }
  }

  async #release(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#sql.execute(`DELETE FROM ${LOCK_TABLE} WHERE id = 1 AND owner = ?`, [this.owner]);
        return;
      } catch (e) {
        // A closed store or a persistent error: the lease expires by itself.
        if (errorCode(e) !== 'BUSY' || attempt >= 20) return;
        await sleep(50);
      }
    }
  }
}
