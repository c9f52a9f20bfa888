import { AicoDataError, invalidArgument, native, nativeAsync } from '../../errors.js';
import type { NativeStatement } from '../../native/index.js';
import { Cursor, type OpenCursors } from './cursor.js';
import { txStateOf, type SyncTxSlot, type TxState } from './transaction.js';
import type { Row, RunResult, SqlParams, SqlTransaction, SqlTransactionSync, SqlValue } from './types.js';
import type { WriterQueue } from './writer-queue.js';

type P = SqlParams | undefined;

/** How rows come back: objects, arrays in column order, or the first column's value. */
enum Shape {
  Objects = 0,
  Arrays = 1,
  Pluck = 2,
}

/** @internal What every view of one prepared statement shares. */
interface Shared {
  readonly n: NativeStatement;
  readonly slot: SyncTxSlot;
  readonly writes: WriterQueue;
  readonly cursors: OpenCursors;
  closed: boolean;
}

/**
 * A prepared statement (`data.sql.prepare(sql)`): the SQL is checked once, when it is made
 * (syntax, and the authorizer that keeps SQL away from the file system), and each call passes
 * only its parameters. Reads run on the reader pool, writes on the writer.
 *
 * The sync methods (`getSync`, `allSync`, `iterateSync`, `runSync`, `runManySync`) run inside the store's
 * open `transactionSync`, if any, as better-sqlite3's statements do. For an async
 * transaction, bind a view with {@link Statement.on}. After `close()`, or once the data layer
 * closed, calls fail with `CLOSED`.
 *
 * @example
 * ```ts
 * const byId = data.sql.prepare<{ id: number; body: string }>('SELECT id, body FROM notes WHERE id = ?');
 * const note = byId.getSync([1]);
 * const insert = data.sql.prepare('INSERT INTO notes(body) VALUES (?)');
 * insert.runManySync([['a'], ['b'], ['c']]); // one native call, one transaction
 * const bodies = data.sql.prepare('SELECT body FROM notes').pluck().allSync(); // string[]
 * ```
 */
export class Statement<T = Row> {
  readonly #s: Shared;
  readonly #shape: Shape;
  /** A transaction this view is bound to (see `on`). */
  readonly #tx: TxState | undefined;

  /** @internal */
  constructor(shared: Shared, shape: Shape = Shape.Objects, tx?: TxState) {
    this.#s = shared;
    this.#shape = shape;
    this.#tx = tx;
  }

  /** @internal */
  static create<T>(n: NativeStatement, slot: SyncTxSlot, writes: WriterQueue, cursors: OpenCursors): Statement<T> {
    return new Statement<T>({ n, slot, writes, cursors, closed: false });
  }

  /** The SQL text. */
  get source(): string {
    return this.#s.n.source;
  }

  /** True when the statement makes no direct change to the database. */
  get readonly(): boolean {
    return this.#s.n.readonly;
  }

  /** Result column names (as of prepare time). */
  get columns(): string[] {
    return this.#s.n.columns;
  }

  /** A view returning rows as arrays in column order. */
  raw(): Statement<SqlValue[]> {
    return new Statement<SqlValue[]>(this.#s, Shape.Arrays, this.#tx);
  }

  /** A view returning the first column's value of each row. */
  pluck<V = SqlValue>(): Statement<V> {
    return new Statement<V>(this.#s, Shape.Pluck, this.#tx);
  }

  /** A view whose calls run inside `tx` (a `transaction` or `transactionSync` handle). */
  on(tx: SqlTransaction | SqlTransactionSync): Statement<T> {
    const state = txStateOf(tx);
    if (!state) throw invalidArgument('on() takes a transaction handle of this data layer');
    return new Statement<T>(this.#s, this.#shape, state);
  }

  // ---- sync ----

  /** The first row, or `undefined`. */
  getSync(params?: P): T | undefined {
    const tx = this.#txId();
    return native(() => this.#s.n.get(params, tx, this.#shape)) as T | undefined;
  }

  /** Every row. */
  allSync(params?: P): T[] {
    const tx = this.#txId();
    return native(() => this.#s.n.all(params, tx, this.#shape)) as T[];
  }

  /**
   * The rows one by one, read lazily: a batch of 256 at a time (one read ahead) on a reader
   * connection of the iteration's own, so a result of any size never sits in memory whole.
   * The reader is given back when the rows end, on `break`/`return` out of the loop, or when
   * the statement or the data layer closes (the next step then fails with `CLOSED`). The
   * rows are those of one snapshot: writes made meanwhile are not seen. Inside a transaction
   * the rows are read in it, at once (a transaction has one connection). Only for statements
   * that make no change (`INVALID_ARGUMENT` otherwise, at the call).
   */
  iterateSync(params?: P): IterableIterator<T> {
    const tx = this.#iterable();
    if (tx !== undefined) return this.#inTx(tx, params)[Symbol.iterator]();
    const held: Held<T> = {};
    return abandonable(this.#rowsSync(params, held), held);
  }

  /** Runs the statement; rows it returns are discarded. */
  runSync(params?: P): RunResult {
    const tx = this.#txId();
    return native(() => this.#s.n.run(params, tx)) as RunResult;
  }

  /**
   * Runs the statement once per parameter set, in one native call and one transaction: all
   * sets apply, or none (inside an open transaction, under a savepoint: a failure undoes only
   * this call). `changes` is the sum; `lastInsertRowid` is the last set's.
   */
  runManySync(list: readonly P[]): RunResult {
    const tx = this.#txId();
    return native(() => this.#s.n.runMany(checkList(list), tx)) as RunResult;
  }

  // ---- async ----

  get(params?: P): Promise<T | undefined> {
    return nativeAsync(() => this.#s.n.getAsync(params, this.#asyncTx(), this.#shape)) as Promise<T | undefined>;
  }

  all(params?: P): Promise<T[]> {
    return nativeAsync(() => this.#s.n.allAsync(params, this.#asyncTx(), this.#shape)) as Promise<T[]>;
  }

  /**
   * {@link Statement.iterateSync} with each batch read off the JS thread: `for await (const row
   * of stmt.iterate())`. Inside a bound transaction (see `on`) the rows are read in it, at once.
   */
  iterate(params?: P): AsyncIterableIterator<T> {
    if (this.#s.closed) throw closedError();
    this.#checkReads();
    const held: Held<T> = {};
    return abandonable(this.#rows(params, held), held);
  }

  run(params?: P): Promise<RunResult> {
    return this.#write(() => this.#s.n.runAsync(params, this.#asyncTx()));
  }

  runMany(list: readonly P[]): Promise<RunResult> {
    return this.#write(() => this.#s.n.runManyAsync(checkList(list), this.#asyncTx()));
  }

  /** Stops this statement (every view of it): later calls fail with `CLOSED`. */
  close(): void {
    this.#s.closed = true;
  }

  get closed(): boolean {
    return this.#s.closed;
  }

  // ---- internals ----

  #checkReads(): void {
    if (!this.readonly) throw invalidArgument('iterate() reads rows: this statement changes the database (use all() or run())');
  }

  /** Checks an iteration can start; the transaction it must run in, if any. */
  #iterable(): number | undefined {
    const tx = this.#txId();
    this.#checkReads();
    return tx;
  }

  #inTx(tx: number, params: P): T[] {
    return native(() => this.#s.n.all(params, tx, this.#shape)) as T[];
  }

  #open(params: P, held: Held<T>): Cursor<T> {
    if (this.#s.closed) throw closedError();
    held.cursor = new Cursor<T>(native(() => this.#s.n.iterate(params, this.#shape)), this.#s.cursors);
    return held.cursor;
  }

  *#rowsSync(params: P, held: Held<T>): Generator<T, void, undefined> {
    const c = this.#open(params, held);
    try {
      for (let b = c.nextSync(); b; b = c.nextSync()) {
        yield* b;
        if (this.#s.closed) throw closedError();
      }
    } finally {
      c.close();
    }
  }

  async *#rows(params: P, held: Held<T>): AsyncGenerator<T, void, undefined> {
    const tx = this.#asyncTx();
    if (tx !== undefined) {
      yield* (await nativeAsync(() => this.#s.n.allAsync(params, tx, this.#shape))) as T[];
      return;
    }
    const c = this.#open(params, held);
    try {
      for (let b = await c.next(); b; b = await c.next()) {
        yield* b;
        if (this.#s.closed) throw closedError();
      }
    } finally {
      c.close();
    }
  }

  /** The transaction a sync call joins: the bound one, else the store's open sync one. */
  #txId(): number | undefined {
    if (this.#s.closed) throw closedError();
    const bound = this.#tx;
    if (bound) {
      bound.check();
      return bound.id;
    }
    return this.#s.slot.open()?.id;
  }

  /** Async calls join only a bound transaction (an open sync one cannot span an await). */
  #asyncTx(): number | undefined {
    if (this.#s.closed) throw closedError();
    if (!this.#tx) return undefined;
    this.#tx.check();
    return this.#tx.id;
  }

  #write(call: () => Promise<unknown>): Promise<RunResult> {
    // Inside a bound transaction the writer is held already: queueing would wait for itself.
    if (this.#tx) return nativeAsync(call) as Promise<RunResult>;
    return this.#s.writes.run(() => nativeAsync(call)) as Promise<RunResult>;
  }
}

/** The cursor an iteration opened (lazily, on its first step). */
interface Held<T> {
  cursor?: Cursor<T>;
}

/**
 * An iteration dropped half-way without `break` or `return()` (its generator garbage
 * collected) gives its reader back too, instead of holding it until the layer closes.
 */
const dropped = new FinalizationRegistry<Held<unknown>>((held) => held.cursor?.close());

function abandonable<G extends object>(gen: G, held: Held<unknown>): G {
  dropped.register(gen, held);
  return gen;
}

function checkList(list: unknown): unknown[] {
  if (!Array.isArray(list)) throw invalidArgument('runMany takes an array of parameter sets');
  return list;
}

function closedError(): AicoDataError {
  return new AicoDataError('CLOSED', 'closed: this prepared statement was closed', undefined, { hint: 'prepare it again with data.sql.prepare(sql)' });
}
