/**
 * The ZeroMQ adapter for AICO's real bus: a PUB socket connected to the broker's XSUB side, a
 * SUB socket connected to its XPUB side, and a DEALER connected to its request ROUTER. Each
 * message is two frames, the topic then the envelope; a request delivered to handlers carries a
 * third, the route of the requester's connection, and the response goes back on that route
 * through the broker to the requester alone. SUB sockets filter by byte prefix: patterns
 * subscribe to their literal prefix and the exact match is done here.
 *
 * Every socket is a CURVE client of the broker (its public key, this client's key pair); the
 * broker admits only allowed client keys (see `./README.md`). Plaintext only with
 * `insecurePlaintext: true`.
 */
import { randomUUID } from 'node:crypto';
import type { Dealer, Publisher, Subscriber, Socket } from 'zeromq';
import { zeromq } from '../util/zeromq.js';
import { AicoDataError, invalidArgument, toAicoError } from '../errors.js';
import { BaseBus, type BusOptions } from './base-bus.js';
import { busKey, type BusKey } from './curve.js';
import type { MessageBus } from './message-bus.js';
import { REQUEST_FRAME, RESPONSE_FRAME } from './zmq-broker.js';

/** Options of {@link connectZmqBus}. */
export interface ZmqBusOptions extends BusOptions {
  /** The broker's XSUB endpoint, where publishers connect (upstream: `tcp://127.0.0.1:5555`). */
  readonly publishEndpoint: string;
  /** The broker's XPUB endpoint, where subscribers connect (upstream: `tcp://127.0.0.1:5556`). */
  readonly subscribeEndpoint: string;
  /**
   * The broker's request ROUTER (`broker.requestEndpoint`): requests go there and responses come
   * back only to their requester. Required unless `insecurePlaintext` (without it, requests and
   * responses are published, as upstream does, and every subscriber sees them).
   */
  readonly requestEndpoint?: string;
  /** How long connecting and each subscription may take to reach the broker (default 5000 ms). */
  readonly connectTimeoutMs?: number;
  /** The broker's CURVE public key (`broker.publicKey`). */
  readonly serverPublicKey?: BusKey;
  /** This client's CURVE key pair; the broker must list the public key in `allowedClients`. */
  readonly publicKey?: BusKey;
  readonly secretKey?: BusKey;
  /** No authentication, no encryption (a broker started with `insecurePlaintext: true`). */
  readonly insecurePlaintext?: boolean;
}

interface CurveClient {
  readonly curveServerKey: string;
  readonly curvePublicKey: string;
  readonly curveSecretKey: string;
}

// Probe topics are not AICO topics: they never reach subscribers' handlers.
const PROBE = '_aico/probe/';

/** The ZeroMQ {@link MessageBus}. Create it with {@link connectZmqBus}. */
export class ZmqBus extends BaseBus implements MessageBus {
  readonly #pub: Publisher;
  readonly #sub: Subscriber;
  readonly #dealer: Dealer | undefined;
  #dealerSending: Promise<void> = Promise.resolve();
  #dealerReceiving: Promise<void> = Promise.resolve();
  readonly #id = randomUUID();
  readonly #timeoutMs: number;
  #sending: Promise<void> = Promise.resolve();
  #probes = new Map<string, () => void>();
  #probeSeq = 0;
  #receiving: Promise<void> = Promise.resolve();

  /** @internal Use {@link connectZmqBus}. */
  constructor(options: ZmqBusOptions, curve: CurveClient | undefined) {
    super(options);
    this.#timeoutMs = options.connectTimeoutMs ?? 5000;
    // linger 0: close never waits for unsent messages to a broker that may be gone.
    this.#pub = new (zeromq().Publisher)({ linger: 0, ...curve });
    this.#sub = new (zeromq().Subscriber)({ linger: 0, ...curve });
    this.#pub.connect(options.publishEndpoint);
    this.#sub.connect(options.subscribeEndpoint);
    if (options.requestEndpoint !== undefined) {
      this.#dealer = new (zeromq().Dealer)({ linger: 0, ...curve });
      this.#dealer.connect(options.requestEndpoint);
      this.#dealerReceiving = this.#dealerLoop(this.#dealer);
    }
    this.#receiving = this.#receiveLoop();
  }

  /** @internal The sockets, for the handshake watch of {@link connectZmqBus}. */
  sockets(): Socket[] {
    return [this.#pub, this.#sub, ...(this.#dealer ? [this.#dealer] : [])];
  }

  /** Responses to this client's requests: they come only here, never through the SUB socket. */
  async #dealerLoop(dealer: Dealer): Promise<void> {
    try {
      for await (const frames of dealer) {
        if (frames.length !== 2) continue;
        this.receive(frames[0]!.toString('utf8'), frames[1]!);
      }
    } catch (e) {
      if (!this.closed) this.logger.warn(`the ZeroMQ request socket stopped: ${toAicoError(e).message}`, {});
    }
  }

  #dealerSend(frames: (string | Buffer)[]): Promise<void> {
    const dealer = this.#dealer!;
    const next = this.#dealerSending.then(() => dealer.send(frames));
    this.#dealerSending = next.catch(() => undefined);
    return next.catch((e) => {
      throw this.closed ? new AicoDataError('CLOSED', 'the message bus was closed') : toAicoError(e);
    });
  }

  protected override sendRequest(topic: string, data: Buffer): Promise<void> {
    return this.#dealer ? this.#dealerSend([REQUEST_FRAME, topic, data]) : this.send(topic, data);
  }

  protected override sendResponse(route: string, topic: string, data: Buffer): Promise<void> {
    return this.#dealer ? this.#dealerSend([RESPONSE_FRAME, route, topic, data]) : this.send(topic, data);
  }

  async #receiveLoop(): Promise<void> {
    try {
      for await (const frames of this.#sub) {
        const topic = frames[0]?.toString('utf8') ?? '';
        if (topic.startsWith(PROBE)) {
          this.#probes.get(topic)?.();
          continue;
        }
        if (frames.length !== 2 && frames.length !== 3) {
          this.logger.warn(`dropped a message of ${frames.length} frames (want topic + envelope)`, { topic: topic.slice(0, 120), code: 'MALFORMED_MESSAGE' });
          this.receive(topic, Buffer.alloc(0)); // counts it as rejected
          continue;
        }
        // A third frame is the route of a request, added by the broker.
        this.receive(topic, frames[1]!, frames.length === 3 ? frames[2]!.toString('utf8') : undefined);
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
  protected settle(): Promise<void> {
    return this.probe(false);
  }

  /** @internal `viaRequestPath`: the probe goes out on the DEALER, which proves that path too. */
  async probe(viaRequestPath: boolean): Promise<void> {
    const probe = `${PROBE}${this.#id}/${++this.#probeSeq}`;
    let arrived = false;
    const done = new Promise<void>((r) => this.#probes.set(probe, () => ((arrived = true), r())));
    this.#sub.subscribe(probe);
    const deadline = Date.now() + this.#timeoutMs;
    try {
      while (!arrived) {
        if (this.closed) throw new AicoDataError('CLOSED', 'the message bus was closed');
        if (Date.now() > deadline) throw new AicoDataError('TIMEOUT', `the ZeroMQ broker did not answer within ${this.#timeoutMs} ms`);
        await (viaRequestPath && this.#dealer ? this.#dealerSend([REQUEST_FRAME, probe, Buffer.alloc(0)]) : this.send(probe, Buffer.alloc(0)));
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
    await this.#dealerSending;
    this.#pub.close();
    this.#dealer?.close();
    await this.#receiving;
    await this.#dealerReceiving;
  }
}

/**
 * Connects to an AICO ZeroMQ broker and resolves once messages flow through it. `NOT_AUTHORIZED`
 * when the broker refuses this client's key (or the server key is not the broker's), `TIMEOUT`
 * when the broker does not answer within `connectTimeoutMs`, `INVALID_ARGUMENT` without keys
 * (unless `insecurePlaintext: true`).
 */
export async function connectZmqBus(options: ZmqBusOptions): Promise<ZmqBus> {
  if (options === null || typeof options !== 'object') throw invalidArgument('connectZmqBus takes an options object');
  const plaintext = options.insecurePlaintext === true;
  const endpoints = plaintext && options.requestEndpoint === undefined ? (['publishEndpoint', 'subscribeEndpoint'] as const) : (['publishEndpoint', 'subscribeEndpoint', 'requestEndpoint'] as const);
  for (const k of endpoints) {
    if (typeof options[k] !== 'string' || !/^(tcp|ipc|inproc):\/\/\S+$/.test(options[k]!)) {
      throw invalidArgument(`${k} must be a ZeroMQ endpoint such as tcp://127.0.0.1:5555 (the broker's ${k})`, { field: k });
    }
  }
  let curve: CurveClient | undefined;
  if (!plaintext) {
    for (const k of ['serverPublicKey', 'publicKey', 'secretKey'] as const) {
      if (options[k] === undefined) throw invalidArgument(`the ZeroMQ bus authenticates with CURVE: ${k} is missing (or pass insecurePlaintext: true)`, { field: k });
    }
    curve = { curveServerKey: busKey(options.serverPublicKey, 'serverPublicKey'), curvePublicKey: busKey(options.publicKey, 'publicKey'), curveSecretKey: busKey(options.secretKey, 'secretKey') };
  }
  const bus = new ZmqBus(options, curve);
  const refused = watchHandshakes(bus.sockets());
  try {
    await Promise.race([bus.probe(true), refused.failed]);
  } catch (e) {
    await bus.close();
    throw e;
  } finally {
    refused.stop();
  }
  return bus;
}

/**
 * Rejects `failed` with `NOT_AUTHORIZED` on the first failed CURVE handshake of one of `sockets`
 * (ZAP said no, or the server key is wrong), until `stop()`.
 */
function watchHandshakes(sockets: Socket[]): { failed: Promise<never>; stop(): void } {
  let fail: (e: AicoDataError) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined);
  let watching = true;
  for (const socket of sockets) {
    const observer = socket.events;
    void (async () => {
      try {
        // An own loop rather than `on()`, which reports the end of the monitor as an unhandled
        // error. The observer is never closed by hand: closing a zeromq.js observer (even after
        // its socket) broke every broker started later in the same process; it ends with its socket.
        for await (const event of observer) {
          if (watching && (event.type === 'handshake:error:auth' || event.type === 'handshake:error:protocol')) {
            fail(new AicoDataError('NOT_AUTHORIZED', "the ZeroMQ broker refused this client: its public key is not allowed, or serverPublicKey is not the broker's", { event: event.type }));
          }
        }
      } catch {
        // The socket was closed.
      }
    })();
  }
  return { failed, stop: () => void (watching = false) };
}
