/**
 * Argument checks shared by every implementation of the repository interfaces, so that both
 * reject the same input with the same `INVALID_ARGUMENT` (the contract suite relies on it).
 */
import { invalidArgument } from '../errors.js';
import type { ContextOptions, MemoryPageRequest, MessagePageRequest, PageQuery, RecallQuery, SearchOptions } from '../domain/index.js';
import { MEMORY_TYPES, toPageQuery, type MemoryType } from '../domain/index.js';
import { requireDate, requireId, requireInteger, requireObject, requireOneOf } from '../domain/validation.js';
import { searchTerms } from './search-terms.js';

export { requireId };

/**
 * Re-validates an entity at the repository boundary with its domain `create*` function (a
 * cast plain object cannot slip bad data in), requiring the id a stored entity must have.
 */
export function checkEntity<T>(create: (input: T) => T, value: T, field: string, idField = 'id'): T {
  const o = requireObject(value, field);
  requireId(o[idField], idField);
  return create(value);
}

export interface SearchQuery {
  readonly terms: string[];
  readonly userId: string | null;
  readonly limit: number;
}

export function toSearchQuery(query: unknown, options: SearchOptions | undefined): SearchQuery {
  if (typeof query !== 'string') throw invalidArgument('query must be a string', { field: 'query' });
  const o = options === undefined ? {} : requireObject(options, 'options');
  return {
    terms: searchTerms(query),
    userId: o.userId === undefined ? null : requireId(o.userId, 'userId'),
    limit: o.limit === undefined ? 20 : requireInteger(o.limit, 'limit', 1, 1000),
  };
}

export function toRecallQuery(text: unknown, options: ContextOptions | undefined): RecallQuery {
  if (typeof text !== 'string') throw invalidArgument('text must be a string', { field: 'text' });
  const o = requireObject(options, 'options');
  return {
    text,
    userId: requireId(o.userId, 'userId'),
    limit: o.limit === undefined ? 5 : requireInteger(o.limit, 'limit', 1, 100),
    at: o.at === undefined ? new Date() : requireDate(o.at, 'at'),
  };
}

export interface MessagePageQuery extends PageQuery {
  readonly conversationId: string | null;
}

export function toMessagePageQuery(page: MessagePageRequest | undefined): MessagePageQuery {
  const q = toPageQuery(page);
  const conversationId = page?.conversationId === undefined ? null : requireId(page.conversationId, 'conversationId');
  return { ...q, conversationId };
}

export interface MemoryPageQuery extends PageQuery {
  readonly type: MemoryType | null;
}

export function toMemoryPageQuery(page: MemoryPageRequest | undefined): MemoryPageQuery {
  const q = toPageQuery(page);
  const type = page?.type === undefined ? null : requireOneOf(page.type, 'type', MEMORY_TYPES);
  return { ...q, type };
}

/** A non-empty array of at most 1000 ids. */
export function requireIds(ids: unknown, field = 'ids'): string[] {
  if (!Array.isArray(ids) || ids.length > 1000) throw invalidArgument(`${field} must be an array of at most 1000 ids`, { field });
  return [...new Set(ids.map((id) => requireId(id, field)))];
}

export function optionalAt(at: unknown): Date {
  return at === undefined ? new Date() : requireDate(at, 'at');
}
