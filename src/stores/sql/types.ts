/** A value SQL can store: NULL, INTEGER (number or bigint), REAL, TEXT, BLOB. */
export type SqlValue = null | number | bigint | string | Uint8Array;

/**
 * Statement parameters: positional (`?`, `?2`) as an array, or named (`:name`, `@name`,
 * `$name`) as a plain object whose keys may omit the sigil. Booleans bind as 0/1.
 */
export type SqlParams = readonly (SqlValue | boolean)[] | Readonly<Record<string, SqlValue | boolean>>;

/** A result row keyed by column name. */
export type Row = Record<string, SqlValue>;

/** What a write did. `lastInsertRowid` is a bigint only beyond 2^53. */
export interface RunResult {
  changes: number;
  lastInsertRowid: number | bigint;
}

/** One statement of a batch. */
export type BatchStatement = string | { sql: string; params?: SqlParams };

/** The asynchronous statement API shared by the store and its transactions. */
export interface SqlExecutor {
  /** Runs one statement and reports what it changed. Rows it returns are discarded. */
  execute(sql: string, params?: SqlParams): Promise<RunResult>;
  /** Runs one statement and returns every row as an object. */
  query<T = Row>(sql: string, params?: SqlParams): Promise<T[]>;
  /** Runs one statement and returns its first row, or `undefined`. */
  queryOne<T = Row>(sql: string, params?: SqlParams): Promise<T | undefined>;
  /** Runs one statement and returns rows as arrays in column order. */
  queryRaw(sql: string, params?: SqlParams): Promise<SqlValue[][]>;
  /** Runs a script of several statements without parameters, atomically. */
  exec(script: string): Promise<void>;
}

/** The synchronous statement API (runs on the calling thread; for hot paths). */
export interface SqlExecutorSync {
  executeSync(sql: string, params?: SqlParams): RunResult;
  querySync<T = Row>(sql: string, params?: SqlParams): T[];
  queryOneSync<T = Row>(sql: string, params?: SqlParams): T | undefined;
  queryRawSync(sql: string, params?: SqlParams): SqlValue[][];
  execSync(script: string): void;
}

/** An open transaction. Nested `transaction()` calls become savepoints. */
export interface SqlTransaction extends SqlExecutor {
  transaction<T>(fn: (tx: SqlTransaction) => Promise<T> | T): Promise<T>;
}

/** A synchronous transaction (see `SqlStore.transactionSync`). */
export interface SqlTransactionSync extends SqlExecutorSync {
  transactionSync<T>(fn: (tx: SqlTransactionSync) => T): T;
}

/** Options of the encrypted SQL store. */
export interface SqlOptions {
  /** Reader connections in the pool (default 4). The writer is one more. */
  readers?: number;
  /** How long SQLite waits on another process's lock before `BUSY` (default 5000 ms). */
  busyTimeoutMs?: number;
  /** How long a call waits for a pooled connection before `BUSY` (default 5000 ms). */
  acquireTimeoutMs?: number;
  /**
   * `normal` (default): durable across process crashes, may lose the last commits on power
   * loss. `full`: also durable across power loss, slower commits.
   */
  synchronous?: 'normal' | 'full';
  /** Prepared statements cached per connection (default 256). */
  statementCache?: number;
  /** Page cache per connection in KiB (default 8192). */
  cacheKib?: number;
}
