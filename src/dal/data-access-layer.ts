import { AsyncLocalStorage } from 'node:async_hooks';
import { invalidArgument } from '../errors.js';
import type { Row, RunResult, SqlExecutor, SqlParams, SqlTransaction } from '../stores/sql/index.js';

/** What the data access layer runs statements on: the SQL store, or one of its transactions. */
export interface SqlSession extends SqlExecutor {
  transaction<T>(fn: (tx: SqlTransaction) => Promise<T> | T): Promise<T>;
}

/**
 * The data access layer: generic statement execution and transactions over the encrypted
 * libSQL store (whose Rust pool gives reads their own connections and serialises writes).
 * Repositories talk to this, never to the store.
 *
 * Transactions are ambient: inside `transaction(fn)`, every call on the root layer made from
 * `fn`'s async context joins that transaction (a nested `transaction` becomes a savepoint).
 * So code that holds the root layer cannot deadlock against the single writer by writing
 * while a unit of work it started is open.
 */
export class DataAccessLayer {
  readonly #session: SqlSession;
  readonly #ambient: AsyncLocalStorage<DataAccessLayer>;
  readonly #inTransaction: boolean;

  /** A root layer over `session` (normally the data layer's `sql` store). */
  constructor(session: SqlSession);
  /** @internal A layer bound to an open transaction. */
  constructor(session: SqlSession, ambient: AsyncLocalStorage<DataAccessLayer>, inTransaction: true);
  constructor(session: SqlSession, ambient?: AsyncLocalStorage<DataAccessLayer>, inTransaction = false) {
    if (session === null || typeof session !== 'object' || typeof session.transaction !== 'function') {
      throw invalidArgument('DataAccessLayer needs a SQL store or transaction', { field: 'session' });
    }
    this.#session = session;
    this.#ambient = ambient ?? new AsyncLocalStorage();
    this.#inTransaction = inTransaction;
  }

  /** True for a layer bound to an open transaction. */
  get inTransaction(): boolean {
    return this.#inTransaction;
  }

  /** Runs one write (or any statement whose rows are not needed). */
  execute(sql: string, params?: SqlParams): Promise<RunResult> {
    return this.#current().execute(sql, params);
  }

  /** Runs a query and returns every row. */
  fetchAll<T = Row>(sql: string, params?: SqlParams): Promise<T[]> {
    return this.#current().query<T>(sql, params);
  }

  /** Runs a query and returns its first row, or `undefined`. */
  fetchOne<T = Row>(sql: string, params?: SqlParams): Promise<T | undefined> {
    return this.#current().queryOne<T>(sql, params);
  }

  /**
   * Runs `fn` in a transaction: committed when it resolves, rolled back when it throws (the
   * error is rethrown). Called inside a transaction, it becomes a savepoint of it.
   */
  async transaction<T>(fn: (dal: DataAccessLayer) => Promise<T>): Promise<T> {
    if (typeof fn !== 'function') throw invalidArgument('transaction takes a callback', { field: 'fn' });
    const outer = this.#inTransaction ? this : (this.#ambient.getStore() ?? this);
    return outer.#session.transaction((tx) => {
      const inner = new DataAccessLayer(tx, this.#ambient, true);
      return this.#ambient.run(inner, () => fn(inner));
    });
  }

  /** The session to use: this layer's own when bound to a transaction, else the ambient one. */
  #current(): SqlExecutor {
    if (this.#inTransaction) return this.#session;
    const ambient = this.#ambient.getStore();
    return ambient ? ambient.#session : this.#session;
  }
}
