import { createUser, type User, type UserRepository } from '../../domain/index.js';
import { checkEntity, requireId } from '../arguments.js';
import type { MemorySession, Tables } from './database.js';

/** {@link UserRepository} in memory. */
export class InMemoryUserRepository implements UserRepository {
  constructor(private readonly session: MemorySession) {}

  async save(user: User): Promise<void> {
    const u = checkEntity(createUser, user, 'user');
    await this.session.write((t) => {
      const existing = t.users.get(u.id);
      // Like the SQL upsert: an update keeps the original creation time.
      t.users.set(u.id, existing ? Object.freeze({ ...u, createdAt: existing.createdAt }) : u);
    });
  }

  async get(id: string): Promise<User | undefined> {
    return this.session.tables.users.get(requireId(id, 'id'));
  }

  async list(options: { readonly activeOnly?: boolean } = {}): Promise<User[]> {
    const activeOnly = options?.activeOnly === true;
    return [...this.session.tables.users.values()]
      .filter((u) => !activeOnly || u.isActive)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async delete(id: string): Promise<boolean> {
    requireId(id, 'id');
    return this.session.write((t) => {
      if (!t.users.has(id)) return false;
      deleteUserCascade(t, id);
      return true;
    });
  }
}

/** What deleting a user does to the other tables (mirrors the schema's ON DELETE rules). */
function deleteUserCascade(t: Tables, userId: string): void {
  t.users.delete(userId);
  t.preferences.delete(userId);
  const goneConversations = new Set<string>();
  for (const c of t.conversations.values()) if (c.userId === userId) goneConversations.add(c.id);
  for (const id of goneConversations) t.conversations.delete(id);
  const goneMessages = new Set<string>();
  for (const m of t.messages.values()) if (m.userId === userId || goneConversations.has(m.conversationId)) goneMessages.add(m.id);
  for (const id of goneMessages) t.messages.delete(id);
  for (const [id, m] of t.memories) {
    if (m.userId === userId) {
      t.memories.delete(id);
    } else if ((m.sourceMessageId && goneMessages.has(m.sourceMessageId)) || (m.sourceConversationId && goneConversations.has(m.sourceConversationId))) {
      t.memories.set(id, Object.freeze({
        ...m,
        sourceMessageId: m.sourceMessageId && goneMessages.has(m.sourceMessageId) ? null : m.sourceMessageId,
        sourceConversationId: m.sourceConversationId && goneConversations.has(m.sourceConversationId) ? null : m.sourceConversationId,
      }));
    }
  }
  for (const [id, d] of t.devices) if (d.userId === userId) t.devices.set(id, Object.freeze({ ...d, userId: null }));
}
