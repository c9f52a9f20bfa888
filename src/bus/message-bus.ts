/**
 * The message bus contract shared by the in-process bus and the ZeroMQ adapter.
 */
import type { BusEnvelope } from './envelope.js';

/** Options of {@link MessageBus.publish}. */
export interface PublishOptions {
  /** Goes to the envelope's `correlation_id` attribute. */
  readonly correlationId?: string;
  /** Goes to the envelope's `reply_to` attribute. */
  readonly replyTo?: string;
  /** Extra string attributes. */
  readonly attributes?: Readonly<Record<string, string>>;
  /** Message id (default: a new UUID); reusing one lets consumers drop a redelivery. */
  readonly messageId?: string;
}

/** Options of {@link MessageBus.request}. */
export interface RequestOptions {
  /** Reject with `TIMEOUT` after this many ms (default: the bus's `requestTimeoutMs`, 5000). */
  readonly timeoutMs?: number;
  /** Correlation id of the request (default: a new UUID). The response carries the same. */
  readonly correlationId?: string;
}

/** Receives the messages of a subscription. A throw or rejection is logged; the bus keeps running. */
export type MessageHandler = (envelope: BusEnvelope) => void | Promise<void>;

/**
 * Answers one request: its return value is the response payload. A throw becomes an error
 * response (`status: error`, payload `{ error: { code, message } }`) and the bus keeps running.
 */
export type RequestHandler = (payload: unknown, envelope: BusEnvelope) => unknown | Promise<unknown>;

/** An active subscription. */
export interface Subscription {
  readonly pattern: string;
  /** Stops delivery to this handler. Idempotent. */
  unsubscribe(): Promise<void>;
}

/** Counters of a bus. */
export interface BusStats {
  published: number;
  delivered: number;
  /** Malformed frames dropped. */
  rejected: number;
  /** Handler calls that threw or rejected. */
  handlerErrors: number;
}

/** Where the bus reports what it dropped (malformed frames, failing handlers). */
export interface BusLogger {
  warn(message: string, details?: Record<string, unknown>): void;
}

/** AICO's message bus. */
export interface MessageBus {
  /** The `source` stamped on what this bus publishes. */
  readonly source: string;
  /** Publishes `payload` on `topic` and resolves with the envelope sent (delivery is asynchronous). */
  publish<T>(topic: string, payload: T, options?: PublishOptions): Promise<BusEnvelope<T>>;
  /**
   * Delivers every message whose topic matches `pattern` (exact topic, prefix ending in `/`,
   * `*` for one segment, final `**` for the rest). Resolves once the subscription is in effect.
   */
  subscribe(pattern: string, handler: MessageHandler): Promise<Subscription>;
  /**
   * Publishes a request on `topic` (a `.../request/v<n>` topic) and resolves with the payload
   * of the response that carries its correlation id; rejects with the handler's error code on
   * an error response and with `TIMEOUT` when none arrives in time.
   */
  request<R = unknown>(topic: string, payload: unknown, options?: RequestOptions): Promise<R>;
  /** Answers requests on `topic`, replying on the envelope's `reply_to` (else the matching response topic). */
  handle(topic: string, handler: RequestHandler): Promise<Subscription>;
  stats(): BusStats;
  /** Stops delivery, rejects pending requests with `CLOSED`, releases sockets. Idempotent. */
  close(): Promise<void>;
}
