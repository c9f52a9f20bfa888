import type { RecallCandidate, RecallQuery, RecallStrategy } from '../../domain/index.js';
import type { DataAccessLayer } from '../../dal/index.js';
import { searchTerms, toFtsQuery } from '../search-terms.js';

/**
 * Keyword recall over the `memories_fts` index: BM25 with any word of the context matching,
 * limited to the user's memories valid at the query time; ties go to the more important.
 * Public so that a hybrid strategy (keyword + vectors) can reuse it.
 */
export class LibsqlKeywordRecall implements RecallStrategy {
  readonly name = 'keyword';
  constructor(private readonly dal: DataAccessLayer) {}

  async recall(query: RecallQuery): Promise<RecallCandidate[]> {
    const match = toFtsQuery(searchTerms(query.text), 'any');
    if (match === null) return [];
    const at = query.at.toISOString();
    const rows = await this.dal.fetchAll<{ id: string; rank: number }>(
      `SELECT mem.id AS id, bm25(memories_fts) AS rank
       FROM memories_fts JOIN memories mem ON mem.seq = memories_fts.rowid
       WHERE memories_fts MATCH ? AND mem.user_id = ? AND mem.deleted_at IS NULL
         AND mem.valid_from <= ? AND (mem.valid_to IS NULL OR mem.valid_to > ?)
       ORDER BY rank, mem.importance DESC, mem.created_at DESC, mem.id DESC LIMIT ?`,
      [match, query.userId, at, at, query.limit],
    );
    return rows.map((r) => ({ memoryId: r.id, score: -r.rank }));
  }
}
