/**
 * Keyset pagination in domain terms. A page is read newest first; its `nextCursor` marks the
 * (createdAt, id) of its last item, so the next page starts strictly below it. Ids break ties
 * between items of the same millisecond, so no item is skipped or repeated while new items
 * arrive. Cursors are opaque to callers (base64url) and validated when they come back.
 */
import { invalidArgument } from '../errors.js';
import { requireObject } from './validation.js';

/** One page of results, newest first. */
export interface Page<T> {
  readonly items: readonly T[];
  /** Pass as `before` to get the next (older) page; `null` when this was the last page. */
  readonly nextCursor: string | null;
}

/** Which page to read. */
export interface PageRequest {
  /** Items per page, 1-1000 (default 50). */
  readonly limit?: number;
  /** A `nextCursor` from an earlier page; absent for the newest page. */
  readonly before?: string | null;
}

/** The decoded position of a cursor: items strictly before it come next. */
export interface CursorPosition {
  readonly createdAt: number;
  readonly id: string;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

/** Validated page request. */
export interface PageQuery {
  readonly limit: number;
  readonly before: CursorPosition | null;
}

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: unknown, field = 'before'): CursorPosition {
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 512 || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw invalidArgument(`${field} is not a cursor returned by this repository`, { field });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidArgument(`${field} is not a cursor returned by this repository`, { field });
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    !Number.isSafeInteger(parsed[0]) ||
    typeof parsed[1] !== 'string' ||
    parsed[1].length === 0
  ) {
    throw invalidArgument(`${field} is not a cursor returned by this repository`, { field });
  }
  return { createdAt: parsed[0] as number, id: parsed[1] as string };
}

/** Validates `request` (absent = first page of the default size). */
export function toPageQuery(request: PageRequest | undefined, field = 'page'): PageQuery {
  if (request === undefined) return { limit: DEFAULT_PAGE_SIZE, before: null };
  const r = requireObject(request, field);
  let limit = DEFAULT_PAGE_SIZE;
  if (r.limit !== undefined) {
    if (typeof r.limit !== 'number' || !Number.isSafeInteger(r.limit) || r.limit < 1 || r.limit > MAX_PAGE_SIZE) {
      throw invalidArgument(`limit must be an integer from 1 to ${MAX_PAGE_SIZE}`, { field: 'limit' });
    }
    limit = r.limit;
  }
  const before = r.before === undefined || r.before === null ? null : decodeCursor(r.before, 'before');
  return { limit, before };
}

/**
 * Builds a page from up to `limit + 1` items read newest first: the extra item only tells
 * whether another page exists.
 */
export function toPage<T extends { readonly createdAt: Date; readonly id: string }>(rows: readonly T[], limit: number): Page<T> {
  if (rows.length <= limit) return { items: rows, nextCursor: null };
  const items = rows.slice(0, limit);
  const last = items[items.length - 1]!;
  return { items, nextCursor: encodeCursor({ createdAt: last.createdAt.getTime(), id: last.id }) };
}

/** Newest-first order on (createdAt, id): negative when `a` comes first. */
export function newestFirst(a: { readonly createdAt: Date; readonly id: string }, b: { readonly createdAt: Date; readonly id: string }): number {
  const d = b.createdAt.getTime() - a.createdAt.getTime();
  if (d !== 0) return d;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** True when `item` lies strictly before `position` in newest-first order. */
export function isBefore(item: { readonly createdAt: Date; readonly id: string }, position: CursorPosition): boolean {
  const t = item.createdAt.getTime();
  return t < position.createdAt || (t === position.createdAt && item.id < position.id);
}
