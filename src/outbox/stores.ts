import type { Repositories } from '../domain/index.js';
import type { AnalyticsStore } from '../stores/analytics/index.js';
import type { KvStoreLike } from '../stores/kv/index.js';
import type { SqlStore } from '../stores/sql/index.js';
import type { MemoryVectorIndex } from '../memories/memory-index.js';
import type { OutboxDispatcher } from './dispatcher.js';

/** The stores the consistency check, repair and forgetUser work on (the data layer's). */
export interface DerivedStores {
  readonly sql: SqlStore;
  readonly repos: Repositories;
  /** Chroma memory index (undefined with `vectors: false`). */
  readonly index: MemoryVectorIndex | undefined;
  /** DuckDB (undefined with `analytics: false`). */
  readonly analytics: AnalyticsStore | undefined;
  readonly kv: KvStoreLike;
  readonly dispatcher: OutboxDispatcher | undefined;
  /** Rewrites the vector store so that deleted records leave no bytes on disk (forgetUser). */
  readonly scrubVectors?: () => Promise<void>;
}
