import { native, nativeAsync } from '../../errors.js';
import type { NativeSql } from '../../native/index.js';
import { checkSql, toNativeBatch } from './check.js';
import { OpenCursors } from './cursor.js';
import { withWriterFtsVerdicts } from './fts-recheck.js';
import { sandboxedExecutor, type SandboxedExecutor, type SandboxPolicy } from './sandbox.js';
import { Statement } from './statement.js';
import { SyncTxSlot, Transaction, TransactionSync } from './transaction.js';
import type {
  BatchStatement,
  Row,
  RunResult,
  SqlExecutor,
  SqlExecutorSync,
  SqlParams,
  SqlTransaction,
  SqlTransactionSync,
  SqlValue,
} from './types.js';
import { WriterQueue } from './writer-queue.js';

type P = SqlParams | undefined;

/** Pool and transaction counters. */
export interface SqlStats {
  readersOpen: number;
  readersIdle: number;
  readersMax: number;
  inTransaction: boolean;
}

/**
 * The encrypted libSQL store of a data folder: one writer connection plus a pool of
 * readers, prepared-statement caches, and transactions. Every method has an async form
 * (runs on the libuv pool) and a `*Sync` form (runs on the calling thread, for hot paths).
 *
 * @example
 * ```ts
 * await data.sql.exec('CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT)');
 * await data.sql.execute('INSERT INTO notes(body) VALUES (?)', ['hello']);
 * const note = await data.sql.queryOne<{ body: string }>('SELECT body FROM notes WHERE id = :id', { id: 1 });
 * await data.sql.transaction(async (tx) => {
 *   await tx.execute('UPDATE notes SET body = ? WHERE id = 1', ['edited']);
 * }); // committed, or rolled back if the callback throws
 * ```
 */
export class SqlStore implements SqlExecutor, SqlExecutorSync {
  readonly #n: NativeSql;
  readonly #writes = new WriterQueue();
  /** The open `transactionSync`, which sync calls on the JS thread join. */
  readonly #slot = new SyncTxSlot();
  /** Open `iterate()` cursors: each holds a reader until it ends; closed with the store. */
  readonly #cursors = new OpenCursors();

  /** @internal */
  constructor(n: NativeSql) {
    this.#n = n;
  }

  // ---- async ----

  execute(sql: string, params?: P): Promise<RunResult> {
    return this.#writes.run(() => nativeAsync(() => this.#n.runAsync(checkSql(sql), params)));
  }

  query<T = Row>(sql: string, params?: P): Promise<T[]> {
    return nativeAsync(() => this.#n.queryAsync(checkSql(sql), params, false, false)) as Promise<T[]>;
  }

  queryOne<T = Row>(sql: string, params?: P): Promise<T | undefined> {
    return nativeAsync(() => this.#n.queryAsync(checkSql(sql), params, false, true)) as Promise<T | undefined>;
  }

  queryRaw(sql: string, params?: P): Promise<SqlValue[][]> {
    return nativeAsync(() => this.#n.queryAsync(checkSql(sql), params, true, false)) as Promise<SqlValue[][]>;
  }

  exec(script: string): Promise<void> {
    return this.#writes.run(() => nativeAsync(() => this.#n.execAsync(checkSql(script, 'script'))));
  }

  /** Runs the statements in one transaction: all of them commit, or none does. */
  batch(stmts: readonly BatchStatement[]): Promise<RunResult[]> {
    return this.#writes.run(() => nativeAsync(() => this.#n.batchAsync(toNativeBatch(stmts))));
  }

  /**
   * Runs `fn` in a transaction (`BEGIN IMMEDIATE`): committed when it resolves, rolled back
   * when it throws (the error is rethrown as is). Other writes wait until it ends; reads
   * outside it do not see its changes before commit. Nested calls on `tx` use savepoints.
   */
  transaction<T>(fn: (tx: SqlTransaction) => Promise<T> | T): Promise<T> {
    return this.#writes.run(() => Transaction.run(this.#n, fn));
  }

  /**
   * A prepared statement: `sql` is checked now (syntax, the authorizer) and each later call
   * passes only parameters, with object keys made once. Faster than the string methods for
   * statements run often; see {@link Statement}. Inside an open `transactionSync` it is
   * prepared in that transaction, so it may use tables the transaction created.
   */
  prepare<T = Row>(sql: string): Statement<T> {
    const open = this.#openSyncTx();
    const n = native(() => this.#n.prepare(checkSql(sql), open?.id));
    return Statement.create<T>(n, this.#slot, this.#writes, this.#cursors);
  }

  // ---- sync ----
  // Inside an open `transactionSync` these run in that transaction (one connection's view,
  // as with better-sqlite3); otherwise on the writer (writes) or a pooled reader.

  executeSync(sql: string, params?: P): RunResult {
    const tx = this.#openSyncTx();
    if (tx) return native(() => this.#n.txRun(tx.id, checkSql(sql), params)) as RunResult;
    return native(() => this.#n.run(checkSql(sql), params)) as RunResult;
  }

  querySync<T = Row>(sql: string, params?: P): T[] {
    return this.#querySync(sql, params, false, false) as T[];
  }

  queryOneSync<T = Row>(sql: string, params?: P): T | undefined {
    return this.#querySync(sql, params, false, true) as T | undefined;
  }

  queryRawSync(sql: string, params?: P): SqlValue[][] {
    return this.#querySync(sql, params, true, false) as SqlValue[][];
  }

  execSync(script: string): void {
    const tx = this.#openSyncTx();
    if (tx) return void native(() => this.#n.txExec(tx.id, checkSql(script, 'script')));
    native(() => this.#n.exec(checkSql(script, 'script')));
  }

  batchSync(stmts: readonly BatchStatement[]): RunResult[] {
    const batch = toNativeBatch(stmts); // validates every statement first
    if (this.#openSyncTx()) {
      // All or none inside the open transaction: a savepoint of it.
      return this.transactionSync((tx) => stmts.map((s) => (typeof s === 'string' ? tx.executeSync(s) : tx.executeSync(s.sql, s.params))));
    }
    return native(() => this.#n.batch(batch)) as RunResult[];
  }

  /**
   * Synchronous transaction, as better-sqlite3's `db.transaction(fn)()`: `fn` must not return
   * a Promise. Nested calls (on the store or on `tx`) are savepoints; sync calls and prepared
   * statements used inside `fn` join it. While an async transaction is open, this fails at once
   * with `BUSY` instead of blocking the thread that must finish it.
   */
  transactionSync<T>(fn: (tx: SqlTransactionSync) => T): T {
    return TransactionSync.run(this.#n, fn, this.#slot);
  }

  #openSyncTx() {
    return this.#slot.open();
  }

  #querySync(sql: string, params: P, arrays: boolean, one: boolean): unknown {
    const tx = this.#openSyncTx();
    if (tx) return native(() => this.#n.txQuery(tx.id, checkSql(sql), params, arrays, one));
    return native(() => this.#n.query(checkSql(sql), params, arrays, one));
  }

  // ---- plugin sandboxes ----

  /**
   * A handle whose statements can reach only objects named `policy.prefix*` (enforced by
   * SQLite's authorizer at prepare time; denials are `NOT_AUTHORIZED`). Backs plugin isolation.
   */
  sandboxed(policy: SandboxPolicy): SandboxedExecutor & {
    transaction<T>(fn: (tx: SandboxedExecutor) => Promise<T> | T): Promise<T>;
  } {
    const n = this.#n;
    const base = sandboxedExecutor(n, policy);
    return {
      ...base,
      execute: (sql, params) => this.#writes.run(() => base.execute(sql, params)),
      exec: (script) => this.#writes.run(() => base.exec(script)),
      transaction: (fn) => this.#writes.run(() => Transaction.run(n, (tx) => fn((tx as Transaction).sandboxed(policy)))),
    };
  }

  // ---- maintenance ----

  /** `PRAGMA quick_check` (or `integrity_check` with `full`); returns the problems, [] = ok. */
  integrityCheck(full = false): string[] {
    const problems = native(() => this.#n.integrityCheck(full));
    return withWriterFtsVerdicts(problems, {
      ftsTables: () => (this.#n.query("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%USING fts5%'", undefined, false, false) as Array<{ name: string }>).map((r) => r.name),
      runOnWriter: (sql) => this.#n.run(sql, undefined),
    });
  }

  /** Pings idle pooled connections and replaces broken ones; returns how many were replaced. */
  healthCheck(): number {
    return native(() => this.#n.healthCheck());
  }

  stats(): SqlStats {
    return native(() => this.#n.stats());
  }

  get closed(): boolean {
    return this.#n.closed;
  }

  /** @internal Closes the connections; later calls fail with `CLOSED`. */
  close(): void {
    this.#cursors.closeAll();
    this.#n.close();
  }
}
