import { AsyncLocalStorage } from 'node:async_hooks';
import { invalidArgument } from '../errors.js';
import type { Row, RunResult, SqlExecutor, SqlParams, SqlTransaction, Statement } from '../stores/sql/index.js';

/** What the data access layer runs statements on: the SQL store, or one of its transactions. */
export interface SqlSession extends SqlExecutor {
  transaction<T>(fn: (tx: SqlTransaction) => Promise<T> | T): Promise<T>;
  /** Prepared statements, when the session offers them (the SQL store does). */
  prepare?<T = Row>(sql: string): Statement<T>;
}

/** Statements the repositories run, prepared once per SQL text (bounded: least recently used go). */
class StatementCache {
  readonly #map = new Map<string, Statement<unknown>>();
  constructor(
    readonly prepare: (sql: string) => Statement<unknown>,
    readonly max = 256,
  ) {}

  /** The statement for `sql`, or undefined when it cannot be prepared alone (several statements, a table a transaction creates): the string API runs it then. */
  get(sql: string): Statement<unknown> | undefined {
    let s = this.#map.get(sql);
    if (s) {
      this.#map.delete(sql); // most recently used last
      this.#map.set(sql, s);
      return s;
    }
    try {
      s = this.prepare(sql);
    } catch {
      return undefined; // not cached: a later call may prepare it (the table exists by then)
    }
    this.#map.set(sql, s);
    if (this.#map.size > this.max) {
      const oldest = this.#map.keys().next().value as string;
      this.#map.get(oldest)?.close();
      this.#map.delete(oldest);
    }
    return s;
  }
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
  /** Shared by the root layer and its transaction layers. */
  readonly #statements: StatementCache | undefined;

  /** A root layer over `session` (normally the data layer's `sql` store). */
  constructor(session: SqlSession);
  /** @internal A layer bound to an open transaction. */
  constructor(session: SqlSession, ambient: AsyncLocalStorage<DataAccessLayer>, inTransaction: true, statements: StatementCache | undefined);
  constructor(session: SqlSession, ambient?: AsyncLocalStorage<DataAccessLayer>, inTransaction = false, statements?: StatementCache) {
    if (session === null || typeof session !== 'object' || typeof session.transaction !== 'function') {
      throw invalidArgument('DataAccessLayer needs a SQL store or transaction', { field: 'session' });
    }
    this.#session = session;
    this.#ambient = ambient ?? new AsyncLocalStorage();
    this.#inTransaction = inTransaction;
    const prepare = session.prepare;
    this.#statements = inTransaction ? statements : typeof prepare === 'function' ? new StatementCache((sql) => prepare.call(session, sql)) : undefined;
  }

  /** True for a layer bound to an open transaction. */
  get inTransaction(): boolean {
    return this.#inTransaction;
  }

  /** Runs one write (or any statement whose rows are not needed). */
  execute(sql: string, params?: SqlParams): Promise<RunResult> {
    const layer = this.#layer();
    const stmt = layer.#statement(sql);
    return stmt ? stmt.run(params) : layer.#session.execute(sql, params);
  }

  /** Runs a query and returns every row. */
  fetchAll<T = Row>(sql: string, params?: SqlParams): Promise<T[]> {
    const layer = this.#layer();
    const stmt = layer.#statement(sql);
    return stmt ? (stmt.all(params) as Promise<T[]>) : layer.#session.query<T>(sql, params);
  }

  /** Runs a query and returns its first row, or `undefined`. */
  fetchOne<T = Row>(sql: string, params?: SqlParams): Promise<T | undefined> {
    const layer = this.#layer();
    const stmt = layer.#statement(sql);
    return stmt ? (stmt.get(params) as Promise<T | undefined>) : layer.#session.queryOne<T>(sql, params);
  }

  /**
   * Runs `fn` in a transaction: committed when it resolves, rolled back when it throws (the
   * error is rethrown). Called inside a transaction, it becomes a savepoint of it.
   */
  async transaction<T>(fn: (dal: DataAccessLayer) => Promise<T>): Promise<T> {
    if (typeof fn !== 'function') throw invalidArgument('transaction takes a callback', { field: 'fn' });
    const outer = this.#inTransaction ? this : (this.#ambient.getStore() ?? this);
    return outer.#session.transaction((tx) => {
      const inner = new DataAccessLayer(tx, this.#ambient, true, this.#statements);
      return this.#ambient.run(inner, () => fn(inner));
    });
  }

  /** The layer whose session to use: this one when bound to a transaction, else the ambient one. */
  #layer(): DataAccessLayer {
    if (this.#inTransaction) return this;
    return this.#ambient.getStore() ?? this;
  }

  /** The prepared statement for `sql` on this layer's session (bound to its transaction), if any. */
  #statement(sql: string): Statement<unknown> | undefined {
    if (!this.#statements || typeof sql !== 'string' || sql.length === 0) return undefined;
    const stmt = this.#statements.get(sql);
    if (!stmt) return undefined;
    return this.#inTransaction ? stmt.on(this.#session as SqlTransaction) : stmt;
  }
}
