import { invalidArgument } from '../../errors.js';
import type { BatchStatement, SqlParams } from './types.js';

/** Rejects non-string SQL before it reaches the binding (which would report a type error). */
export function checkSql(sql: unknown, what = 'sql'): string {
  if (typeof sql !== 'string') throw invalidArgument(`${what} must be a string, got ${describe(sql)}`);
  if (sql.length === 0) throw invalidArgument(`${what} is empty`);
  return sql;
}

/** Converts batch statements to the binding's `[sql, params]` form. */
export function toNativeBatch(stmts: readonly BatchStatement[]): unknown[] {
  if (!Array.isArray(stmts)) throw invalidArgument(`batch takes an array of statements, got ${describe(stmts)}`);
  return stmts.map((s, i) => {
    if (typeof s === 'string') return checkSql(s, `batch statement ${i + 1}`);
    if (s === null || typeof s !== 'object') throw invalidArgument(`batch statement ${i + 1} must be a string or { sql, params }`);
    return [checkSql(s.sql, `batch statement ${i + 1}`), s.params ?? null] as [string, SqlParams | null];
  });
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}
