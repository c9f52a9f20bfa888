/**
 * The ZeroMQ adapter for AICO's real bus: a PUB socket connected to the broker's XSUB side and
 * a SUB socket connected to its XPUB side; each message is two frames, the topic then the
 * envelope. SUB sockets filter by byte prefix: patterns subscribe to their literal prefix and
 * the exact match is done here.
 */
import { randomUUID } from 'node:crypto';
import { Publisher, Subscriber } from 'zeromq';
import { AicoDataError, invalidArgument, toAicoError } from '../errors.js';
import { BaseBus, type BusOptions } from './base-bus.js';
import type { MessageBus } from './message-bus.js';

/** Options of {@link connectZmqBus}. */
export interface ZmqBusOptions extends BusOptions {
  /** The broker's XSUB endpoint, where publishers connect (upstream: `tcp://127.0.0.1:5555`). */
  readonly publishEndpoint: string;
  /** The broker's XPUB endpoint, where subscribers connect (upstream: `tcp://127.0.0.1:5556`). */
  readonly subscribeEndpoint: string;
  /** How long connecting and each subscription may take to reach the broker (default 5000 ms). */
  readonly connectTimeoutMs?: number;
}

// Probe topics are not AICO topics: they never reach subscribers' handlers.
const PROBE = '_aico/probe/';

/** The ZeroMQ {@link MessageBus}. Create it with {@link connectZmqBus}. */
export class ZmqBus extends BaseBus implements MessageBus {
  readonly #pub: Publisher;
  readonly #sub: Subscriber;
  readonly #id = randomUUID();
  readonly #timeoutMs: number;
  #sending: Promise<void> = Promise.resolve();
  #probes = new Map<string, () => void>();
  #probeSeq = 0;
  #receiving: Promise<void> = Promise.resolve();

  /** @internal Use {@link connectZmqBus}. */
  constructor(options: ZmqBusOptions) {
    super(options);
    this.#timeoutMs = options.connectTimeoutMs ?? 5000;
    // linger 0: close never waits for unsent messages to a broker that may be gone.
    this.#pub = new Publisher({ linger: 0 });
    this.#sub = new Subscriber({ linger: 0 });
    this.#pub.connect(options.publishEndpoint);
    this.#sub.connect(options.subscribeEndpoint);
    this.#receiving = this.#receiveLoop();
  }

  async #receiveLoop(): Promise<void> {
    try {
      for await (const frames of this.#sub) {
        const topic = frames[0]?.toString('utf8') ?? '';
        if (topic.startsWith(PROBE)) {
          this.#probes.get(topic)?.();
          continue;
        }
        if (frames.length !== 2) {
          this.logger.warn(`dropped a message of ${frames.length} frames (want topic + envelope)`, { topic: topic.slice(0, 120), code: 'MALFORMED_MESSAGE' });
          this.receive(topic, Buffer.alloc(0)); // counts it as rejected
          continue;
        }
        this.receive(topic, frames[1]!);
      }
    } catch (e) {
      if (!this.closed) this.logger.warn(`the ZeroMQ subscriber stopped: ${toAicoError(e).message}`, {});
    }
  }

  protected send(topic: string, data: Buffer): Promise<void> {
    // zeromq.js allows one send in flight per socket: chain them.
    const next = this.#sending.then(() => this.#pub.send([topic, data]));
    this.#sending = next.catch(() => undefined);
    return next.catch((e) => {
      throw this.closed ? new AicoDataError('CLOSED', 'the message bus was closed') : toAicoError(e);
    });
  }

  protected addPrefix(prefix: string): void {
    this.#sub.subscribe(prefix);
  }
  protected removePrefix(prefix: string): void {
    this.#sub.unsubscribe(prefix);
  }

  /**
   * Subscriptions travel asynchronously SUB -> broker -> publishers. A probe on a fresh topic,
   * subscribed after them and sent until it comes back through the broker, shows that the
   * broker has them and forwarded them upstream.
   */
  protected async settle(): Promise<void> {
    const probe = `${PROBE}${this.#id}/${++this.#probeSeq}`;
    let arrived = false;
    const done = new Promise<void>((r) => this.#probes.set(probe, () => ((arrived = true), r())));
    this.#sub.subscribe(probe);
    const deadline = Date.now() + this.#timeoutMs;
    try {
      while (!arrived) {
        if (this.closed) throw new AicoDataError('CLOSED', 'the message bus was closed');
        if (Date.now() > deadline) throw new AicoDataError('TIMEOUT', `the ZeroMQ broker did not answer within ${this.#timeoutMs} ms`);
        await this.send(probe, Buffer.alloc(0));
        await Promise.race([done, new Promise((r) => setTimeout(r, 10))]);
      }
    } finally {
      this.#probes.delete(probe);
      if (!this.closed) this.#sub.unsubscribe(probe);
    }
  }

  protected async closeTransport(): Promise<void> {
    this.#sub.close();
    await this.#sending;
    this.#pub.close();
    await this.#receiving;
  }
}

/**
 * Connects to an AICO ZeroMQ broker and resolves once messages flow through it
 * (`TIMEOUT` when the broker does not answer within `connectTimeoutMs`).
 */
export async function connectZmqBus(options: ZmqBusOptions): Promise<ZmqBus> {
  if (options === null || typeof options !== 'object') throw invalidArgument('connectZmqBus takes an options object');
  for (const k of ['publishEndpoint', 'subscribeEndpoint'] as const) {
    if (typeof options[k] !== 'string' || !/^(tcp|ipc|inproc):\/\/\S+$/.test(options[k])) {
      throw invalidArgument(`${k} must be a ZeroMQ endpoint such as tcp://127.0.0.1:5555`, { field: k });
    }
  }
  const bus = new ZmqBus(options);
  try {
    await bus['settle']();
  } catch (e) {
    await bus.close();
    throw e;
  }
  return bus;
}
