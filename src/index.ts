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
export {
  KvStore,
  MemoryKvStore,
  MAX_KEY_BYTES,
  MAX_VALUE_BYTES,
  BUILTIN_NAMESPACES,
  type KvOptions,
  type MemoryKvOptions,
  type KvDegradation,
  type KvRepairReport,
  type KvNamespaceRepair,
} from './stores/kv/index.js';
export type {
  KvKey,
  BuiltinNamespace,
  KvPutOptions,
  KvNamespaceOptions,
  KvNamespaceInfo,
  KvWriteOp,
  KvRange,
  KvScanOptions,
  KvScanOptionsUtf8,
  KvScanOptionsBuffer,
  KvScanPage,
  KvEnqueueOptions,
  LeasedMessage,
  DeadLetter as KvDeadLetter,
  QueueDepth,
  KvQueueLike,
  KvStoreLike,
} from './stores/kv/types.js';
export { AnalyticsStore, AnalyticsReports } from './stores/analytics/index.js';
export type * from './stores/analytics/types.js';
export { MemoryVectorIndex, SemanticMemory, type MemoryRecallOptions, type RecallMode } from './memories/index.js';
export * from './stores/vectors/index.js';
export * from './bus/index.js';
export * from './services/index.js';
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
