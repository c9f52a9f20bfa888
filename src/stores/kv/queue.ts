/** The durable queue of the RocksDB store (see {@link KvQueueLike}). */
import { invalidArgument, toAicoError } from '../../errors.js';
import type { NativeKv } from '../../native/index.js';
import { encodeJson, payloadBytes } from './json.js';
import { checkTopic } from './limits.js';
import type { DeadLetter, KvEnqueueOptions, KvQueueLike, LeasedMessage, QueueDepth } from './types.js';

/** A positive whole count (`max`, `limit`). */
export function positiveCount(n: unknown, what: string): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 0xffff_ffff) throw invalidArgument(`${what} must be a positive integer`);
  return n;
}

/** The delivery id of a message or id. */
export function deliveryId(m: string | LeasedMessage): string {
  const id: unknown = typeof m === 'string' ? m : m?.id;
  if (typeof id !== 'string') throw invalidArgument('a delivery id (string) or a leased message is required');
  return id;
}

export class KvQueue implements KvQueueLike {
  readonly #n: NativeKv;

  /** @internal */
  constructor(n: NativeKv) {
    this.#n = n;
  }

  enqueue(topic: string, payload: Uint8Array | string, options?: KvEnqueueOptions): number {
    return this.enqueueMany(topic, [payload], options)[0]!;
  }

  async enqueueAsync(topic: string, payload: Uint8Array | string, options?: KvEnqueueOptions): Promise<number> {
    return (await this.enqueueManyAsync(topic, [payload], options))[0]!;
  }

  enqueueMany(topic: string, payloads: ReadonlyArray<Uint8Array | string>, options?: KvEnqueueOptions): number[] {
    try {
      return this.#n.enqueue(checkTopic(topic), payloads.map(payloadBytes), options);
    } catch (e) {
      throw toAicoError(e);
    }
  }

  async enqueueManyAsync(topic: string, payloads: ReadonlyArray<Uint8Array | string>, options?: KvEnqueueOptions): Promise<number[]> {
    try {
      return (await this.#n.enqueueAsync(checkTopic(topic), payloads.map(payloadBytes), options)) as number[];
    } catch (e) {
      throw toAicoError(e);
    }
  }

  enqueueJson(topic: string, value: unknown, options?: KvEnqueueOptions): number {
    return this.enqueue(topic, encodeJson(value), options);
  }

  lease(topic: string, max: number, visibilityMs: number): LeasedMessage[] {
    try {
      return this.#n.lease(checkTopic(topic), positiveCount(max, 'max'), visibilityMs) as LeasedMessage[];
    } catch (e) {
      throw toAicoError(e);
    }
  }

  async leaseAsync(topic: string, max: number, visibilityMs: number): Promise<LeasedMessage[]> {
    try {
      return (await this.#n.leaseAsync(checkTopic(topic), positiveCount(max, 'max'), visibilityMs)) as LeasedMessage[];
    } catch (e) {
      throw toAicoError(e);
    }
  }

  ack(id: string | LeasedMessage): boolean {
    return this.#settle(id, 'ack');
  }

  async ackAsync(id: string | LeasedMessage): Promise<boolean> {
    try {
      return (await this.#n.settleAsync(deliveryId(id), 'ack')) as boolean;
    } catch (e) {
      throw toAicoError(e);
    }
  }

  nack(id: string | LeasedMessage, delayMs = 0): boolean {
    return this.#settle(id, 'nack', delayMs);
  }

  extend(id: string | LeasedMessage, visibilityMs: number): boolean {
    return this.#settle(id, 'extend', visibilityMs);
  }

  #settle(id: string | LeasedMessage, how: 'ack' | 'nack' | 'extend', ms?: number): boolean {
    try {
      return this.#n.settle(deliveryId(id), how, ms);
    } catch (e) {
      throw toAicoError(e);
    }
  }

  deadLetters(topic: string, limit?: number): DeadLetter[] {
    try {
      return this.#n.deadLetters(checkTopic(topic), limit === undefined ? undefined : positiveCount(limit, 'limit'));
    } catch (e) {
      throw toAicoError(e);
    }
  }

  redrive(topic: string): number {
    try {
      return this.#n.redrive(checkTopic(topic));
    } catch (e) {
      throw toAicoError(e);
    }
  }

  depth(topic: string): QueueDepth {
    try {
      return this.#n.depth(checkTopic(topic));
    } catch (e) {
      throw toAicoError(e);
    }
  }
}
