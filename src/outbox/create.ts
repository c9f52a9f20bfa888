import type { MessageBus } from '../bus/message-bus.js';
import { OutboxDispatcher } from './dispatcher.js';
import type { DerivedStores } from './stores.js';
import { AnalyticsOutboxTarget } from './targets/analytics.js';
import { CacheOutboxTarget } from './targets/cache.js';
import { EventOutboxTarget } from './targets/events.js';
import { VectorOutboxTarget } from './targets/vectors.js';
import { kvDegradation } from '../stores/kv/degraded.js';
import type { OutboxOptions, OutboxTarget } from './types.js';

/**
 * The dispatcher over the stores that are on: Chroma, DuckDB, the RocksDB cache, then the bus
 * (events last, so a consumer that reacts to one finds the derived stores already updated).
 */
/** Which derived stores had files in the folder before this open. */
export interface ExistingStores {
  readonly chroma: boolean;
  readonly rocksdb: boolean;
}

export function createOutboxDispatcher(
  stores: Omit<DerivedStores, 'dispatcher'>,
  bus: MessageBus | undefined,
  options: OutboxOptions = {},
  existing: ExistingStores = { chroma: true, rocksdb: true },
): OutboxDispatcher {
  const targets: OutboxTarget[] = [];
  // A Chroma index created now starts empty: it is filled from libSQL first.
  if (stores.index) targets.push(new VectorOutboxTarget(stores.index, stores.repos.memories, stores.sql, !existing.chroma));
  if (stores.analytics) targets.push(new AnalyticsOutboxTarget(stores.analytics));
  // A damaged (degraded) KV store is left out like an absent one: its cache work is recorded in
  // outbox_skipped and replayed after `aico-data repair`, never retried into dead letters.
  const kvDegraded = kvDegradation(stores.kv) !== undefined;
  if (!kvDegraded) targets.push(new CacheOutboxTarget(stores.kv));
  if (bus) targets.push(new EventOutboxTarget(bus, stores.repos, options.eventPayload ?? 'ids'));
  // Off in this open but existing on disk: what they miss meanwhile is replayed when they are
  // back. (A store never created has nothing to catch up on; DuckDB re-syncs at every open.)
  const absent: string[] = [];
  if (!stores.index && existing.chroma) absent.push(VectorOutboxTarget.NAME);
  if ((!stores.kv.persistent || stores.kv.readOnly || kvDegraded) && existing.rocksdb) absent.push(CacheOutboxTarget.NAME);
  return new OutboxDispatcher(stores.sql, targets, options, absent);
}
