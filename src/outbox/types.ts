/** Types of the transactional outbox and its dispatcher. */

/** One outbox row as the dispatcher hands it to targets. */
export interface OutboxRow {
  /** Position in the outbox (strictly increasing, never reused). */
  readonly seq: number;
  /** UUID of the row; events published for it carry it as their `message_id`. */
  readonly id: string;
  /** `data/<entity>/<created|updated|deleted>/v1`. */
  readonly topic: string;
  /** `user`, `conversation`, `message`, `memory`. */
  readonly aggregateType: string | null;
  readonly aggregateId: string | null;
  /** Ids only: `{ id, user_id, conversation_id? }`. */
  readonly payload: Readonly<Record<string, unknown>>;
  /** Failed attempts so far. */
  readonly attempts: number;
  readonly createdAt: string;
}

/**
 * A store the outbox propagates to. `apply` must be idempotent and order-insensitive: it may
 * see a row again after a crash or a retry, and it should make the store match libSQL's
 * current state for the rows' aggregates rather than replay the change itself.
 */
export interface OutboxTarget {
  readonly name: string;
  apply(rows: readonly OutboxRow[]): Promise<void>;
  /**
   * Called once before the dispatcher's first pass (retried on the next pass if it throws). A
   * store whose state is not durable on its own (DuckDB lives in memory between sealed
   * snapshots) catches up here on what rows already marked dispatched had given it before a crash.
   */
  recover?(): Promise<void>;
  /**
   * Makes the store equal to libSQL from scratch (idempotent, resumable). Runs when the store's
   * skip record holds seq 0: it was created empty beside existing data.
   */
  rebuild?(): Promise<void>;
}

/** Options of the dispatcher. */
export interface OutboxOptions {
  /** Rows applied per batch (default 256). */
  readonly batchSize?: number;
  /** Failed attempts after which a row is dead-lettered (default 8). */
  readonly maxAttempts?: number;
  /** First retry delay in ms; doubles per attempt (default 200). */
  readonly baseDelayMs?: number;
  /** Longest retry delay in ms (default 60 000). */
  readonly maxDelayMs?: number;
  /** Idle polling interval of the background loop in ms (default 250; 0 = no background loop, call `dispatch()`). */
  readonly pollMs?: number;
  /** How long dispatched rows are kept before pruning, in ms (default 10 minutes). */
  readonly retainMs?: number;
  /** Publish events with the entity (content included) instead of ids only (default false). */
  readonly eventPayload?: 'ids' | 'entity';
}

/** What one {@link OutboxDispatcher.dispatch} pass did. */
export interface DispatchReport {
  /** Rows applied and marked dispatched. */
  dispatched: number;
  /** Rows that failed and were scheduled for a retry. */
  retried: number;
  /** Rows that failed for the last allowed time and were dead-lettered. */
  deadLettered: number;
}

/** A dead letter: a row given up on. */
export interface DeadLetter {
  readonly seq: number;
  readonly id: string;
  readonly topic: string;
  readonly aggregateId: string | null;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly deadAt: string;
}

/** The outbox at a glance. */
export interface OutboxStatus {
  /** Rows not yet applied (retrying ones included, dead letters not). */
  pending: number;
  /** Pending rows that failed at least once. */
  retrying: number;
  /** Applied rows still kept (pruned after `retainMs`). */
  dispatched: number;
  /** Dead letters (see {@link OutboxStatus.deadLetters}). */
  dead: number;
  /** Creation time of the oldest pending row. */
  oldestPending: string | null;
  /** The last error of a retrying row, if any. */
  lastError: string | null;
  /** Up to 20 dead letters, oldest first. */
  deadLetters: DeadLetter[];
  /** Totals of this process. */
  totals: DispatchReport;
  /** The background loop runs. */
  running: boolean;
}
