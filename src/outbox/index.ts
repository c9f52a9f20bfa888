/**
 * The transactional outbox: rows written by triggers in the writing transaction, a dispatcher
 * that applies them to Chroma, DuckDB, RocksDB and the bus, the consistency check and repair,
 * and forgetting a user everywhere.
 */
export { OutboxDispatcher } from './dispatcher.js';
export { createOutboxDispatcher, type ExistingStores } from './create.js';
export type { OutboxRow, OutboxTarget, OutboxOptions, OutboxStatus, DispatchReport, DeadLetter } from './types.js';
export type { DerivedStores } from './stores.js';
export { verifyConsistency, repairConsistency, type ConsistencyReport, type RepairReport, type StoreDifferences } from './consistency.js';
export { forgetUser, forgetStatus, type ForgetStatus } from './forget-user.js';
export { userCachePrefix, conversationCachePrefix, memoryCachePrefix, USER_NAMESPACES } from './cache-keys.js';
export { VectorOutboxTarget } from './targets/vectors.js';
export { AnalyticsOutboxTarget } from './targets/analytics.js';
export { CacheOutboxTarget } from './targets/cache.js';
export { EventOutboxTarget } from './targets/events.js';
