/**
 * What both bus implementations share: subscription routing, envelope checks, request/response
 * and the handling of failing handlers. A transport only moves `[topic, bytes]` frames and
 * keeps transport-level prefix subscriptions.
 */
import { randomUUID } from 'node:crypto';
import { AicoDataError, ERROR_CODES, invalidArgument, toAicoError, type AicoErrorCode } from '../errors.js';
import { envelopeCodec, type EnvelopeCodec, type EnvelopeCodecName } from './codec.js';
import { createEnvelope, type BusEnvelope } from './envelope.js';
import type { BusLogger, BusStats, MessageBus, MessageHandler, PublishOptions, RequestHandler, RequestOptions, Subscription } from './message-bus.js';
import { compilePattern, isTopic, requireTopic, responseTopicOf, type TopicPattern } from './topics.js';

/** Options shared by the bus implementations. */
export interface BusOptions {
  /** `source` of published envelopes (default `aico-data`). */
  readonly source?: string;
  /** Default request timeout in ms (default 5000). */
  readonly requestTimeoutMs?: number;
  /** Receives warnings about dropped frames and failing handlers (default: `console.warn`). */
  readonly logger?: BusLogger;
  /**
   * How envelopes are serialized (default `json`): `protobuf` writes upstream AICO's
   * `AicoMessage`. Every client of one bus must use the same codec.
   */
  readonly codec?: EnvelopeCodecName;
}

interface Sub {
  readonly pattern: TopicPattern;
  readonly handler: MessageHandler;
  active: boolean;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
  timer: NodeJS.Timeout;
}

const CODES: ReadonlySet<string> = new Set(ERROR_CODES);

const consoleLogger: BusLogger = {
  warn: (message, details) => console.warn(`[aico-data bus] ${message}`, details ?? ''),
};

/** @internal The shared part of {@link MessageBus} implementations. */
export abstract class BaseBus implements MessageBus {
  readonly source: string;
  protected readonly logger: BusLogger;
  readonly #timeoutMs: number;
  readonly #codec: EnvelopeCodec;
  readonly #subs = new Set<Sub>();
  readonly #prefixes = new Map<string, number>();
  readonly #pending = new Map<string, Pending>();
  readonly #responseSubs = new Map<string, Promise<Subscription>>();
  /** The transport route each received request came with (see {@link BaseBus.sendResponse}). */
  readonly #routes = new WeakMap<BusEnvelope, string>();
  readonly #stats: BusStats = { published: 0, delivered: 0, rejected: 0, handlerErrors: 0 };
  #closed = false;

  protected constructor(options: BusOptions = {}) {
    const source = options.source ?? 'aico-data';
    if (typeof source !== 'string' || source.length === 0 || source.length > 128) throw invalidArgument('source must be a short non-empty string', { field: 'source' });
    const t = options.requestTimeoutMs ?? 5000;
    if (!Number.isFinite(t) || t <= 0) throw invalidArgument('requestTimeoutMs must be a positive number', { field: 'requestTimeoutMs' });
    this.source = source;
    this.#timeoutMs = t;
    this.logger = options.logger ?? consoleLogger;
    this.#codec = envelopeCodec(options.codec);
  }

  /** The envelope serialization of this bus. */
  get codec(): EnvelopeCodecName {
    return this.#codec.name;
  }

  /** Sends one encoded message (`messageId`: its envelope's, for transports that drop duplicates). */
  protected abstract send(topic: string, data: Buffer, messageId?: string): Promise<void>;
  /** Starts receiving topics with this byte prefix. */
  protected abstract addPrefix(prefix: string): void;
  /** Stops receiving topics with this byte prefix. */
  protected abstract removePrefix(prefix: string): void;
  /** Resolves once prefixes added so far are in effect. */
  protected abstract settle(): Promise<void>;
  /** Releases the transport. */
  protected abstract closeTransport(): Promise<void>;
  /** Sends a request (default: published like any message; ZeroMQ sends it on the request path). */
  protected sendRequest(topic: string, data: Buffer): Promise<void> {
    return this.send(topic, data);
  }
  /**
   * Sends the response to a request that arrived with a transport route (the requester's
   * connection): only that requester receives it. Requests without a route are answered by publishing.
   */
  protected sendResponse(_route: string, topic: string, data: Buffer): Promise<void> {
    return this.send(topic, data);
  }

  get closed(): boolean {
    return this.#closed;
  }

  #check(): void {
    if (this.#closed) throw new AicoDataError('CLOSED', 'the message bus was closed');
  }

  publish<T>(topic: string, payload: T, options: PublishOptions = {}): Promise<BusEnvelope<T>> {
    return this.#publish(topic, payload, options, (t, data, id) => this.send(t, data, id));
  }

  async #publish<T>(topic: string, payload: T, options: PublishOptions, deliver: (topic: string, data: Buffer, messageId: string) => Promise<void>): Promise<BusEnvelope<T>> {
    this.#check();
    requireTopic(topic);
    if (options === null || typeof options !== 'object') throw invalidArgument('publish options must be an object', { field: 'options' });
    const { correlationId, replyTo, attributes, messageId } = options;
    if (correlationId !== undefined && (typeof correlationId !== 'string' || correlationId.length === 0 || correlationId.length > 256)) {
      throw invalidArgument('correlationId must be a non-empty string', { field: 'correlationId' });
    }
    if (replyTo !== undefined) requireTopic(replyTo, 'replyTo');
    if (attributes !== undefined) {
      if (attributes === null || typeof attributes !== 'object') throw invalidArgument('attributes must be a string map', { field: 'attributes' });
      for (const v of Object.values(attributes)) if (typeof v !== 'string') throw invalidArgument('attributes must be a string map', { field: 'attributes' });
    }
    if (messageId !== undefined && (typeof messageId !== 'string' || !/^[0-9a-f-]{36}$/i.test(messageId))) {
      throw invalidArgument('messageId must be a UUID', { field: 'messageId' });
    }
    const envelope = createEnvelope(topic, payload, {
      source: this.source,
      ...(correlationId !== undefined ? { correlationId } : {}),
      ...(replyTo !== undefined ? { replyTo } : {}),
      ...(attributes !== undefined ? { attributes } : {}),
      ...(messageId !== undefined ? { messageId } : {}),
    });
    const data = this.#codec.encode(envelope);
    await deliver(topic, data, envelope.metadata.message_id);
    this.#stats.published++;
    return envelope;
  }

  async subscribe(pattern: string, handler: MessageHandler): Promise<Subscription> {
    this.#check();
    const compiled = compilePattern(pattern);
    if (typeof handler !== 'function') throw invalidArgument('handler must be a function', { field: 'handler' });
    const sub: Sub = { pattern: compiled, handler, active: true };
    this.#subs.add(sub);
    const n = this.#prefixes.get(compiled.prefix) ?? 0;
    this.#prefixes.set(compiled.prefix, n + 1);
    if (n === 0) this.addPrefix(compiled.prefix);
    await this.settle();
    return {
      pattern,
      unsubscribe: async () => {
        if (!sub.active) return;
        sub.active = false;
        this.#subs.delete(sub);
        const left = (this.#prefixes.get(compiled.prefix) ?? 1) - 1;
        if (left === 0) {
          this.#prefixes.delete(compiled.prefix);
          if (!this.#closed) this.removePrefix(compiled.prefix);
        } else this.#prefixes.set(compiled.prefix, left);
      },
    };
  }

  async request<R = unknown>(topic: string, payload: unknown, options: RequestOptions = {}): Promise<R> {
    this.#check();
    const responseTopic = responseTopicOf(requireTopic(topic));
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw invalidArgument('timeoutMs must be a positive number', { field: 'timeoutMs' });
    const correlationId = options.correlationId ?? randomUUID();
    if (this.#pending.has(correlationId)) throw invalidArgument(`a request with correlation id ${correlationId} is already waiting`, { field: 'correlationId' });
    await this.#listenForResponses(responseTopic);
    const result = new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(correlationId);
        reject(new AicoDataError('TIMEOUT', `no response to ${topic} within ${timeoutMs} ms`, { topic, correlationId }));
      }, timeoutMs);
      this.#pending.set(correlationId, { resolve: resolve as (v: unknown) => void, reject, timer });
    });
    try {
      await this.#publish(topic, payload, { correlationId, replyTo: responseTopic }, (t, data) => this.sendRequest(t, data));
    } catch (e) {
      const p = this.#pending.get(correlationId);
      if (p) {
        clearTimeout(p.timer);
        this.#pending.delete(correlationId);
      }
      throw e;
    }
    return result;
  }

  /** One shared subscription per response topic routes responses to waiting requests. */
  #listenForResponses(responseTopic: string): Promise<Subscription> {
    let s = this.#responseSubs.get(responseTopic);
    if (!s) {
      s = this.subscribe(responseTopic, (e) => this.#onResponse(e));
      s.catch(() => this.#responseSubs.delete(responseTopic));
      this.#responseSubs.set(responseTopic, s);
    }
    return s;
  }

  #onResponse(e: BusEnvelope): void {
    const id = e.metadata.attributes.correlation_id;
    if (id === undefined) return;
    const p = this.#pending.get(id);
    if (!p) return; // another requester's response, or one that came after its timeout
    this.#pending.delete(id);
    clearTimeout(p.timer);
    if (e.metadata.attributes.status === 'error') {
      const err = (e.payload as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
      const code = typeof err?.code === 'string' && CODES.has(err.code) ? (err.code as AicoErrorCode) : 'INTERNAL';
      const message = typeof err?.message === 'string' ? err.message : 'the request handler failed';
      p.reject(new AicoDataError(code, message, { topic: e.metadata.message_type, correlationId: id, remote: true }));
    } else p.resolve(e.payload);
  }

  async handle(topic: string, handler: RequestHandler): Promise<Subscription> {
    this.#check();
    const fallback = responseTopicOf(requireTopic(topic));
    if (typeof handler !== 'function') throw invalidArgument('handler must be a function', { field: 'handler' });
    return this.subscribe(topic, async (request) => {
      const replyTo = request.metadata.attributes.reply_to;
      const to = replyTo !== undefined && isTopic(replyTo) ? replyTo : fallback;
      const correlationId = request.metadata.attributes.correlation_id ?? request.metadata.message_id;
      let payload: unknown;
      let status = 'ok';
      try {
        payload = (await handler(request.payload, request)) ?? null;
      } catch (e) {
        const err = toAicoError(e);
        this.#stats.handlerErrors++;
        this.logger.warn(`request handler for ${topic} failed: ${err.code}`, { topic, correlationId, code: err.code });
        status = 'error';
        payload = { error: { code: err.code, message: err.message } };
      }
      if (this.#closed) return;
      const route = this.#routes.get(request);
      const deliver = (t: string, data: Buffer) => (route === undefined ? this.send(t, data) : this.sendResponse(route, t, data));
      try {
        await this.#publish(to, payload, { correlationId, attributes: { status } }, deliver);
      } catch (e) {
        // e.g. a result that is not JSON: answer with that error instead of leaving the requester waiting
        const err = toAicoError(e);
        await this.#publish(to, { error: { code: err.code, message: err.message } }, { correlationId, attributes: { status: 'error' } }, deliver);
      }
    });
  }

  /**
   * Decodes a received message for a transport that delivers it itself (a durable consumer);
   * a malformed one is counted, logged and answered with undefined.
   */
  protected decodeOrReject(topicFrame: string, data: Uint8Array): BusEnvelope | undefined {
    try {
      return this.#codec.decode(topicFrame, data);
    } catch (e) {
      this.#stats.rejected++;
      this.logger.warn(`dropped a malformed message on ${JSON.stringify(topicFrame.slice(0, 120))}: ${(e as Error).message}`, {
        topic: topicFrame.slice(0, 120),
        code: 'MALFORMED_MESSAGE',
        bytes: data.length,
      });
      return undefined;
    }
  }

  /** Counts and logs a handler of a transport's own delivery path that threw. */
  protected countHandlerError(topic: string, e: unknown): void {
    this.#stats.handlerErrors++;
    const err = toAicoError(e);
    this.logger.warn(`a handler threw on ${topic}: ${err.code} ${err.message}`, { topic, code: err.code });
  }

  /** Called by the transport for each received message (`route`: where a request came from). Never throws. */
  protected receive(topicFrame: string, data: Uint8Array, route?: string): void {
    if (this.#closed) return;
    const envelope = this.decodeOrReject(topicFrame, data);
    if (envelope === undefined) return;
    if (route !== undefined) this.#routes.set(envelope, route);
    for (const sub of this.#subs) {
      if (!sub.active || !sub.pattern.matches(topicFrame)) continue;
      this.#stats.delivered++;
      try {
        const r = sub.handler(envelope);
        if (r && typeof (r as Promise<void>).then === 'function') (r as Promise<void>).then(undefined, (e) => this.#handlerFailed(sub, topicFrame, e));
      } catch (e) {
        this.#handlerFailed(sub, topicFrame, e);
      }
    }
  }

  #handlerFailed(sub: Sub, topic: string, e: unknown): void {
    this.#stats.handlerErrors++;
    const err = toAicoError(e);
    this.logger.warn(`a handler of ${sub.pattern.source} threw on ${topic}: ${err.code} ${err.message}`, { topic, pattern: sub.pattern.source, code: err.code });
  }

  stats(): BusStats {
    return { ...this.#stats };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(new AicoDataError('CLOSED', 'the message bus was closed before the response arrived', { correlationId: id }));
    }
    this.#pending.clear();
    this.#subs.clear();
    await this.closeTransport();
  }
}
