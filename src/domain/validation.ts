/**
 * Boundary validation shared by the entities. Every failure is `INVALID_ARGUMENT` with the
 * offending field in `details.field`, so callers can point at the input that was wrong.
 */
import { invalidArgument } from '../errors.js';

/** A plain object (not null, not an array), or `INVALID_ARGUMENT` naming `field`. */
export function requireObject(value: unknown, field: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidArgument(`${field} must be an object`, { field });
  }
  return value as Record<string, unknown>;
}

/** A string whose trimmed length is within bounds; returns it trimmed unless `keepSpace`. */
export function requireText(value: unknown, field: string, opts: { min?: number; max: number; keepSpace?: boolean }): string {
  if (typeof value !== 'string') throw invalidArgument(`${field} must be a string, got ${typeOf(value)}`, { field });
  const trimmed = value.trim();
  const min = opts.min ?? 1;
  if (trimmed.length < min) throw invalidArgument(`${field} must not be empty`, { field });
  const out = opts.keepSpace ? value : trimmed;
  if (out.length > opts.max) throw invalidArgument(`${field} must be at most ${opts.max} characters`, { field, max: opts.max });
  return out;
}

/** Like {@link requireText}, but `undefined` and `null` become `null`. */
export function optionalText(value: unknown, field: string, opts: { max: number }): string | null {
  return value === undefined || value === null ? null : requireText(value, field, opts);
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** An identifier: 1-128 characters of letters, digits and `_ . : -` (UUIDs fit). */
export function requireId(value: unknown, field: string): string {
  if (typeof value !== 'string' || !ID.test(value)) {
    throw invalidArgument(`${field} must be an id (1-128 letters, digits, _ . : -), got ${preview(value)}`, { field });
  }
  return value;
}

/** Like {@link requireId}, but `undefined` and `null` become `null`. */
export function optionalId(value: unknown, field: string): string | null {
  return value === undefined || value === null ? null : requireId(value, field);
}

/** One of `allowed`. */
export function requireOneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalidArgument(`${field} must be one of ${allowed.join(', ')}, got ${preview(value)}`, { field, allowed });
  }
  return value as T;
}

/** A finite number in `[min, max]`. */
export function requireNumber(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalidArgument(`${field} must be a number from ${min} to ${max}, got ${preview(value)}`, { field, min, max });
  }
  return value;
}

/** Like {@link requireNumber}, but `undefined` and `null` become `null`. */
export function optionalNumber(value: unknown, field: string, min: number, max: number): number | null {
  return value === undefined || value === null ? null : requireNumber(value, field, min, max);
}

/** A safe integer in `[min, max]`. */
export function requireInteger(value: unknown, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalidArgument(`${field} must be an integer from ${min} to ${max}, got ${preview(value)}`, { field, min, max });
  }
  return value;
}

/** Like {@link requireInteger}, but `undefined` and `null` become `null`. */
export function optionalInteger(value: unknown, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number | null {
  return value === undefined || value === null ? null : requireInteger(value, field, min, max);
}

/** A boolean. */
export function requireBoolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw invalidArgument(`${field} must be a boolean, got ${preview(value)}`, { field });
  return value;
}

/** What callers may pass for a point in time. */
export type DateInput = Date | string | number;

/** A valid point in time from a `Date`, an ISO-8601 string or epoch milliseconds; always a fresh `Date`. */
export function requireDate(value: unknown, field: string): Date {
  let d: Date | undefined;
  if (value instanceof Date) d = new Date(value.getTime());
  else if (typeof value === 'number' && Number.isFinite(value)) d = new Date(value);
  else if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value)) d = new Date(value);
  if (!d || Number.isNaN(d.getTime())) {
    throw invalidArgument(`${field} must be a Date, an ISO-8601 timestamp or epoch milliseconds, got ${preview(value)}`, { field });
  }
  // Stored as ISO-8601 text, which sorts correctly only for four-digit years.
  const year = d.getUTCFullYear();
  if (year < 1 || year > 9999) throw invalidArgument(`${field} must be between the years 0001 and 9999`, { field });
  return d;
}

/** Like {@link requireDate}, but `undefined` and `null` become `null`. */
export function optionalDate(value: unknown, field: string): Date | null {
  return value === undefined || value === null ? null : requireDate(value, field);
}

function typeOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

/** A short, safe rendering of a bad value for messages (never the whole input). */
function preview(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  return typeOf(v);
}
