import {
  MESSAGE_ROLES,
  CONVERSATION_STATUSES,
  createConversation,
  createMessage,
  toPage,
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
import type { DataAccessLayer } from '../../dal/index.js';
import type { Row, SqlValue } from '../../stores/sql/index.js';
import { checkEntity, requireId, toMessagePageQuery, toSearchQuery } from '../arguments.js';
import { ownedByAnotherUser } from '../errors.js';
import { toFtsQuery } from '../search-terms.js';
import { NOW_SQL, iso, oneOf, toDate, toNumberOrNull, toStringOrNull } from './columns.js';
import { beforeCursor, pageTail } from './paging.js';

const CONVERSATION_COLUMNS = 'id, user_id, title, status, created_at';
const MESSAGE_COLUMNS =
  'id, conversation_id, user_id, role, content, created_at, sentiment, response_time_ms, model, prompt_tokens, completion_tokens';

function toConversation(r: Row): Conversation {
  return Object.freeze({
    id: r.id as string,
    userId: r.user_id as string,
    title: toStringOrNull(r.title),
    status: oneOf(r.status, CONVERSATION_STATUSES, 'active'),
    createdAt: toDate(r.created_at),
  });
}

function toMessage(r: Row): Message {
  return Object.freeze({
    id: r.id as string,
    conversationId: r.conversation_id as string,
    userId: r.user_id as string,
    role: oneOf(r.role, MESSAGE_ROLES, 'user'),
    content: r.content as string,
    createdAt: toDate(r.created_at),
    sentimentScore: toNumberOrNull(r.sentiment),
    responseTimeMs: toNumberOrNull(r.response_time_ms),
    model: toStringOrNull(r.model),
    promptTokens: toNumberOrNull(r.prompt_tokens),
    completionTokens: toNumberOrNull(r.completion_tokens),
  });
}

/** {@link ConversationRepository} over `conversations`, `messages` and the `messages_fts` index. */
export class LibsqlConversationRepository implements ConversationRepository {
  constructor(private readonly dal: DataAccessLayer) {}

  async save(conversation: Conversation): Promise<void> {
    const c = checkEntity(createConversation, conversation, 'conversation');
    const created = iso(c.createdAt);
    const r = await this.dal.execute(
      `INSERT INTO conversations (id, user_id, title, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET title = excluded.title, status = excluded.status, updated_at = ${NOW_SQL}
       WHERE conversations.user_id = excluded.user_id`,
      [c.id, c.userId, c.title, c.status, created, created],
    );
    if (r.changes === 0) throw ownedByAnotherUser('conversation', c.id);
  }

  async get(id: string): Promise<Conversation | undefined> {
    const row = await this.dal.fetchOne(`SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE id = ? AND deleted_at IS NULL`, [
      requireId(id, 'id'),
    ]);
    return row && toConversation(row);
  }

  async listByUser(userId: string, page?: PageRequest): Promise<Page<Conversation>> {
    const params: SqlValue[] = [requireId(userId, 'userId')];
    const q = toPageQuery(page);
    const sql =
      `SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE user_id = ? AND deleted_at IS NULL` + beforeCursor(q, params) + pageTail(q, params);
    return toPage((await this.dal.fetchAll(sql, params)).map(toConversation), q.limit);
  }

  async saveMessage(message: Message): Promise<void> {
    const m = checkEntity(createMessage, message, 'message');
    await this.dal.execute(`INSERT INTO messages (${MESSAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
      m.id,
      m.conversationId,
      m.userId,
      m.role,
      m.content,
      iso(m.createdAt),
      m.sentimentScore,
      m.responseTimeMs,
      m.model,
      m.promptTokens,
      m.completionTokens,
    ]);
  }

  async getMessage(id: string): Promise<Message | undefined> {
    const row = await this.dal.fetchOne(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = ? AND deleted_at IS NULL`, [requireId(id, 'id')]);
    return row && toMessage(row);
  }

  async getByUser(userId: string, page?: MessagePageRequest): Promise<Page<Message>> {
    const params: SqlValue[] = [requireId(userId, 'userId')];
    const q = toMessagePageQuery(page);
    let sql = `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE user_id = ? AND deleted_at IS NULL`;
    if (q.conversationId !== null) {
      sql += ' AND conversation_id = ?';
      params.push(q.conversationId);
    }
    sql += beforeCursor(q, params) + pageTail(q, params);
    return toPage((await this.dal.fetchAll(sql, params)).map(toMessage), q.limit);
  }

  async searchByContent(query: string, options?: SearchOptions): Promise<SearchHit<Message>[]> {
    const q = toSearchQuery(query, options);
    const match = toFtsQuery(q.terms, 'all');
    if (match === null) return [];
    const params: SqlValue[] = [match];
    let sql =
      `SELECT ${MESSAGE_COLUMNS.split(', ').map((c) => `m.${c}`).join(', ')}, bm25(messages_fts) AS rank ` +
      'FROM messages_fts JOIN messages m ON m.seq = messages_fts.rowid WHERE messages_fts MATCH ? AND m.deleted_at IS NULL';
    if (q.userId !== null) {
      sql += ' AND m.user_id = ?';
      params.push(q.userId);
    }
    sql += ' ORDER BY rank, m.created_at DESC, m.id DESC LIMIT ?';
    params.push(q.limit);
    const rows = await this.dal.fetchAll(sql, params);
    return rows.map((r) => ({ item: toMessage(r), score: -(r.rank as number) }));
  }
}
