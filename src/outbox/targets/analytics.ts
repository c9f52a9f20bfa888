/**
 * DuckDB: the analytics store syncs incrementally from libSQL's change tracking, which is
 * idempotent and catches up on everything committed, so one sync per batch covers its rows.
 */
import type { AnalyticsStore } from '../../stores/analytics/index.js';
import type { OutboxRow, OutboxTarget } from '../types.js';

const SYNCED = new Set(['user', 'conversation', 'message', 'memory']);

export class AnalyticsOutboxTarget implements OutboxTarget {
  readonly name = 'duckdb';

  constructor(private readonly analytics: AnalyticsStore) {}

  /**
   * Rows marked dispatched before a crash were applied to the in-memory DuckDB only; what the
   * restored snapshot lacks of them is caught up by one sync from libSQL's change tracking.
   */
  async recover(): Promise<void> {
    await this.analytics.sync();
  }

  async apply(rows: readonly OutboxRow[]): Promise<void> {
    if (!rows.some((r) => r.aggregateType !== null && SYNCED.has(r.aggregateType))) return;
    await this.analytics.sync();
  }
}
