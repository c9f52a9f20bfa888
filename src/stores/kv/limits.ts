/**
 * Argument rules of the key-value API, for the in-memory store (the RocksDB store applies
 * the same rules in Rust: `aico_data_core::kv::errors`). Same limits, same codes.
 */
import { AicoDataError, invalidArgument } from '../../errors.js';

export const MAX_KEY_BYTES = 64 * 1024;
export const MAX_VALUE_BYTES = 64 * 1024 * 1024;
export const MAX_TOPIC_BYTES = 256;
export const BUILTIN_NAMESPACES = ['session', 'config', 'cache', 'queue'] as const;
export const QUEUE_NAMESPACE = 'queue';

const NAMESPACE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function checkNamespaceName(name: unknown): string {
  if (typeof name !== 'string' || !NAMESPACE_NAME.test(name)) {
    throw invalidArgument(`namespace name ${typeof name === 'string' ? JSON.stringify(name) : describe(name)}: use 1-64 characters of A-Z a-z 0-9 _ . -, starting with a letter or digit`);
  }
  if (name === 'default') throw invalidArgument('namespace name "default" is reserved for the store\'s metadata');
  return name;
}

/** A key's bytes; refuses other types, empty and oversized keys. */
export function keyBytes(key: unknown, what = 'key'): Buffer {
  let b: Buffer;
  if (typeof key === 'string') b = Buffer.from(key, 'utf8');
  else if (key instanceof Uint8Array) b = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  else throw invalidArgument(`${what} must be a string, Buffer or Uint8Array, not ${describe(key)}`);
  if (b.length === 0) throw invalidArgument(`${what} must not be empty`);
  if (b.length > MAX_KEY_BYTES) throw invalidArgument(`${what} is ${b.length} bytes, more than the ${MAX_KEY_BYTES}-byte limit`);
  return b;
}

/** A private copy of a value; refuses non-bytes and oversized values. */
export function valueCopy(value: unknown, what = 'value'): Buffer {
  if (!(value instanceof Uint8Array)) {
    throw invalidArgument(`${what} must be a Buffer or Uint8Array, not ${describe(value)} (use the JSON methods for other values)`);
  }
  if (value.byteLength > MAX_VALUE_BYTES) throw invalidArgument(`${what} is ${value.byteLength} bytes, more than the ${MAX_VALUE_BYTES}-byte limit`);
  return Buffer.from(value);
}

/** Absolute expiry (Unix ms, 0 = never) of a put with `ttlMs` in a namespace with `defaultTtl`. */
export function expiryOf(ttlMs: unknown, defaultTtl: number | undefined, now: number): number {
  if (ttlMs === undefined || ttlMs === null) return defaultTtl ? now + defaultTtl : 0;
  if (typeof ttlMs !== 'number' || Number.isNaN(ttlMs) || ttlMs < 0) throw invalidArgument('ttlMs must be a non-negative number of milliseconds');
  if (ttlMs === 0 || ttlMs === Infinity) return 0;
  return now + Math.ceil(ttlMs);
}

/** A non-negative finite number of milliseconds. */
export function millis(ms: unknown, what: string): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw invalidArgument(`${what} must be a non-negative finite number`);
  return Math.ceil(ms);
}

export function checkTopic(topic: unknown): string {
  if (typeof topic !== 'string' || topic.length === 0 || Buffer.byteLength(topic) > MAX_TOPIC_BYTES || topic.includes('\0')) {
    throw invalidArgument(`queue topic must be 1-${MAX_TOPIC_BYTES} bytes without NUL characters`);
  }
  return topic;
}

export function closedError(): AicoDataError {
  return new AicoDataError('CLOSED', 'the KV store was closed');
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  const t = typeof v;
  return t === 'object' ? 'an object' : `a ${t}`;
}
