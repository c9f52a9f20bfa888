import type { Memory } from '../domain/index.js';
import type { VectorCollection, VectorRecordInput } from '../stores/vectors/collection.js';
import type { MetadataInput } from '../stores/vectors/record-codec.js';

/**
 * Keeps the `memories` collection in step with the memories in libSQL. libSQL is the source of
 * truth; this index is derived data that can always be rebuilt from it (and is, by `repair`).
 */
export class MemoryVectorIndex {
  constructor(readonly collection: VectorCollection) {}

  /** Embeds and writes `memories` (insert or replace by id), in batches. */
  async upsert(memories: readonly Memory[]): Promise<void> {
    if (memories.length === 0) return;
    await this.collection.upsert(memories.map(toRecord));
  }

  /** Removes the memories with these ids; unknown ids are ignored. */
  async remove(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.collection.delete({ ids });
  }

  /** Ids of the indexed memories (of one user when given), for consistency checks. */
  async ids(userId?: string): Promise<string[]> {
    return this.collection.ids(userId === undefined ? {} : { where: { userId } });
  }
}

/**
 * The record of one memory. Filterable: user (HMAC token), type, source message, importance,
 * creation time; the rest travels sealed with the text.
 */
export function toRecord(m: Memory): VectorRecordInput {
  const metadata: Record<string, MetadataInput> = {
    userId: m.userId,
    type: m.type,
    importance: m.importance,
    confidence: m.confidence,
    createdAt: m.createdAt.getTime(),
    validFrom: m.validFrom.getTime(),
  };
  if (m.category !== null) metadata.category = m.category;
  if (m.validTo !== null) metadata.validTo = m.validTo.getTime();
  if (m.sourceMessageId !== null) metadata.sourceMessageId = m.sourceMessageId;
  if (m.sourceConversationId !== null) metadata.sourceConversationId = m.sourceConversationId;
  return { id: m.id, text: m.content, metadata };
}
