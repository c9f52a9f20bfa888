/**
 * Turning user text into search terms, the same way for every implementation: words are runs
 * of letters, digits and marks (SQLite's `unicode61` tokenizer splits on everything else),
 * folded to lower case without diacritics (its `remove_diacritics 2`).
 */

const WORD = /[\p{L}\p{N}\p{M}\p{Co}]+/gu;
const MARKS = /\p{M}+/gu;

/** Folds one word as the full-text index does: lower case, diacritics removed. */
export function foldWord(word: string): string {
  return word.normalize('NFD').replace(MARKS, '').toLowerCase();
}

/** Every word of `text`, folded, in order (with repeats). */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(WORD)) {
    const w = foldWord(m[0]);
    if (w.length > 0) out.push(w);
  }
  return out;
}

/** Most distinct terms taken from one query: bounds the work a huge input can cause. */
export const MAX_QUERY_TERMS = 32;

/** The distinct folded words of a query, in first-seen order, at most {@link MAX_QUERY_TERMS}. */
export function searchTerms(query: string): string[] {
  const seen = new Set<string>();
  for (const w of tokenize(query)) {
    if (w.length > 100) continue; // no real word is this long; skip rather than bloat the query
    seen.add(w);
    if (seen.size === MAX_QUERY_TERMS) break;
  }
  return [...seen];
}

/** How the terms of a query combine. */
export type TermMode = 'all' | 'any';

/**
 * An FTS5 MATCH expression for `terms`: each term double-quoted (so words like `NEAR`, `OR`,
 * `*`, `^` or `col:` are matched literally, never parsed as syntax), joined by AND or OR.
 * `null` when there is nothing to search for.
 */
export function toFtsQuery(terms: readonly string[], mode: TermMode): string | null {
  if (terms.length === 0) return null;
  return terms.map((t) => `"${t.replaceAll('"', '""')}"`).join(mode === 'all' ? ' AND ' : ' OR ');
}
