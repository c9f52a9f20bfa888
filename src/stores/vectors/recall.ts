import { invalidArgument } from '../../errors.js';
import type { VectorCollection, VectorHit } from './collection.js';
import type { MetadataValue } from './record-codec.js';
import { reciprocalRankFusion, RRF_K, type RankedList } from './rrf.js';
import type { VectorStore } from './store.js';
import type { Where } from './where.js';

/** A recall request in the shape of the domain's `RecallQuery`. */
export interface RecallRequest {
  readonly text: string;
  readonly userId: string;
  readonly limit: number;
  /** Validity time, passed on to the keyword side (default now). */
  readonly at?: Date;
}

/** A recalled id with its relevance, in the shape of the domain's `RecallCandidate`. */
export interface RecallCandidate {
  readonly memoryId: string;
  readonly score: number;
}

/**
 * The keyword side: anything with the domain's `RecallStrategy` shape, typically the memory
 * repository's FTS5/BM25 recall (`LibsqlKeywordRecall`). Candidates best first.
 */
export interface KeywordRecall {
  recall(query: RecallRequest & { at: Date }): Promise<readonly RecallCandidate[]>;
}

/** How much each signal counts in the fusion. Defaults: vector 1, keyword 1, recency 0, importance 0. */
export interface RecallWeights {
  vector?: number;
  keyword?: number;
  /** Ranks candidates by `createdAt`, newest first. */
  recency?: number;
  /** Ranks candidates by `importance`, highest first. */
  importance?: number;
}

/** Options of {@link SemanticRecall.search}. */
export interface RecallOptions {
  /** Restricts both sides to this user. Without it the keyword side is skipped (it is per user). */
  userId?: string;
  /** Hits to return (default 10, at most 200). */
  limit?: number;
  /** Overrides the weights given at creation. */
  weights?: RecallWeights;
  /** Extra filter for the vector side (declared fields only). */
  where?: Where;
  /** Validity time for the keyword side (default now). */
  at?: Date;
}

/** A fused result. `text`/`metadata` are absent only for a keyword hit that has no vector yet. */
export interface RecallHit {
  id: string;
  score: number;
  text?: string;
  metadata?: Record<string, MetadataValue>;
  /** 1-based rank in the vector results, when there. */
  vectorRank?: number;
  /** 1-based rank in the keyword results, when there. */
  keywordRank?: number;
  /** Cosine distance, when a vector hit. */
  distance?: number;
}

/** Options of {@link createSemanticRecall}. */
export interface SemanticRecallOptions {
  /** The keyword side; without it recall is vector-only (plus recency/importance). */
  keyword?: KeywordRecall;
  /** Collection to search in a store (default `memories`). */
  collection?: string;
  /** Default weights. */
  weights?: RecallWeights;
  /** Candidates fetched from each side per hit returned (default 4, at least 20 in all). */
  overfetch?: number;
  /** RRF constant (default 60). */
  k?: number;
}

/**
 * Hybrid recall over one collection. `recall` has the domain's `RecallStrategy` shape, so it
 * plugs into `MemoryRepository.getByContext`; `search` returns the opened records with ranks.
 */
export interface SemanticRecall {
  readonly name: string;
  recall(query: RecallRequest): Promise<RecallCandidate[]>;
  search(text: string, options?: RecallOptions): Promise<RecallHit[]>;
}

const MAX_LIMIT = 200;

/**
 * Hybrid recall as AICO upstream does it: vector similarity and keyword rank, fused by
 * reciprocal-rank fusion; optionally recency and importance join as two more ranked lists over
 * the candidates, so every signal is rank-based and none needs score calibration.
 *
 * @example
 * ```ts
 * const semantic = createSemanticRecall(data.vectors, { keyword: new LibsqlKeywordRecall(dal), weights: { recency: 0.3 } });
 * const repos = createLibsqlRepositories(data.sql, { recall: semantic });   // getByContext now hybrid
 * const hits = await semantic.search('what does Ana like to drink?', { userId, limit: 5 });
 * ```
 */
export function createSemanticRecall(vectors: VectorStore | VectorCollection, options: SemanticRecallOptions = {}): SemanticRecall {
  const col: VectorCollection = 'memories' in vectors ? vectors.collection(options.collection ?? 'memories') : vectors;
  const overfetch = options.overfetch ?? 4;
  const k = options.k ?? RRF_K;
  const keyword = options.keyword;
  if (!(overfetch >= 1)) throw invalidArgument('overfetch must be >= 1');
  if (!(k > 0)) throw invalidArgument('k must be > 0');
  if (keyword !== undefined && typeof keyword?.recall !== 'function') throw invalidArgument('keyword must have a recall(query) method');
  const defaults = checkWeights({ vector: 1, keyword: 1, recency: 0, importance: 0, ...options.weights });

  const search = async (text: string, opts: RecallOptions = {}): Promise<RecallHit[]> => {
    if (typeof text !== 'string') throw invalidArgument('recall text must be a string');
    const limit = opts.limit ?? 10;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw invalidArgument(`limit must be an integer in 1..${MAX_LIMIT}`);
    const w = checkWeights({ ...defaults, ...opts.weights });
    const pool = Math.max(20, limit * overfetch);
    const where = combine(opts.userId === undefined ? undefined : { userId: opts.userId }, opts.where);
    const useKeyword = keyword !== undefined && w.keyword > 0 && opts.userId !== undefined;

    const [vectorHits, keywordHits] = await Promise.all([
      w.vector > 0 || !useKeyword ? col.query({ text, nResults: pool, ...(where ? { where } : {}) }) : Promise.resolve([] as VectorHit[]),
      useKeyword ? keyword!.recall({ text, userId: opts.userId!, limit: pool, at: opts.at ?? new Date() }) : Promise.resolve([] as RecallCandidate[]),
    ]);
    const keywordIds = keywordHits.map((c) => c.memoryId);

    const records = new Map<string, { text: string; metadata: Record<string, MetadataValue>; distance?: number }>();
    for (const h of vectorHits) records.set(h.id, { text: h.text, metadata: h.metadata, distance: h.distance });
    const missing = [...new Set(keywordIds)].filter((id) => !records.has(id));
    if (missing.length > 0) for (const r of await col.get({ ids: missing })) records.set(r.id, { text: r.text, metadata: r.metadata });

    const vectorIds = vectorHits.map((h) => h.id);
    const lists: RankedList[] = [
      { ids: vectorIds, weight: w.vector },
      { ids: keywordIds, weight: w.keyword },
    ];
    const candidates = [...new Set([...vectorIds, ...keywordIds])];
    if (w.recency > 0) lists.push({ ids: rankBy(candidates, records, 'createdAt'), weight: w.recency });
    if (w.importance > 0) lists.push({ ids: rankBy(candidates, records, 'importance'), weight: w.importance });

    const vectorRank = new Map(vectorIds.map((id, i) => [id, i + 1]));
    const keywordRank = new Map<string, number>();
    for (const [i, id] of keywordIds.entries()) if (!keywordRank.has(id)) keywordRank.set(id, i + 1);
    return reciprocalRankFusion(lists, k)
      .slice(0, limit)
      .map(({ id, score }) => {
        const hit: RecallHit = { id, score };
        const r = records.get(id);
        if (r) {
          hit.text = r.text;
          hit.metadata = r.metadata;
          if (r.distance !== undefined) hit.distance = r.distance;
        }
        const vr = vectorRank.get(id);
        if (vr !== undefined) hit.vectorRank = vr;
        const kr = keywordRank.get(id);
        if (kr !== undefined) hit.keywordRank = kr;
        return hit;
      });
  };

  return {
    name: keyword ? 'hybrid' : 'semantic',
    search,
    async recall(query) {
      if (query === null || typeof query !== 'object') throw invalidArgument('recall takes { text, userId, limit, at }');
      const hits = await search(query.text, { userId: query.userId, limit: Math.min(query.limit, MAX_LIMIT), ...(query.at ? { at: query.at } : {}) });
      return hits.map((h) => ({ memoryId: h.id, score: h.score }));
    },
  };
}

function checkWeights(w: Required<RecallWeights>): Required<RecallWeights> {
  for (const [name, value] of Object.entries(w)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw invalidArgument(`weights.${name} must be a finite number >= 0`);
  }
  return w;
}

/** Candidates with a numeric `field`, highest first (candidates without it are left out). */
function rankBy(ids: readonly string[], records: Map<string, { metadata: Record<string, MetadataValue> }>, field: string): string[] {
  return ids
    .map((id) => ({ id, v: records.get(id)?.metadata[field] }))
    .filter((x): x is { id: string; v: number } => typeof x.v === 'number')
    .sort((a, b) => b.v - a.v)
    .map((x) => x.id);
}

function combine(a: Where | undefined, b: Where | undefined): Where | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return { $and: [a, b] };
}
