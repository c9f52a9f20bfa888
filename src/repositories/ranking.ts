import type { SearchHit } from '../domain/index.js';

/** Search order of every implementation: higher score first, then newer, then larger id. */
export function bySearchRank<T extends { readonly createdAt: Date; readonly id: string }>(a: SearchHit<T>, b: SearchHit<T>): number {
  return (
    b.score - a.score ||
    b.item.createdAt.getTime() - a.item.createdAt.getTime() ||
    (a.item.id < b.item.id ? 1 : a.item.id > b.item.id ? -1 : 0)
  );
}

/** Keyword recall order: higher score first, then more important, then newer, then larger id. */
export function byRecallRank<T extends { readonly createdAt: Date; readonly id: string; readonly importance: number }>(
  a: SearchHit<T>,
  b: SearchHit<T>,
): number {
  return b.score - a.score || b.item.importance - a.item.importance || bySearchRank(a, b);
}
