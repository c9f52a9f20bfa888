import {
  MEMORY_TYPES,
  createMemory,
  toPage,
  type ContextOptions,
  type Memory,
  type MemoryPageRequest,
  type MemoryRepository,
  type Page,
  type RecallStrategy,
  type SearchHit,
} from '../../domain/index.js';
import type { DataAccessLayer } from '../../dal/index.js';
import type { Row, SqlValue } from '../../stores/sql/index.js';
import { checkEntity, optionalAt, requireId, requireIds, toMemoryPageQuery } from '../arguments.js';
import { ownedByAnotherUser } from '../errors.js';
import { recallByContext } from '../recall.js';
import { NOW_SQL, iso, isoOrNull, oneOf, toDate, toDateOrNull, toNumberOrNull, toStringOrNull } from './columns.js';
import { LibsqlKeywordRecall } from './keyword-recall.js';
import { beforeCursor, pageTail } from './paging.js';

const COLUMNS =
  'id, user_id, type, category, content, importance, confidence, valid_from, valid_to, source_conversation_id, source_message_id, ' +
  'embedding_model, embedding_dimension, accessed_at, access_count, created_at';

function toMemory(r: Row): Memory {
  return Object.freeze({
    id: r.id as string,
    userId: r.user_id as string,
    type: oneOf(r.type, MEMORY_TYPES, 'semantic'),
    content: r.content as string,
    category: toStringOrNull(r.category),
    importance: r.importance as number,
    confidence: r.confidence as number,
    validFrom: toDate(r.valid_from),
    validTo: toDateOrNull(r.valid_to),
    sourceConversationId: toStringOrNull(r.source_conversation_id),
    sourceMessageId: toStringOrNull(r.source_message_id),
    embeddingModel: toStringOrNull(r.embedding_model),
    embeddingDimension: toNumberOrNull(r.embedding_dimension),
    accessedAt: toDateOrNull(r.accessed_at),
    accessCount: r.access_count as number,
    createdAt: toDate(r.created_at),
  });
}

/** {@link MemoryRepository} over `memories`; keyword recall uses `memories_fts` unless a strategy is plugged in. */
export class LibsqlMemoryRepository implements MemoryRepository {
  readonly #recall: RecallStrategy;

  constructor(
    private readonly dal: DataAccessLayer,
    recall?: RecallStrategy,
  ) {
    this.#recall = recall ?? new LibsqlKeywordRecall(dal);
  }

  async save(memory: Memory): Promise<void> {
    const m = checkEntity(createMemory, memory, 'memory');
    const r = await this.dal.execute(
      `INSERT INTO memories (${COLUMNS}, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET type = excluded.type, category = excluded.category, content = excluded.content,
         importance = excluded.importance, confidence = excluded.confidence, valid_from = excluded.valid_from,
         valid_to = excluded.valid_to, source_conversation_id = excluded.source_conversation_id,
         source_message_id = excluded.source_message_id, embedding_model = excluded.embedding_model,
         embedding_dimension = excluded.embedding_dimension, accessed_at = excluded.accessed_at, access_count = excluded.access_count,
         updated_at = ${NOW_SQL}, deleted_at = NULL
       WHERE memories.user_id = excluded.user_id`,
      [
        m.id,
        m.userId,
        m.type,
        m.category,
        m.content,
        m.importance,
        m.confidence,
        iso(m.validFrom),
        isoOrNull(m.validTo),
        m.sourceConversationId,
        m.sourceMessageId,
        m.embeddingModel,
        m.embeddingDimension,
        isoOrNull(m.accessedAt),
        m.accessCount,
        iso(m.createdAt),
        iso(m.createdAt),
      ],
    );
    if (r.changes === 0) throw ownedByAnotherUser('memory', m.id);
  }

  async get(id: string): Promise<Memory | undefined> {
    const row = await this.dal.fetchOne(`SELECT ${COLUMNS} FROM memories WHERE id = ? AND deleted_at IS NULL`, [requireId(id, 'id')]);
    return row && toMemory(row);
  }

  async getMany(ids: readonly string[]): Promise<Memory[]> {
    const list = requireIds(ids);
    if (list.length === 0) return [];
    const rows = await this.dal.fetchAll(`SELECT ${COLUMNS} FROM memories WHERE id IN (SELECT value FROM json_each(?)) AND deleted_at IS NULL`, [
      JSON.stringify(list),
    ]);
    return rows.map(toMemory);
  }

  async getByUser(userId: string, page?: MemoryPageRequest): Promise<Page<Memory>> {
    const params: SqlValue[] = [requireId(userId, 'userId')];
    const q = toMemoryPageQuery(page);
    let sql = `SELECT ${COLUMNS} FROM memories WHERE user_id = ? AND deleted_at IS NULL`;
    if (q.type !== null) {
      sql += ' AND type = ?';
      params.push(q.type);
    }
    sql += beforeCursor(q, params) + pageTail(q, params);
    return toPage((await this.dal.fetchAll(sql, params)).map(toMemory), q.limit);
  }

  async getByContext(text: string, options: ContextOptions): Promise<SearchHit<Memory>[]> {
    return recallByContext(this.#recall, text, options, (ids) => this.getMany(ids));
  }

  async recordAccess(ids: readonly string[], at?: Date): Promise<void> {
    const list = requireIds(ids);
    const when = optionalAt(at);
    if (list.length === 0) return;
    await this.dal.execute(
      'UPDATE memories SET access_count = access_count + 1, accessed_at = ? WHERE id IN (SELECT value FROM json_each(?))',
      [iso(when), JSON.stringify(list)],
    );
  }

  async delete(id: string): Promise<boolean> {
    const r = await this.dal.execute('DELETE FROM memories WHERE id = ?', [requireId(id, 'id')]);
    return r.changes > 0;
  }
}
