/** Federated device sync (`data.sync`): see `src/sync/README.md`. */
export {
  SyncService,
  CONFLICT_TOPIC,
  type SyncOptions,
  type EnableOptions,
  type SyncDevice,
  type ImportResult,
  type ExportOptions,
  type SyncPeer,
  type SyncRound,
  type SyncConflict,
  type Resolution,
  type SyncStatus,
} from './service.js';
export type { VersionVector } from './collect.js';
export { CRITICALITY, DEFAULT_POLICIES, LOCAL_ONLY, SYNC_TABLES, SYNC_MODES, type DeviceSyncPolicy, type SyncMode } from './tables.js';
export { sasCode, PAIRING_TTL_MS } from './pairing.js';
export type { PairingStep } from './service.js';
export type { SyncTransport } from './transports/types.js';
export { InProcessSyncHub } from './transports/in-process.js';
export { FileTransport, type FileTransportOptions, type FileTransportRejection } from './transports/files.js';
export { ZmqTransport, type ZmqTransportOptions } from './transports/zmq.js';
