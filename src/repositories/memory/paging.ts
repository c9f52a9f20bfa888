import { isBefore, newestFirst, toPage, type Page, type PageQuery } from '../../domain/index.js';

/** One newest-first page of the items of `source` that pass `filter`. */
export function pageOf<T extends { readonly createdAt: Date; readonly id: string }>(
  source: Iterable<T>,
  filter: (item: T) => boolean,
  query: PageQuery,
): Page<T> {
  const { before, limit } = query;
  const matching: T[] = [];
  for (const item of source) if (filter(item) && (before === null || isBefore(item, before))) matching.push(item);
  matching.sort(newestFirst);
  return toPage(matching.slice(0, limit + 1), limit);
}
