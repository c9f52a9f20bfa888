import { isMemoryValidAt, type ContextOptions, type Memory, type RecallCandidate, type RecallQuery, type RecallStrategy, type SearchHit } from '../domain/index.js';
import { toRecallQuery } from './arguments.js';

/**
 * `MemoryRepository.getByContext` for every implementation: validates the options, asks the
 * strategy for candidates, and loads them with `load`.
 */
export async function recallByContext(
  strategy: RecallStrategy,
  text: string,
  options: ContextOptions,
  load: (ids: string[]) => Promise<Memory[]>,
): Promise<SearchHit<Memory>[]> {
  const query = toRecallQuery(text, options);
  return resolveRecall(await strategy.recall(query), query, load);
}

/**
 * Turns a strategy's candidates into memories, in the strategy's order. Candidates that are
 * gone, belong to another user or are not valid at the query time are dropped: a plugged-in
 * strategy (an external vector index) may lag behind the store.
 */
async function resolveRecall(
  candidates: readonly RecallCandidate[],
  query: RecallQuery,
  load: (ids: string[]) => Promise<Memory[]>,
): Promise<SearchHit<Memory>[]> {
  if (candidates.length === 0) return [];
  const byId = new Map((await load(candidates.map((c) => c.memoryId))).map((m) => [m.id, m]));
  const out: SearchHit<Memory>[] = [];
  for (const c of candidates) {
    const m = byId.get(c.memoryId);
    if (m && m.userId === query.userId && isMemoryValidAt(m, query.at)) out.push({ item: m, score: c.score });
    if (out.length === query.limit) break;
  }
  return out;
}
