/**
 * aico-data: the local-first, encrypted data layer of an AI companion.
 *
 * Start with {@link openDataLayer}.
 * @packageDocumentation
 */
export { openDataLayer, DataLayer, type OpenDataLayerOptions, type KdfOptions, type DataLayerDegradation } from './data-layer.js';
export type { Crypto } from './crypto.js';
export { AicoDataError, ERROR_CODES, ERROR_HINTS, isAicoError, type AicoErrorCode } from './errors.js';
export {
  SqlStore,
  Statement,
  Transaction,
  TransactionSync,
  type SqlStats,
  type SqlValue,
  type SqlParams,
  type Row,
  type RunResult,
  type BatchStatement,
  type SqlExecutor,
  type SqlExecutorSync,
  type SqlTransaction,
  type SqlTransactionSync,
  type SqlOptions,
  type SandboxedExecutor,
} from './stores/sql/index.js';
export * from './schema/index.js';
/** The domain: entities and their factories (`createMessage`, ...), repository interfaces, services. */
export * from './domain/index.js';
export * from './entries/kv.js';
export * from './entries/analytics.js';
export * from './entries/vectors.js';
export * from './entries/bus.js';
export * from './entries/outbox.js';
export * from './entries/sync.js';
export * from './entries/backup.js';
