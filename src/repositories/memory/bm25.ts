/**
 * BM25 as SQLite's FTS5 computes it (k1 = 1.2, b = 0.75, IDF floored at 1e-6, statistics over
 * every indexed row), so the in-memory twin ranks search results like the libSQL store.
 */
import { tokenize, type TermMode } from '../search-terms.js';

const K1 = 1.2;
const B = 0.75;

interface DocStats {
  readonly length: number;
  readonly counts: ReadonlyMap<string, number>;
}

// Entities are immutable: their token statistics can be cached for as long as they live.
const cache = new WeakMap<object, DocStats>();

function statsOf(doc: object, text: string): DocStats {
  let s = cache.get(doc);
  if (!s) {
    const words = tokenize(text);
    const counts = new Map<string, number>();
    for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
    s = { length: words.length, counts };
    cache.set(doc, s);
  }
  return s;
}

export interface Ranked<T> {
  readonly item: T;
  readonly score: number;
}

/**
 * Scores the items of `corpus` that contain all (or any) `terms` and pass `filter`, best
 * first; `text` gives an item's indexed text.
 */
export function bm25Search<T extends object>(
  corpus: Iterable<T>,
  text: (item: T) => string,
  terms: readonly string[],
  mode: TermMode,
  filter: (item: T) => boolean,
): Ranked<T>[] {
  if (terms.length === 0) return [];
  const all: Array<{ item: T; stats: DocStats }> = [];
  const hits = new Map<string, number>(terms.map((t) => [t, 0]));
  let totalLength = 0;
  for (const item of corpus) {
    const stats = statsOf(item, text(item));
    all.push({ item, stats });
    totalLength += stats.length;
    for (const t of terms) if (stats.counts.has(t)) hits.set(t, hits.get(t)! + 1);
  }
  const n = all.length;
  const avgLength = n === 0 ? 0 : totalLength / n;
  const idf = new Map(terms.map((t) => [t, Math.max(Math.log((n - hits.get(t)! + 0.5) / (hits.get(t)! + 0.5)), 1e-6)]));
  const out: Ranked<T>[] = [];
  for (const { item, stats } of all) {
    let matched = 0;
    let score = 0;
    for (const t of terms) {
      const f = stats.counts.get(t) ?? 0;
      if (f === 0) continue;
      matched++;
      score += (idf.get(t)! * f * (K1 + 1)) / (f + K1 * (1 - B + (B * stats.length) / avgLength));
    }
    if (matched === 0 || (mode === 'all' && matched < terms.length)) continue;
    if (!filter(item)) continue;
    out.push({ item, score });
  }
  return out;
}
