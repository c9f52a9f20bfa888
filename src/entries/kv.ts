/**
 * `aico-data/kv`: The encrypted RocksDB key-value store, its in-memory stand-in, the durable queue, repair.
 * Also re-exported by the package root.
 */
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
} from '../stores/kv/index.js';
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
} from '../stores/kv/types.js';
