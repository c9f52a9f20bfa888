/**
 * The AICO message envelope. Field names follow upstream's protobuf `AicoMessage`
 * (`metadata.message_id`, `timestamp`, `source`, `message_type`, `version`, `attributes`,
 * `payload`). This file holds the JSON serialization (UTF-8, `payload` any JSON value) and the
 * checks every codec applies to what it received; the protobuf one is `./protobuf-envelope.ts`.
 */
import { randomUUID } from 'node:crypto';
import { AicoDataError } from '../errors.js';
import { isTopic } from './topics.js';

/** The envelope version this library writes and accepts. */
export const ENVELOPE_VERSION = '1.0';

/** Largest encoded envelope accepted (bytes): a bigger frame is rejected as malformed. */
export const MAX_ENVELOPE_BYTES = 16 * 1024 * 1024;

/** Envelope metadata (upstream `MessageMetadata`). */
export interface EnvelopeMetadata {
  /** UUID of this message. */
  readonly message_id: string;
  /** ISO-8601 UTC time of publishing. */
  readonly timestamp: string;
  /** Who published it (a module name). */
  readonly source: string;
  /** The topic. */
  readonly message_type: string;
  /** Always {@link ENVELOPE_VERSION}. */
  readonly version: string;
  /** String attributes: `correlation_id`, `reply_to`, `status` (`ok`/`error` on responses)... */
  readonly attributes: Readonly<Record<string, string>>;
}

/** One message on the bus. */
export interface BusEnvelope<T = unknown> {
  readonly metadata: EnvelopeMetadata;
  readonly payload: T;
}

/** Fields a publisher may set beyond topic and payload. */
export interface EnvelopeInit {
  readonly source: string;
  readonly correlationId?: string;
  readonly replyTo?: string;
  /** Extra string attributes (merged after correlation_id / reply_to). */
  readonly attributes?: Readonly<Record<string, string>>;
  /** Message id to use (default: a new UUID). Re-publishing with the same id lets consumers drop duplicates. */
  readonly messageId?: string;
}

/** Builds an envelope for `topic`. */
export function createEnvelope<T>(topic: string, payload: T, init: EnvelopeInit): BusEnvelope<T> {
  const attributes: Record<string, string> = {};
  if (init.correlationId !== undefined) attributes.correlation_id = init.correlationId;
  if (init.replyTo !== undefined) attributes.reply_to = init.replyTo;
  if (init.attributes) Object.assign(attributes, init.attributes);
  return {
    metadata: {
      message_id: init.messageId ?? randomUUID(),
      timestamp: new Date().toISOString(),
      source: init.source,
      message_type: topic,
      version: ENVELOPE_VERSION,
      attributes,
    },
    payload,
  };
}

/** The correlation id of a message: its `correlation_id` attribute. */
export function correlationIdOf(e: BusEnvelope): string | undefined {
  return e.metadata.attributes.correlation_id;
}

/** Serializes an envelope (JSON, UTF-8). `INVALID_ARGUMENT` when the payload is not JSON-serializable. */
export function encodeEnvelope(e: BusEnvelope): Buffer {
  let text: string | undefined;
  try {
    text = JSON.stringify(e);
  } catch (err) {
    throw new AicoDataError('INVALID_ARGUMENT', `the payload cannot be serialized as JSON: ${(err as Error).message}`, { field: 'payload' });
  }
  const bytes = Buffer.from(text!, 'utf8');
  if (bytes.length > MAX_ENVELOPE_BYTES) {
    throw new AicoDataError('INVALID_ARGUMENT', `the message is ${bytes.length} bytes; at most ${MAX_ENVELOPE_BYTES} are sent`, { field: 'payload' });
  }
  return bytes;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** @internal `MALFORMED_MESSAGE` with the reason. */
export function malformed(why: string): AicoDataError {
  return new AicoDataError('MALFORMED_MESSAGE', `malformed bus envelope: ${why}`);
}

/**
 * Parses and validates a received frame against the topic frame it came with.
 * `MALFORMED_MESSAGE` for anything that is not a well-formed envelope of that topic.
 */
export function decodeEnvelope(topicFrame: string, data: Uint8Array): BusEnvelope {
  if (data.length > MAX_ENVELOPE_BYTES) throw malformed(`${data.length} bytes is over the limit`);
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch {
    throw malformed('not JSON');
  }
  return checkEnvelope(topicFrame, v);
}

/**
 * @internal The checks of a decoded envelope, whatever the codec: `MALFORMED_MESSAGE` unless `v`
 * is a well-formed envelope of `topicFrame`.
 */
export function checkEnvelope(topicFrame: string, v: unknown): BusEnvelope {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw malformed('not an object');
  const { metadata: m } = v as { metadata?: unknown };
  if (!('payload' in v)) throw malformed('no payload');
  if (m === null || typeof m !== 'object' || Array.isArray(m)) throw malformed('no metadata');
  const md = m as Record<string, unknown>;
  if (typeof md.message_id !== 'string' || !UUID.test(md.message_id)) throw malformed('metadata.message_id is not a UUID');
  if (typeof md.timestamp !== 'string' || Number.isNaN(Date.parse(md.timestamp))) throw malformed('metadata.timestamp is not a date');
  if (typeof md.source !== 'string' || md.source.length === 0) throw malformed('metadata.source is missing');
  if (!isTopic(md.message_type)) throw malformed('metadata.message_type is not an AICO topic');
  if (md.message_type !== topicFrame) throw malformed(`metadata.message_type ${md.message_type} differs from the topic frame ${topicFrame}`);
  if (md.version !== ENVELOPE_VERSION) throw malformed(`unsupported version ${JSON.stringify(md.version)}`);
  const a = md.attributes;
  if (a === null || typeof a !== 'object' || Array.isArray(a)) throw malformed('metadata.attributes is not a string map');
  for (const value of Object.values(a)) if (typeof value !== 'string') throw malformed('metadata.attributes is not a string map');
  return v as BusEnvelope;
}
