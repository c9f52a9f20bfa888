/** The JSON convenience layer: values and payloads as UTF-8 JSON bytes. */
import { invalidArgument } from '../../errors.js';

/** `JSON.stringify(value)` as UTF-8 bytes; refuses values JSON cannot represent. */
export function encodeJson(value: unknown): Buffer {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw invalidArgument(`value cannot be stored as JSON: ${(e as Error).message}`);
  }
  if (text === undefined) throw invalidArgument('value cannot be stored as JSON (undefined, a function or a symbol)');
  return Buffer.from(text, 'utf8');
}

/** Parses stored bytes as JSON; `where` names the entry in the error. */
export function decodeJson<T>(bytes: Buffer, where: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch {
    throw invalidArgument(`${where} does not hold JSON (it was stored as raw bytes)`);
  }
}

/** A queue payload: bytes as given, a string as UTF-8. */
export function payloadBytes(p: Uint8Array | string): Uint8Array {
  return typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
}
