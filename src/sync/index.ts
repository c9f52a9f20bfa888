/** Federated device sync (`data.sync`): see `src/sync/README.md`. */
export { SyncService } from './service.js';
export type { SyncOptions } from './session.js';
export type { EnableOptions } from './enable.js';
export type { SyncDevice } from './devices-table.js';
export type { ImportResult } from './import-changes.js';
export type { ExportOptions } from './export-changes.js';
export type { SyncPeer, SyncRound } from './sync-round.js';
export { CONFLICT_TOPIC, type SyncConflict, type Resolution } from './conflict-ledger.js';
export type { SyncStatus } from './status.js';
export type { VersionVector } from './collect.js';
export { CRITICALITY, DEFAULT_POLICIES, LOCAL_ONLY, SYNC_TABLES, SYNC_MODES, type DeviceSyncPolicy, type SyncMode } from './tables.js';
export { sasCode, PAIRING_TTL_MS } from './pairing.js';
export type { PairingStep } from './pairing-sessions.js';
export type { SyncTransport } from './transports/types.js';
export { InProcessSyncHub } from './transports/in-process.js';
export { FileTransport, type FileTransportOptions, type FileTransportRejection } from './transports/files.js';
export { ZmqTransport, type ZmqTransportOptions } from './transports/zmq.js';
export { MAX_CHANGESET_BYTES } from './envelope.js';
