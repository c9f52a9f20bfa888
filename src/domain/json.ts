import { invalidArgument } from '../errors.js';
import { requireObject } from './validation.js';

/** A JSON value, for free-form settings and policies. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** A JSON object. */
export type JsonObject = { readonly [key: string]: JsonValue };

/**
 * A JSON-serializable object of at most `maxBytes` as JSON, returned as a frozen deep copy so
 * later edits of the caller's object cannot change the entity.
 */
export function requireJsonObject(value: unknown, field: string, maxBytes = 64 * 1024): JsonObject {
  requireObject(value, field);
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch {
    throw invalidArgument(`${field} must be JSON-serializable`, { field });
  }
  if (Buffer.byteLength(json, 'utf8') > maxBytes) throw invalidArgument(`${field} must be at most ${maxBytes} bytes as JSON`, { field });
  return deepFreeze(JSON.parse(json) as JsonObject);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
