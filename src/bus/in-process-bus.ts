/**
 * The default bus: in-process, no sockets. Messages are serialized like on the wire (so a
 * payload that would not survive ZeroMQ fails here too) and delivered asynchronously, after
 * `publish` returns, in publish order.
 */
import { BaseBus, type BusOptions } from './base-bus.js';
import type { MessageBus } from './message-bus.js';

/**
 * Connects in-process buses the way a broker connects ZeroMQ clients: what one publishes,
 * every bus on the hub (itself included) receives.
 */
export class InProcessHub {
  readonly #members = new Set<InProcessBus>();
  #queue: [string, Uint8Array][] = [];
  #scheduled = false;

  /** @internal */
  join(bus: InProcessBus): void {
    this.#members.add(bus);
  }
  /** @internal */
  leave(bus: InProcessBus): void {
    this.#members.delete(bus);
  }

  /** @internal Queues one message for every member. */
  post(topic: string, data: Uint8Array): void {
    this.#queue.push([topic, data]);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    const batch = this.#queue;
    this.#queue = [];
    this.#scheduled = false;
    for (const [topic, data] of batch) {
      for (const bus of this.#members) bus.deliver(topic, data);
    }
  }
}

/** Options of {@link InProcessBus}. */
export interface InProcessBusOptions extends BusOptions {
  /** The hub to join (default: a new one of its own). */
  readonly hub?: InProcessHub;
}

/** The in-process {@link MessageBus}. */
export class InProcessBus extends BaseBus implements MessageBus {
  /** The hub this bus is on; pass it to another bus (or use {@link InProcessBus.fork}) to talk to it. */
  readonly hub: InProcessHub;
  #prefixes = new Set<string>();

  constructor(options: InProcessBusOptions = {}) {
    super(options);
    this.hub = options.hub ?? new InProcessHub();
    this.hub.join(this);
  }

  /**
   * Another bus on the same hub with its own `source`, like a second client of one broker. It
   * uses this bus's codec unless `options.codec` says otherwise (one hub, one wire format).
   */
  fork(source: string, options: Omit<InProcessBusOptions, 'hub' | 'source'> = {}): InProcessBus {
    return new InProcessBus({ codec: this.codec, ...options, source, hub: this.hub });
  }

  /**
   * Hands a raw `[topic, bytes]` message to every bus on the hub, as a socket would: what is not
   * a well-formed envelope is dropped and logged by each receiver. For adapters and tests.
   */
  injectFrames(topic: string, data: Uint8Array): void {
    this.hub.post(topic, data);
  }

  /** @internal Called by the hub. */
  deliver(topic: string, data: Uint8Array): void {
    for (const p of this.#prefixes) {
      if (topic.startsWith(p)) {
        this.receive(topic, data);
        return;
      }
    }
  }

  protected async send(topic: string, data: Buffer): Promise<void> {
    this.hub.post(topic, data);
  }
  protected addPrefix(prefix: string): void {
    this.#prefixes.add(prefix);
  }
  protected removePrefix(prefix: string): void {
    this.#prefixes.delete(prefix);
  }
  protected async settle(): Promise<void> {}
  protected async closeTransport(): Promise<void> {
    this.hub.leave(this);
    this.#prefixes.clear();
  }
}
