/**
 * Conversions between entity values and SQL columns. Timestamps are ISO-8601 UTC text with
 * milliseconds (the schema's default format, which sorts as text); booleans are 0/1.
 */
import type { SqlValue } from '../../stores/sql/index.js';

export function iso(d: Date): string {
  return d.toISOString();
}

export function isoOrNull(d: Date | null): string | null {
  return d === null ? null : d.toISOString();
}

export function toDate(v: SqlValue): Date {
  return new Date(v as string);
}

export function toDateOrNull(v: SqlValue): Date | null {
  return v === null ? null : new Date(v as string);
}

export function toNumberOrNull(v: SqlValue): number | null {
  return v === null ? null : Number(v);
}

export function toStringOrNull(v: SqlValue): string | null {
  return v === null ? null : String(v);
}

/** A value from a closed set, or `fallback` for anything another writer may have stored. */
export function oneOf<T extends string>(v: SqlValue, allowed: readonly T[], fallback: T): T {
  return (allowed as readonly SqlValue[]).includes(v) ? (v as T) : fallback;
}

/** The current time as the schema writes it. */
export const NOW_SQL = `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`;
