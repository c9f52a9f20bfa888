/**
 * RocksDB: drops cached entries derived from what changed (deleting an absent key is a no-op,
 * so this is idempotent). A deleted user loses everything under their prefix, sessions too.
 */
import type { KvStoreLike } from '../../stores/kv/index.js';
import { conversationCachePrefix, memoryCachePrefix, userCachePrefix, USER_NAMESPACES } from '../cache-keys.js';
import type { OutboxRow, OutboxTarget } from '../types.js';

/** Deletes every key with `prefix` in `ns`; returns how many. */
export async function deletePrefix(kv: KvStoreLike, ns: string, prefix: string): Promise<number> {
  const keys: string[] = [];
  for await (const k of kv.keys(ns, { prefix })) keys.push(k);
  for (let i = 0; i < keys.length; i += 512) {
    await kv.writeBatchAsync(keys.slice(i, i + 512).map((key) => ({ type: 'del' as const, ns, key })));
  }
  return keys.length;
}

export class CacheOutboxTarget implements OutboxTarget {
  static readonly NAME = 'rocksdb';
  readonly name = 'rocksdb';

  constructor(private readonly kv: KvStoreLike) {}

  async apply(rows: readonly OutboxRow[]): Promise<void> {
    // A read-only store (another process owns the folder) cannot hold entries this process wrote.
    if (this.kv.readOnly) return;
    const prefixes = new Set<string>();
    const goneUsers = new Set<string>();
    for (const r of rows) {
      const userId = typeof r.payload.user_id === 'string' ? r.payload.user_id : undefined;
      if (!userId) continue;
      if (r.aggregateType === 'user') {
        if (r.topic.includes('/deleted/')) goneUsers.add(userId);
        else prefixes.add(userCachePrefix(userId));
      } else if (r.aggregateType === 'memory') prefixes.add(memoryCachePrefix(userId));
      else if (typeof r.payload.conversation_id === 'string') prefixes.add(conversationCachePrefix(userId, r.payload.conversation_id));
      else if (r.aggregateType === 'conversation' && r.aggregateId) prefixes.add(conversationCachePrefix(userId, r.aggregateId));
    }
    for (const p of prefixes) await deletePrefix(this.kv, 'cache', p);
    for (const u of goneUsers) for (const ns of USER_NAMESPACES) await deletePrefix(this.kv, ns, userCachePrefix(u));
  }
}
