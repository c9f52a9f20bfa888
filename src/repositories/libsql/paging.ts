import type { PageQuery } from '../../domain/index.js';
import type { SqlValue } from '../../stores/sql/index.js';

/**
 * The keyset condition for "strictly before the cursor" in newest-first (created_at, id)
 * order, written so that an index on (..., created_at) serves the range.
 */
export function beforeCursor(query: PageQuery, params: SqlValue[], alias = ''): string {
  if (!query.before) return '';
  const at = new Date(query.before.createdAt).toISOString();
  params.push(at, at, query.before.id);
  return ` AND ${alias}created_at <= ? AND (${alias}created_at < ? OR ${alias}id < ?)`;
}

/** ORDER BY and LIMIT of a page query: one row more than the page, to learn whether another follows. */
export function pageTail(query: PageQuery, params: SqlValue[], alias = ''): string {
  params.push(query.limit + 1);
  return ` ORDER BY ${alias}created_at DESC, ${alias}id DESC LIMIT ?`;
}
