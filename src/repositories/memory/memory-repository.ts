import {
  createMemory,
  type ContextOptions,
  type Memory,
  type MemoryPageRequest,
  type MemoryRepository,
  type Page,
  type RecallStrategy,
  type SearchHit,
} from '../../domain/index.js';
import { checkEntity, optionalAt, requireId, requireIds, toMemoryPageQuery } from '../arguments.js';
import { ownedByAnotherUser } from '../errors.js';
import { recallByContext } from '../recall.js';
import { constraintError, type MemorySession } from './database.js';
import { InMemoryKeywordRecall } from './keyword-recall.js';
import { pageOf } from './paging.js';

/** {@link MemoryRepository} in memory. */
export class InMemoryMemoryRepository implements MemoryRepository {
  readonly #recall: RecallStrategy;

  constructor(
    private readonly session: MemorySession,
    recall?: RecallStrategy,
  ) {
    this.#recall = recall ?? new InMemoryKeywordRecall(session);
  }

  async save(memory: Memory): Promise<void> {
    const m = checkEntity(createMemory, memory, 'memory');
    await this.session.write((t) => {
      const existing = t.memories.get(m.id);
      if (existing && existing.userId !== m.userId) throw ownedByAnotherUser('memory', m.id);
      if (!t.users.has(m.userId)) throw constraintError(`FOREIGN KEY constraint failed: user ${m.userId} does not exist`);
      if (m.sourceConversationId !== null && !t.conversations.has(m.sourceConversationId)) {
        throw constraintError(`FOREIGN KEY constraint failed: conversation ${m.sourceConversationId} does not exist`);
      }
      if (m.sourceMessageId !== null && !t.messages.has(m.sourceMessageId)) {
        throw constraintError(`FOREIGN KEY constraint failed: message ${m.sourceMessageId} does not exist`);
      }
      t.memories.set(m.id, existing ? Object.freeze({ ...m, createdAt: existing.createdAt }) : m);
    });
  }

  async get(id: string): Promise<Memory | undefined> {
    return this.session.tables.memories.get(requireId(id, 'id'));
  }

  async getMany(ids: readonly string[]): Promise<Memory[]> {
    const t = this.session.tables.memories;
    return requireIds(ids)
      .map((id) => t.get(id))
      .filter((m): m is Memory => m !== undefined);
  }

  async getByUser(userId: string, page?: MemoryPageRequest): Promise<Page<Memory>> {
    requireId(userId, 'userId');
    const q = toMemoryPageQuery(page);
    return pageOf(this.session.tables.memories.values(), (m) => m.userId === userId && (q.type === null || m.type === q.type), q);
  }

  async getByContext(text: string, options: ContextOptions): Promise<SearchHit<Memory>[]> {
    return recallByContext(this.#recall, text, options, (ids) => this.getMany(ids));
  }

  async recordAccess(ids: readonly string[], at?: Date): Promise<void> {
    const list = requireIds(ids);
    const when = optionalAt(at);
    await this.session.write((t) => {
      for (const id of list) {
        const m = t.memories.get(id);
        if (m) t.memories.set(id, Object.freeze({ ...m, accessCount: m.accessCount + 1, accessedAt: when }));
      }
    });
  }

  async delete(id: string): Promise<boolean> {
    requireId(id, 'id');
    return this.session.write((t) => t.memories.delete(id));
  }
}
