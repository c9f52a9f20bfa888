/**
 * Chroma: keeps the memory index equal to libSQL's live memories. For each memory row it reads
 * the memory's current state and upserts it (live) or removes it (deleted, soft-deleted,
 * forgotten); for a deleted user it also removes whatever the index still holds of them.
 */
import type { MemoryRepository } from '../../domain/index.js';
import type { SqlStore } from '../../stores/sql/index.js';
import type { MemoryVectorIndex } from '../../memories/memory-index.js';
import type { OutboxRow, OutboxTarget } from '../types.js';

export class VectorOutboxTarget implements OutboxTarget {
  static readonly NAME = 'chroma';
  readonly name = 'chroma';

  constructor(
    private readonly index: MemoryVectorIndex,
    private readonly memories: MemoryRepository,
    private readonly sql: SqlStore,
    /** The Chroma folder did not exist before this open: the index starts empty. */
    private fresh = false,
  ) {}

  /**
   * A new index beside existing memories is filled from libSQL. The need is recorded (seq 0 in
   * `outbox_skipped`) before any work, so a crash mid-fill resumes at the next open.
   */
  async recover(): Promise<void> {
    if (!this.fresh) return;
    const any = await this.sql.queryOne(`SELECT 1 AS x FROM memories WHERE deleted_at IS NULL LIMIT 1`);
    if (any) await this.sql.execute(`INSERT OR IGNORE INTO outbox_skipped (target, seq) VALUES (?, 0)`, [this.name]);
    this.fresh = false;
  }

  /** Adds the live memories the index lacks and removes what libSQL no longer has. */
  async rebuild(): Promise<void> {
    const live = new Set((await this.sql.queryRaw(`SELECT id FROM memories WHERE deleted_at IS NULL`)).map((r) => String(r[0])));
    const have = new Set(await this.index.ids());
    const missing = [...live].filter((id) => !have.has(id));
    for (let i = 0; i < missing.length; i += 500) await this.index.upsert(await this.memories.getMany(missing.slice(i, i + 500)));
    await this.index.remove([...have].filter((id) => !live.has(id)));
  }

  async apply(rows: readonly OutboxRow[]): Promise<void> {
    const ids = new Set<string>();
    const goneUsers = new Set<string>();
    for (const r of rows) {
      if (r.aggregateType === 'memory' && r.aggregateId) ids.add(r.aggregateId);
      else if (r.aggregateType === 'user' && r.aggregateId && r.topic.includes('/deleted/')) goneUsers.add(r.aggregateId);
    }
    const all = [...ids];
    for (let i = 0; i < all.length; i += 500) {
      const batch = all.slice(i, i + 500);
      const live = await this.memories.getMany(batch);
      const liveIds = new Set(live.map((m) => m.id));
      await this.index.remove(batch.filter((id) => !liveIds.has(id)));
      await this.index.upsert(live);
    }
    for (const userId of goneUsers) {
      const still = await this.sql.queryOne(`SELECT 1 AS x FROM users WHERE id = ? AND deleted_at IS NULL`, [userId]);
      if (still) continue; // re-created since: its memories have rows of their own
      await this.index.remove(await this.index.ids(userId));
    }
  }
}
