import { AsyncLocalStorage } from 'node:async_hooks';
import { AicoDataError, invalidArgument } from '../../errors.js';
import type { Conversation, Device, Memory, Message, User, UserPreferences } from '../../domain/index.js';

/** The tables of the in-memory twin, keyed by id (preferences by user id). */
export interface Tables {
  readonly users: Map<string, User>;
  readonly preferences: Map<string, UserPreferences>;
  readonly conversations: Map<string, Conversation>;
  readonly messages: Map<string, Message>;
  readonly memories: Map<string, Memory>;
  readonly devices: Map<string, Device>;
}

function emptyTables(): Tables {
  return { users: new Map(), preferences: new Map(), conversations: new Map(), messages: new Map(), memories: new Map(), devices: new Map() };
}

function copyTables(t: Tables): Tables {
  return {
    users: new Map(t.users),
    preferences: new Map(t.preferences),
    conversations: new Map(t.conversations),
    messages: new Map(t.messages),
    memories: new Map(t.memories),
    devices: new Map(t.devices),
  };
}

/** The error a broken UNIQUE / FOREIGN KEY rule gives, as SQLite would. */
export function constraintError(message: string): AicoDataError {
  return new AicoDataError('CONSTRAINT', message);
}

/**
 * In-memory storage with the isolation the libSQL store has: one writer at a time, and a
 * transaction works on a private copy that replaces the committed tables only on commit, so
 * readers outside it never see its writes early and a rollback just drops the copy.
 * Entities are immutable, so copies share them.
 */
export class InMemoryDatabase {
  #committed: Tables = emptyTables();
  #writer: Promise<void> = Promise.resolve();
  readonly #ambient = new AsyncLocalStorage<MemorySession>();

  /** A session on the committed tables (joins the ambient transaction, like the data access layer). */
  session(): MemorySession {
    return new MemorySession(this, null);
  }

  /** @internal */
  get committed(): Tables {
    return this.#committed;
  }

  /** @internal Runs `fn` once every earlier writer has finished. */
  exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    const result = this.#writer.then(fn);
    this.#writer = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** @internal */
  commit(tables: Tables): void {
    this.#committed = tables;
  }

  /** @internal */
  get ambient(): AsyncLocalStorage<MemorySession> {
    return this.#ambient;
  }
}

/** Shared state of one transaction: its working tables and whether it ended. */
class TxState {
  ended = false;
  constructor(public tables: Tables) {}
}

/** What repositories of the twin read and write through: the committed tables or a transaction. */
export class MemorySession {
  readonly #db: InMemoryDatabase;
  readonly #tx: TxState | null;

  /** @internal */
  constructor(db: InMemoryDatabase, tx: TxState | null) {
    this.#db = db;
    this.#tx = tx;
  }

  /** The tables reads see. */
  get tables(): Tables {
    return this.#resolve().#tablesNow();
  }

  /**
   * Runs a write. `fn` must check every rule before changing anything (a failing statement
   * changes nothing); outside a transaction it waits for the writer.
   */
  write<T>(fn: (tables: Tables) => T): Promise<T> {
    const s = this.#resolve();
    if (s.#tx) return Promise.resolve().then(() => fn(s.#tablesNow()));
    return this.#db.exclusive(() => fn(this.#db.committed));
  }

  /** Runs `fn` in a transaction (a savepoint when already in one). */
  async transaction<T>(fn: (session: MemorySession) => Promise<T>): Promise<T> {
    if (typeof fn !== 'function') throw invalidArgument('transaction takes a callback', { field: 'fn' });
    const outer = this.#resolve();
    if (outer.#tx) {
      const parent = outer.#tx;
      const tx = new TxState(copyTables(outer.#tablesNow()));
      const out = await this.#run(tx, fn);
      parent.tables = tx.tables;
      return out;
    }
    return this.#db.exclusive(async () => {
      const tx = new TxState(copyTables(this.#db.committed));
      const out = await this.#run(tx, fn);
      this.#db.commit(tx.tables);
      return out;
    });
  }

  async #run<T>(tx: TxState, fn: (session: MemorySession) => Promise<T>): Promise<T> {
    const inner = new MemorySession(this.#db, tx);
    try {
      return await this.#db.ambient.run(inner, () => fn(inner));
    } finally {
      tx.ended = true;
    }
  }

  #tablesNow(): Tables {
    if (!this.#tx) return this.#db.committed;
    if (this.#tx.ended) throw invalidArgument('this transaction has already been committed or rolled back');
    return this.#tx.tables;
  }

  #resolve(): MemorySession {
    return this.#tx ? this : (this.#db.ambient.getStore() ?? this);
  }
}
