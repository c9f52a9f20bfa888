/**
 * aico-data: the local-first, encrypted data layer of an AI companion.
 *
 * Start with {@link openDataLayer}.
 * @packageDocumentation
 */
export { openDataLayer, DataLayer, type OpenDataLayerOptions, type KdfOptions, type Crypto, type DataLayerDegradation } from './data-layer.js';
export { AicoDataError, ERROR_CODES, ERROR_HINTS, isAicoError, type AicoErrorCode } from './errors.js';
export {
  SqlStore,
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
export { SemanticMemory, type MemoryRecallOptions } from './memories/index.js';
export * from './stores/vectors/index.js';
export * from './bus/index.js';
export * from './outbox/index.js';
export * from './sync/index.js';
export {
  restoreBackup,
  type BackupManifest,
  type BackupOptions,
  type BackupProgress,
  type BackupResult,
  type RestoreBackupOptions,
  type RestoreBackupResult,
  type RotateKeysOptions,
  type RotateKeysResult,
} from './backup/index.js';
