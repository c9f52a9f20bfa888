import { isMemoryValidAt, type RecallCandidate, type RecallQuery, type RecallStrategy } from '../../domain/index.js';
import { searchTerms } from '../search-terms.js';
import { bm25Search } from './bm25.js';
import type { MemorySession } from './database.js';
import { byRecallRank } from '../ranking.js';

/** Keyword recall in memory: BM25 over memory content, any word of the context matching. */
export class InMemoryKeywordRecall implements RecallStrategy {
  readonly name = 'keyword';
  constructor(private readonly session: MemorySession) {}

  async recall(query: RecallQuery): Promise<RecallCandidate[]> {
    const hits = bm25Search(
      this.session.tables.memories.values(),
      (m) => m.content,
      searchTerms(query.text),
      'any',
      (m) => m.userId === query.userId && isMemoryValidAt(m, query.at),
    );
    return hits
      .sort(byRecallRank)
      .slice(0, query.limit)
      .map((h) => ({ memoryId: h.item.id, score: h.score }));
  }
}
