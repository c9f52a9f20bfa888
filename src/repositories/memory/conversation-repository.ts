import {
  createConversation,
  createMessage,
  toPageQuery,
  type Conversation,
  type ConversationRepository,
  type Message,
  type MessagePageRequest,
  type Page,
  type PageRequest,
  type SearchHit,
  type SearchOptions,
} from '../../domain/index.js';
import { checkEntity, requireId, toMessagePageQuery, toSearchQuery } from '../arguments.js';
import { bySearchRank } from '../ranking.js';
import { bm25Search } from './bm25.js';
import { constraintError, type MemorySession } from './database.js';
import { pageOf } from './paging.js';
import { ownedByAnotherUser } from '../errors.js';

/** {@link ConversationRepository} in memory. */
export class InMemoryConversationRepository implements ConversationRepository {
  constructor(private readonly session: MemorySession) {}

  async save(conversation: Conversation): Promise<void> {
    const c = checkEntity(createConversation, conversation, 'conversation');
    await this.session.write((t) => {
      const existing = t.conversations.get(c.id);
      if (existing) {
        if (existing.userId !== c.userId) throw ownedByAnotherUser('conversation', c.id);
        t.conversations.set(c.id, Object.freeze({ ...existing, title: c.title, status: c.status }));
        return;
      }
      if (!t.users.has(c.userId)) throw constraintError(`FOREIGN KEY constraint failed: user ${c.userId} does not exist`);
      t.conversations.set(c.id, c);
    });
  }

  async get(id: string): Promise<Conversation | undefined> {
    return this.session.tables.conversations.get(requireId(id, 'id'));
  }

  async listByUser(userId: string, page?: PageRequest): Promise<Page<Conversation>> {
    requireId(userId, 'userId');
    const q = toPageQuery(page);
    return pageOf(this.session.tables.conversations.values(), (c) => c.userId === userId, q);
  }

  async saveMessage(message: Message): Promise<void> {
    const m = checkEntity(createMessage, message, 'message');
    await this.session.write((t) => {
      if (t.messages.has(m.id)) throw constraintError(`UNIQUE constraint failed: messages.id ${m.id}`);
      if (!t.conversations.has(m.conversationId)) throw constraintError(`FOREIGN KEY constraint failed: conversation ${m.conversationId} does not exist`);
      if (!t.users.has(m.userId)) throw constraintError(`FOREIGN KEY constraint failed: user ${m.userId} does not exist`);
      t.messages.set(m.id, m);
    });
  }

  async getMessage(id: string): Promise<Message | undefined> {
    return this.session.tables.messages.get(requireId(id, 'id'));
  }

  async getByUser(userId: string, page?: MessagePageRequest): Promise<Page<Message>> {
    requireId(userId, 'userId');
    const q = toMessagePageQuery(page);
    return pageOf(
      this.session.tables.messages.values(),
      (m) => m.userId === userId && (q.conversationId === null || m.conversationId === q.conversationId),
      q,
    );
  }

  async searchByContent(query: string, options?: SearchOptions): Promise<SearchHit<Message>[]> {
    const q = toSearchQuery(query, options);
    const hits = bm25Search(
      this.session.tables.messages.values(),
      (m) => m.content,
      q.terms,
      'all',
      (m) => q.userId === null || m.userId === q.userId,
    );
    return hits.sort(bySearchRank).slice(0, q.limit);
  }
}
