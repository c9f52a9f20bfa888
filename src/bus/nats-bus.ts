/**
 * The NATS adapter: AICO's bus as upstream runs it since 2026. Topics travel on subjects
 * `aico.<tenant_id>.<domain>...` (`./nats-subjects.ts`), one NATS message per envelope (the
 * subject is the topic frame, the payload the envelope). Requests carry a reply subject in this
 * client's inbox, so responses reach their requester only. Change events (topics of the durable
 * domains, `data/**` and `sync/**` by default) are published to a JetStream stream and
 * acknowledged by it; {@link NatsBus.consume} reads them through a durable consumer with
 * explicit acks (at-least-once: an event the handler did not finish is delivered again).
 *
 * The server must require authentication (`user`/`password`, see `./nats-credentials.ts`);
 * without credentials {@link connectNatsBus} refuses unless `insecureNoAuth: true`.
 */
import { randomUUID } from 'node:crypto';
import type { Consumer, ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { Msg, NatsConnection, Subscription as NatsSubscription } from '@nats-io/transport-node';
import { AicoDataError, invalidArgument, toAicoError } from '../errors.js';
import { natsCore, natsInboxPrefix, natsJetstream } from '../util/nats.js';
import { ensureLimitsStream } from '../util/nats-stream.js';
import { BaseBus, type BusOptions } from './base-bus.js';
import type { MessageBus, MessageHandler, Subscription } from './message-bus.js';
import { requireTenant, subjectFilterOf, subjectOf, topicOf } from './nats-subjects.js';
import { compilePattern, responseTopicOf } from './topics.js';

/** Options of {@link connectNatsBus}. */
export interface NatsBusOptions extends BusOptions {
  /** Server URLs, e.g. `nats://127.0.0.1:4222` (several: a cluster; the client fails over). */
  readonly servers: string | readonly string[];
  /** NATS user and password (`generateNatsCredentials` / `data.natsCredentials()`). */
  readonly user?: string;
  readonly password?: string;
  /** Connect without credentials (a server without `authorization`): every local process is then a peer. */
  readonly insecureNoAuth?: boolean;
  /** The `<tenant_id>` of the subjects (default `default`). */
  readonly tenantId?: string;
  /** How long connecting may take (default 5000 ms). */
  readonly connectTimeoutMs?: number;
  /**
   * First topic segments whose messages are change events stored in JetStream (default
   * `['data', 'sync']`; `[]`: no JetStream at all, every publish is a plain NATS publish).
   */
  readonly durableDomains?: readonly string[];
  /** The JetStream stream of the change events (default `AICO_DATA_EVENTS_<tenant>`); created when missing. */
  readonly eventStream?: string;
  /** Events older than this are dropped from the stream (default 7 days). */
  readonly eventMaxAgeMs?: number;
  /** The stream keeps at most this many bytes, dropping the oldest events (default 1 GiB). */
  readonly eventMaxBytes?: number;
}

/** What {@link NatsBus.connection} says about the link to the server. */
export interface NatsConnectionState {
  /** `reconnecting` while no server answers (the client keeps trying, with no limit); `closed` after `close()`. */
  readonly state: 'connected' | 'reconnecting' | 'closed';
  /** How often the connection came back after losing its server. */
  readonly reconnects: number;
}

/** Options of {@link NatsBus.consume}. */
export interface NatsConsumeOptions {
  /** An event not acknowledged this long after delivery is delivered again (default 30000 ms). */
  readonly ackWaitMs?: number;
  /** Deliveries of one event before the server gives up on it (default 20; -1: no limit). */
  readonly maxDeliver?: number;
}

// JetStream names: one subject token, no wildcards (the server's rule, kept narrow here).
const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const DOMAIN = /^[a-z0-9][a-z0-9_-]*$/;
// Replies go only to inboxes (`_INBOX.<nuid>`, the NATS default, or `_INBOX.<user>.<id>`).
const INBOX = /^_INBOX\./;

function natsError(e: unknown, what: string): AicoDataError {
  if (e instanceof AicoDataError) return e;
  const err = e as { name?: string; message?: string; code?: string };
  const text = `${err?.name ?? ''} ${err?.message ?? String(e)}`;
  if (/authoriz|authenticat|permission/i.test(text)) return new AicoDataError('NOT_AUTHORIZED', `the NATS server refused ${what}: ${err?.message ?? text}`);
  if (/timeout|timed out/i.test(text)) return new AicoDataError('TIMEOUT', `${what}: the NATS server did not answer in time`);
  if (/closed/i.test(text)) return new AicoDataError('CLOSED', 'the message bus was closed');
  if (/refused|no responders|ECONN|unavailable|connection/i.test(text)) return new AicoDataError('UNAVAILABLE', `${what}: ${err?.message ?? text}`);
  return toAicoError(e);
}

/** The NATS {@link MessageBus}. Create it with {@link connectNatsBus}. */
export class NatsBus extends BaseBus implements MessageBus {
  /** The tenant id in this bus's subjects. */
  readonly tenantId: string;
  /** The JetStream stream of change events (undefined without durable domains). */
  readonly eventStream: string | undefined;
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #durable: ReadonlySet<string>;
  readonly #inbox: string;
  readonly #subs = new Map<string, NatsSubscription>();
  readonly #consumers = new Set<ConsumerMessages>();
  #state: NatsConnectionState['state'] = 'connected';
  #reconnects = 0;

  /** @internal Use {@link connectNatsBus}. */
  constructor(nc: NatsConnection, options: NatsBusOptions, tenant: string, durable: readonly string[], stream: string | undefined) {
    super(options);
    this.#nc = nc;
    this.#inbox = `${natsInboxPrefix(options.insecureNoAuth === true ? undefined : options.user)}.${randomUUID().replaceAll('-', '')}`;
    this.tenantId = tenant;
    this.#durable = new Set(durable);
    this.eventStream = stream;
    this.#js = natsJetstream().jetstream(nc);
    // Responses to this client's requests: `<inbox>.<response topic as tokens>`.
    nc.subscribe(`${this.#inbox}.>`, {
      callback: (err, msg) => {
        if (err) return void (this.closed || this.logger.warn(`the NATS inbox stopped: ${err.message}`, {}));
        this.receive(msg.subject.slice(this.#inbox.length + 1).replaceAll('.', '/'), msg.data);
      },
    });
    void this.#watch(nc);
  }

  /**
   * The link to the server now. While it is `reconnecting`, subscriptions and consumers stay in
   * place and resume when a server is back; publishes of change events reject with `TIMEOUT`
   * (retry them with the same `messageId`: the stream stores a message id once).
   */
  get connection(): NatsConnectionState {
    return { state: this.closed ? 'closed' : this.#state, reconnects: this.#reconnects };
  }

  /** Follows the client's status events: a lost server is logged once, its return too. */
  async #watch(nc: NatsConnection): Promise<void> {
    try {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect' && this.#state === 'connected') {
          this.#state = 'reconnecting';
          if (!this.closed) this.logger.warn('the NATS server went away; reconnecting', { server: s.server });
        } else if (s.type === 'reconnect') {
          this.#state = 'connected';
          this.#reconnects++;
          if (!this.closed) this.logger.warn('reconnected to the NATS server', { server: s.server, reconnects: this.#reconnects });
        }
      }
    } catch {
      // The status iterator ends with the connection.
    }
  }

  /** @internal Creates the event stream when it is missing. */
  async ensureStream(options: NatsBusOptions): Promise<void> {
    if (this.eventStream === undefined) return;
    try {
      await ensureLimitsStream(await this.#jsm(), {
        name: this.eventStream,
        subjects: [...this.#durable].map((d) => `aico.${this.tenantId}.${d}.>`),
        maxAgeMs: options.eventMaxAgeMs ?? 7 * 24 * 3600_000,
        maxBytes: options.eventMaxBytes ?? 1024 ** 3,
      });
    } catch (e) {
      throw natsError(e, `creating stream ${this.eventStream}`);
    }
  }

  #jsm(): Promise<JetStreamManager> {
    return natsJetstream().jetstreamManager(this.#nc);
  }

  #isDurable(topic: string): boolean {
    return this.eventStream !== undefined && this.#durable.has(topic.slice(0, topic.indexOf('/')));
  }

  override subscribe(pattern: string, handler: MessageHandler): Promise<Subscription> {
    if (typeof pattern === 'string' && pattern.includes('.')) {
      return Promise.reject(invalidArgument(`${pattern}: the NATS bus maps "/" to "." and cannot subscribe to segments with "."`, { field: 'pattern' }));
    }
    return super.subscribe(pattern, handler);
  }

  protected async send(topic: string, data: Buffer, messageId?: string): Promise<void> {
    const subject = subjectOf(this.tenantId, topic);
    if (this.#isDurable(topic)) {
      // Stored before publish resolves; the message id makes a retried publish a duplicate the stream drops.
      try {
        await this.#js.publish(subject, data, messageId === undefined ? {} : { msgID: messageId });
      } catch (e) {
        throw this.closed ? new AicoDataError('CLOSED', 'the message bus was closed') : natsError(e, `publishing ${topic} to JetStream`);
      }
      return;
    }
    try {
      this.#nc.publish(subject, data);
    } catch (e) {
      throw this.closed ? new AicoDataError('CLOSED', 'the message bus was closed') : natsError(e, `publishing ${topic}`);
    }
  }

  protected override async sendRequest(topic: string, data: Buffer): Promise<void> {
    const reply = `${this.#inbox}.${responseTopicOf(topic).replaceAll('/', '.')}`;
    try {
      this.#nc.publish(subjectOf(this.tenantId, topic), data, { reply });
    } catch (e) {
      throw this.closed ? new AicoDataError('CLOSED', 'the message bus was closed') : natsError(e, `sending ${topic}`);
    }
  }

  protected override async sendResponse(route: string, _topic: string, data: Buffer): Promise<void> {
    try {
      this.#nc.publish(route, data);
    } catch (e) {
      throw this.closed ? new AicoDataError('CLOSED', 'the message bus was closed') : natsError(e, 'sending a response');
    }
  }

  /**
   * One NATS subscription per prefix. Overlapping prefixes (`data/` and `data/memory/`) both
   * receive a message; only the shortest one hands it on, so handlers see it once.
   */
  #onMessage(prefix: string, msg: Msg): void {
    const topic = topicOf(this.tenantId, msg.subject);
    if (topic !== undefined) {
      for (const p of this.#subs.keys()) {
        if (p.length < prefix.length && (p === '' || (p.endsWith('/') && topic.startsWith(p)))) return;
      }
    }
    // Replies go only to inboxes: a reply subject elsewhere (e.g. into the event stream) is not honoured.
    const route = msg.reply !== undefined && INBOX.test(msg.reply) ? msg.reply : undefined;
    this.receive(topic ?? msg.subject, msg.data, route);
  }

  protected addPrefix(prefix: string): void {
    const sub = this.#nc.subscribe(subjectFilterOf(this.tenantId, prefix), {
      callback: (err, msg) => {
        if (err) return void (this.closed || this.logger.warn(`a NATS subscription stopped: ${err.message}`, { prefix }));
        this.#onMessage(prefix, msg);
      },
    });
    this.#subs.set(prefix, sub);
  }

  protected removePrefix(prefix: string): void {
    this.#subs.get(prefix)?.unsubscribe();
    this.#subs.delete(prefix);
  }

  /** A PING/PONG round trip: the server has processed every SUB sent before it. */
  protected async settle(): Promise<void> {
    try {
      await this.#nc.flush();
    } catch (e) {
      throw this.closed ? new AicoDataError('CLOSED', 'the message bus was closed') : natsError(e, 'subscribing');
    }
  }

  /**
   * Reads the change events matching `pattern` (within the durable domains) through the durable
   * JetStream consumer `durable`: created on first use, it remembers what was acknowledged, so
   * events published while nobody consumed are delivered when `consume` is called again (also
   * from another process). An event is acknowledged after `handler` resolves; when it throws or
   * rejects, the event is delivered again later (at-least-once: drop duplicates by
   * `metadata.message_id`). A malformed message is logged and never delivered again.
   * `INVALID_ARGUMENT` for a pattern outside the durable domains or a bad durable name.
   */
  async consume(pattern: string, durable: string, handler: MessageHandler, options: NatsConsumeOptions = {}): Promise<Subscription> {
    if (this.closed) throw new AicoDataError('CLOSED', 'the message bus was closed');
    const compiled = compilePattern(pattern);
    if (typeof handler !== 'function') throw invalidArgument('handler must be a function', { field: 'handler' });
    if (typeof durable !== 'string' || !NAME.test(durable)) throw invalidArgument('durable must be 1-64 characters of [A-Za-z0-9_-]', { field: 'durable' });
    const domain = compiled.prefix.split('/')[0]!;
    if (this.eventStream === undefined || !this.#durable.has(domain) || !compiled.prefix.includes('/')) {
      throw invalidArgument(`${pattern} is not within the durable domains (${[...this.#durable].join(', ') || 'none'}): only change events are stored`, { field: 'pattern' });
    }
    const ackWaitMs = options.ackWaitMs ?? 30_000;
    const maxDeliver = options.maxDeliver ?? 20;
    if (!Number.isFinite(ackWaitMs) || ackWaitMs < 100) throw invalidArgument('ackWaitMs must be at least 100', { field: 'ackWaitMs' });
    if (!Number.isInteger(maxDeliver) || (maxDeliver < 1 && maxDeliver !== -1)) throw invalidArgument('maxDeliver must be a positive integer or -1', { field: 'maxDeliver' });
    const { AckPolicy, DeliverPolicy } = natsJetstream();
    const { nanos } = natsCore();
    const config = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: subjectFilterOf(this.tenantId, compiled.prefix),
      ack_wait: nanos(ackWaitMs),
      max_deliver: maxDeliver,
    };
    let consumer: Consumer;
    let messages: ConsumerMessages;
    try {
      const jsm = await this.#jsm();
      try {
        await jsm.consumers.add(this.eventStream, config);
      } catch (e) {
        // It exists with another configuration (e.g. another ack wait): take the new one.
        if (!/already exists|exists/i.test((e as Error).message)) throw e;
        await jsm.consumers.update(this.eventStream, durable, { ack_wait: config.ack_wait, max_deliver: maxDeliver, filter_subject: config.filter_subject });
      }
      consumer = await this.#js.consumers.get(this.eventStream, durable);
      messages = await consumer.consume({ max_messages: 256 });
    } catch (e) {
      throw natsError(e, `opening the consumer ${durable}`);
    }
    this.#consumers.add(messages);
    let active = true;
    // Not awaited by unsubscribe or close: a handler still running then simply goes unacknowledged.
    void (async () => {
      for await (const m of messages) {
        if (!active) break;
        await this.#deliverDurable(m, compiled.matches, handler);
      }
    })().catch((e) => {
      if (!this.closed && active) this.logger.warn(`the JetStream consumer ${durable} stopped: ${natsError(e, durable).message}`, { durable });
    });
    return {
      pattern,
      unsubscribe: async () => {
        if (!active) return;
        active = false;
        this.#consumers.delete(messages);
        // close() resolves only when the loop is done, which a handler still running delays; it
        // drops the pull's inbox at once, and the flush makes sure the server saw that, so an
        // event published from now on is not handed to this stale pull (and held for ackWait).
        void messages.close().catch(() => undefined);
        await this.#nc.flush().catch(() => undefined);
      },
    };
  }

  async #deliverDurable(m: JsMsg, matches: (topic: string) => boolean, handler: MessageHandler): Promise<void> {
    const topic = topicOf(this.tenantId, m.subject);
    const envelope = topic === undefined ? undefined : this.decodeOrReject(topic, m.data);
    if (envelope === undefined) return this.#settleMsg(() => m.term()); // never valid: do not deliver it again
    if (!matches(topic!)) return this.#settleMsg(() => m.ack()); // within the consumer's filter, outside the pattern
    try {
      await handler(envelope);
    } catch (e) {
      this.countHandlerError(topic!, e);
      // Back off: 100 ms, 200 ms, ... up to 30 s between deliveries of a failing event.
      return this.#settleMsg(() => m.nak(Math.min(100 * 2 ** (m.info.deliveryCount - 1), 30_000)));
    }
    this.#settleMsg(() => m.ack());
  }

  /** Acks (or naks) unless the connection is gone: the server then redelivers after the ack wait. */
  #settleMsg(f: () => void): void {
    if (this.closed) return;
    try {
      f();
    } catch (e) {
      this.logger.warn(`could not acknowledge a JetStream message: ${natsError(e, 'ack').message}`, {});
    }
  }

  /** Deletes the durable consumer `durable` (what it had not acknowledged is forgotten). Idempotent. */
  async deleteConsumer(durable: string): Promise<void> {
    if (typeof durable !== 'string' || !NAME.test(durable)) throw invalidArgument('durable must be 1-64 characters of [A-Za-z0-9_-]', { field: 'durable' });
    if (this.eventStream === undefined) return;
    try {
      await (await this.#jsm()).consumers.delete(this.eventStream, durable);
    } catch (e) {
      if (!/not found/i.test((e as Error).message)) throw natsError(e, `deleting the consumer ${durable}`);
    }
  }

  protected async closeTransport(): Promise<void> {
    for (const m of this.#consumers) void m.close().catch(() => undefined);
    this.#consumers.clear();
    await this.#nc.close().catch(() => undefined);
  }
}

/**
 * Connects to a NATS server (or cluster) and resolves once the bus works: the connection is up,
 * this client's inbox subscribed and, with durable domains, the event stream exists.
 * `NOT_AUTHORIZED` when the server refuses the credentials, `UNAVAILABLE` when no server
 * answers, `TIMEOUT` when connecting takes longer than `connectTimeoutMs`, `INVALID_ARGUMENT`
 * for bad options and for missing credentials (unless `insecureNoAuth: true`).
 */
export async function connectNatsBus(options: NatsBusOptions): Promise<NatsBus> {
  if (options === null || typeof options !== 'object') throw invalidArgument('connectNatsBus takes an options object');
  const servers = typeof options.servers === 'string' ? [options.servers] : options.servers;
  if (!Array.isArray(servers) || servers.length === 0 || !servers.every((s) => typeof s === 'string' && /^(nats:\/\/)?[^\s/]+:\d+$/.test(s))) {
    throw invalidArgument('servers must be NATS URLs such as nats://127.0.0.1:4222', { field: 'servers' });
  }
  const noAuth = options.insecureNoAuth === true;
  if (!noAuth) {
    for (const k of ['user', 'password'] as const) {
      if (typeof options[k] !== 'string' || options[k]!.length === 0) {
        throw invalidArgument(`the NATS bus authenticates: ${k} is missing (generateNatsCredentials / data.natsCredentials, or insecureNoAuth: true)`, { field: k });
      }
    }
  }
  const tenant = requireTenant(options.tenantId ?? 'default');
  const durable = options.durableDomains ?? ['data', 'sync'];
  if (!Array.isArray(durable) || !durable.every((d) => typeof d === 'string' && DOMAIN.test(d))) throw invalidArgument('durableDomains must be topic domains such as "data"', { field: 'durableDomains' });
  const stream = durable.length === 0 ? undefined : (options.eventStream ?? `AICO_DATA_EVENTS_${tenant}`);
  if (stream !== undefined && !NAME.test(stream)) throw invalidArgument('eventStream must be 1-64 characters of [A-Za-z0-9_-]', { field: 'eventStream' });
  const timeout = options.connectTimeoutMs ?? 5000;
  if (!Number.isFinite(timeout) || timeout <= 0) throw invalidArgument('connectTimeoutMs must be a positive number', { field: 'connectTimeoutMs' });
  let nc: NatsConnection;
  try {
    nc = await natsCore().connect({
      servers: [...servers],
      timeout,
      name: options.source ?? 'aico-data',
      ...(noAuth ? {} : { user: options.user!, pass: options.password!, inboxPrefix: natsInboxPrefix(options.user) }),
      // Keep reconnecting (a restarted or failed-over server); requests still time out on their own.
      maxReconnectAttempts: -1,
    });
  } catch (e) {
    throw natsError(e, 'the connection');
  }
  let bus: NatsBus;
  try {
    bus = new NatsBus(nc, options, tenant, durable, stream);
  } catch (e) {
    await nc.close().catch(() => undefined);
    throw e;
  }
  try {
    await bus.ensureStream(options);
    await nc.flush();
  } catch (e) {
    await bus.close();
    throw natsError(e, 'setting up the bus');
  }
  return bus;
}
