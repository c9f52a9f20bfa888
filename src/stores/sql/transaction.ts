import { invalidArgument, native, nativeAsync, toAicoError } from '../../errors.js';
import type { NativeSql } from '../../native/index.js';
import { checkSql } from './check.js';
import { sandboxedExecutor, type SandboxedExecutor, type SandboxPolicy } from './sandbox.js';
import type { Row, RunResult, SqlParams, SqlTransaction, SqlTransactionSync, SqlValue } from './types.js';

type P = SqlParams | undefined;

/** @internal Shared state of one transaction: its native id, whether it ended, savepoint counter. */
export class TxState {
  ended = false;
  savepoints = 0;
  constructor(readonly id: number) {}
  check(): void {
    if (this.ended) throw invalidArgument('this transaction has already been committed or rolled back');
  }
}

/**
 * @internal The store's open synchronous transaction, if any: sync calls and prepared
 * statements made on the JS thread while it is open run inside it (as with better-sqlite3's
 * single connection), and a nested `transactionSync` becomes a savepoint.
 */
export class SyncTxSlot {
  current: TxState | undefined = undefined;

  /** The open transaction, if any (one that ended is no longer joined). */
  open(): TxState | undefined {
    const c = this.current;
    return c && !c.ended ? c : undefined;
  }
}

const states = new WeakMap<object, TxState>();

/** @internal The state behind a transaction handle (for statements bound to it). */
export function txStateOf(tx: object): TxState | undefined {
  return states.get(tx);
}

/** An asynchronous transaction handle (see `SqlStore.transaction`). */
export class Transaction implements SqlTransaction {
  readonly #n: NativeSql;
  readonly #s: TxState;

  /** @internal */
  constructor(n: NativeSql, state: TxState) {
    this.#n = n;
    this.#s = state;
    states.set(this, state);
  }

  execute(sql: string, params?: P): Promise<RunResult> {
    return nativeAsync(() => (this.#s.check(), this.#n.txRunAsync(this.#s.id, checkSql(sql), params)));
  }
  query<T = Row>(sql: string, params?: P): Promise<T[]> {
    return nativeAsync(() => (this.#s.check(), this.#n.txQueryAsync(this.#s.id, checkSql(sql), params, false, false))) as Promise<T[]>;
  }
  queryOne<T = Row>(sql: string, params?: P): Promise<T | undefined> {
    return nativeAsync(() => (this.#s.check(), this.#n.txQueryAsync(this.#s.id, checkSql(sql), params, false, true))) as Promise<T | undefined>;
  }
  queryRaw(sql: string, params?: P): Promise<SqlValue[][]> {
    return nativeAsync(() => (this.#s.check(), this.#n.txQueryAsync(this.#s.id, checkSql(sql), params, true, false))) as Promise<SqlValue[][]>;
  }
  exec(script: string): Promise<void> {
    return nativeAsync(() => (this.#s.check(), this.#n.txExecAsync(this.#s.id, checkSql(script, 'script'))));
  }

  /** Statements of this transaction compiled under a plugin sandbox policy. */
  sandboxed(policy: SandboxPolicy): SandboxedExecutor {
    return sandboxedExecutor(this.#n, policy, this.#s);
  }

  /** Runs `fn` inside a savepoint: rolled back alone if it throws. */
  async transaction<T>(fn: (tx: SqlTransaction) => Promise<T> | T): Promise<T> {
    const sp = `aico_sp_${++this.#s.savepoints}`;
    await this.exec(`SAVEPOINT ${sp}`);
    try {
      const out = await fn(this);
      await this.exec(`RELEASE ${sp}`);
      return out;
    } catch (e) {
      if (!this.#s.ended) await this.exec(`ROLLBACK TO ${sp}; RELEASE ${sp}`).catch(() => undefined);
      throw e;
    }
  }

  /** @internal Runs a whole transaction: begin, `fn`, commit or rollback. */
  static async run<T>(n: NativeSql, fn: (tx: SqlTransaction) => Promise<T> | T): Promise<T> {
    if (typeof fn !== 'function') throw invalidArgument('transaction() takes a callback');
    const id = await nativeAsync(() => n.beginAsync());
    const state = new TxState(id);
    let out: T;
    try {
      out = await fn(new Transaction(n, state));
    } catch (e) {
      state.ended = true;
      await n.rollbackAsync(id).catch(() => undefined);
      throw e;
    }
    state.ended = true;
    try {
      await n.commitAsync(id);
    } catch (e) {
      throw toAicoError(e);
    }
    return out;
  }
}

/** A synchronous transaction handle (see `SqlStore.transactionSync`). */
export class TransactionSync implements SqlTransactionSync {
  readonly #n: NativeSql;
  readonly #s: TxState;

  /** @internal */
  constructor(n: NativeSql, state: TxState) {
    this.#n = n;
    this.#s = state;
    states.set(this, state);
  }

  executeSync(sql: string, params?: P): RunResult {
    return native(() => (this.#s.check(), this.#n.txRun(this.#s.id, checkSql(sql), params))) as RunResult;
  }
  querySync<T = Row>(sql: string, params?: P): T[] {
    return native(() => (this.#s.check(), this.#n.txQuery(this.#s.id, checkSql(sql), params, false, false))) as T[];
  }
  queryOneSync<T = Row>(sql: string, params?: P): T | undefined {
    return native(() => (this.#s.check(), this.#n.txQuery(this.#s.id, checkSql(sql), params, false, true))) as T | undefined;
  }
  queryRawSync(sql: string, params?: P): SqlValue[][] {
    return native(() => (this.#s.check(), this.#n.txQuery(this.#s.id, checkSql(sql), params, true, false))) as SqlValue[][];
  }
  execSync(script: string): void {
    native(() => (this.#s.check(), this.#n.txExec(this.#s.id, checkSql(script, 'script'))));
  }

  /** Runs `fn` inside a savepoint: rolled back alone if it throws. */
  transactionSync<T>(fn: (tx: SqlTransactionSync) => T): T {
    const sp = `aico_sp_${++this.#s.savepoints}`;
    this.execSync(`SAVEPOINT ${sp}`);
    try {
      const out = fn(this);
      this.execSync(`RELEASE ${sp}`);
      return out;
    } catch (e) {
      if (!this.#s.ended) {
        try {
          this.execSync(`ROLLBACK TO ${sp}; RELEASE ${sp}`);
        } catch {
          /* the outer rollback cleans up */
        }
      }
      throw e;
    }
  }

  /** @internal */
  static run<T>(n: NativeSql, fn: (tx: SqlTransactionSync) => T, slot?: SyncTxSlot): T {
    if (typeof fn !== 'function') throw invalidArgument('transactionSync() takes a callback');
    const open = slot?.open();
    if (open) return new TransactionSync(n, open).transactionSync(fn);
    const id = native(() => n.begin());
    const state = new TxState(id);
    if (slot) slot.current = state;
    try {
      return TransactionSync.#body(n, state, fn);
    } finally {
      if (slot) slot.current = undefined;
    }
  }

  static #body<T>(n: NativeSql, state: TxState, fn: (tx: SqlTransactionSync) => T): T {
    const id = state.id;
    let out: T;
    try {
      out = fn(new TransactionSync(n, state));
      if (out instanceof Promise) {
        out.catch(() => undefined);
        throw invalidArgument('the transactionSync() callback returned a Promise: use transaction() for async work');
      }
    } catch (e) {
      state.ended = true;
      try {
        n.rollback(id);
      } catch {
        /* rollback of an ended transaction */
      }
      throw e;
    }
    state.ended = true;
    native(() => n.commit(id));
    return out;
  }
}
