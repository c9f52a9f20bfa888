/**
 * Salvaging a damaged KV store (`DataLayer.repairKv()`, `aico-data repair`): RocksDB's own
 * repair, or a rebuild, with the damaged files kept aside (still sealed) and the losses
 * reported per namespace and, for the queue, per message. Logic in `aico_data_core::kv::repair`.
 */
import { nativeAsync } from '../../errors.js';
import { kvWalRecovery, repairKvAsync, type NativeFolder } from '../../native/index.js';

export interface KvNamespaceRepair {
  name: string;
  /** Records before the repair; null when the damaged store could not be read. */
  before: number | null;
  /** Readable records after it. */
  after: number;
  /** Records RocksDB's repair kept that no longer opened (deleted). */
  unreadable: number;
  /**
   * `before - after` when `before` is known; else only `unreadable`, a lower bound: records in
   * blocks RocksDB could not read at all are not counted (check `before` before reading this).
   */
  lost: number;
}

export interface KvRepairReport {
  /** `none` (no store), `repair` (RocksDB RepairDB) or `rebuild` (started empty: nothing could be salvaged). */
  method: 'none' | 'repair' | 'rebuild';
  /** Where the damaged files were copied, byte for byte (values stay sealed). */
  damagedCopy: string | null;
  /** Why the store did not open before the repair (null: it opened and only its records were checked). */
  openError: string | null;
  namespaces: KvNamespaceRepair[];
  /** Queue messages that could not be recovered, as `<topic>#<seq>`. */
  lostMessages: string[];
  /** False when the damaged queue could not be listed: then only messages found unreadable are named. */
  lostMessagesComplete: boolean;
  /** The WAL recovery mode the store runs with. */
  walRecovery: string;
}

/** Repairs `<folder>/kv`, which must not be open (`LOCKED` otherwise). */
export async function repairKvStore(folder: NativeFolder): Promise<KvRepairReport> {
  const r = await nativeAsync(() => repairKvAsync(folder));
  return {
    method: r.method as KvRepairReport['method'],
    damagedCopy: r.damagedCopy ?? null,
    openError: r.openError ?? null,
    namespaces: r.namespaces.map((n) => ({ name: n.name, before: n.before ?? null, after: n.after, unreadable: n.unreadable, lost: n.lost })),
    lostMessages: r.lostMessages,
    lostMessagesComplete: r.lostMessagesComplete,
    walRecovery: r.walRecovery,
  };
}

/**
 * RocksDB's WAL recovery mode (`pointInTime`): a damaged write-ahead log is replayed up to the
 * first record that does not read; later unflushed writes are dropped (see the KV README).
 */
export function walRecoveryMode(): string {
  return kvWalRecovery();
}
