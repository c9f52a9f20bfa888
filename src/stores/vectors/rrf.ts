/** One ranked list for {@link reciprocalRankFusion}: ids best first, and how much the list counts. */
export interface RankedList {
  ids: readonly string[];
  weight: number;
}

/** The constant of Cormack et al. (2009), also used by AICO upstream: damps the head of each list. */
export const RRF_K = 60;

/**
 * Reciprocal-rank fusion: `score(id) = Σ weight / (k + rank)` over the lists containing `id`
 * (rank from 1). Only ranks matter, so lists with incomparable scores (cosine distance, BM25)
 * fuse without calibration. Returns ids by descending score; ties keep first-seen order.
 */
export function reciprocalRankFusion(lists: readonly RankedList[], k: number = RRF_K): Array<{ id: string; score: number }> {
  const scores = new Map<string, number>();
  for (const { ids, weight } of lists) {
    if (!(weight > 0)) continue;
    const seen = new Set<string>();
    ids.forEach((id, i) => {
      if (seen.has(id)) return; // a repeated id counts at its best rank only
      seen.add(id);
      scores.set(id, (scores.get(id) ?? 0) + weight / (k + i + 1));
    });
  }
  return [...scores].map(([id, score]) => ({ id, score })).sort((a, b) => b.score - a.score);
}
