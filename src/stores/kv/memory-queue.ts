/** The queue of the in-memory store: same semantics as the RocksDB queue, not durable. */
import { invalidArgument } from '../../errors.js';
import { encodeJson, payloadBytes } from './json.js';
import { checkTopic, millis, valueCopy } from './limits.js';
import { deliveryId, positiveCount } from './queue.js';
import type { DeadLetter, KvEnqueueOptions, KvQueueLike, LeasedMessage, QueueDepth } from './types.js';

interface Message {
  seq: number;
  payload: Buffer;
  attempts: number;
  maxAttempts: number;
  enqueuedAt: number;
  visibleAt: number;
  leased: boolean;
}

const ID = /^(.+)#(\d+)\.(\d+)$/s;

export class MemoryQueue implements KvQueueLike {
  readonly #topics = new Map<string, Message[]>();
  readonly #dead = new Map<string, Array<Message & { diedAt: number }>>();
  readonly #check: () => void;
  readonly #maxAttempts: number;
  #nextSeq = 1;

  /** @internal */
  constructor(check: () => void, maxAttempts: number) {
    this.#check = check;
    this.#maxAttempts = maxAttempts;
  }

  /** Drops every message (`clear('queue')`). */
  clear(): void {
    this.#topics.clear();
    this.#dead.clear();
  }

  enqueue(topic: string, payload: Uint8Array | string, options?: KvEnqueueOptions): number {
    return this.enqueueMany(topic, [payload], options)[0]!;
  }

  async enqueueAsync(topic: string, payload: Uint8Array | string, options?: KvEnqueueOptions): Promise<number> {
    return this.enqueue(topic, payload, options);
  }

  enqueueMany(topic: string, payloads: ReadonlyArray<Uint8Array | string>, options?: KvEnqueueOptions): number[] {
    this.#check();
    checkTopic(topic);
    if (!Array.isArray(payloads)) throw invalidArgument('payloads must be an array');
    const copies = payloads.map((p, i) => valueCopy(payloadBytes(p), `payload ${i + 1}`));
    const maxAttempts = options?.maxAttempts ?? this.#maxAttempts;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw invalidArgument('maxAttempts must be at least 1');
    const now = Date.now();
    const visibleAt = now + millis(options?.delayMs ?? 0, 'delayMs');
    const list = this.#topics.get(topic) ?? [];
    this.#topics.set(topic, list);
    return copies.map((payload) => {
      const seq = this.#nextSeq++;
      list.push({ seq, payload, attempts: 0, maxAttempts, enqueuedAt: now, visibleAt, leased: false });
      return seq;
    });
  }

  async enqueueManyAsync(topic: string, payloads: ReadonlyArray<Uint8Array | string>, options?: KvEnqueueOptions): Promise<number[]> {
    return this.enqueueMany(topic, payloads, options);
  }

  enqueueJson(topic: string, value: unknown, options?: KvEnqueueOptions): number {
    return this.enqueue(topic, encodeJson(value), options);
  }

  lease(topic: string, max: number, visibilityMs: number): LeasedMessage[] {
    this.#check();
    checkTopic(topic);
    positiveCount(max, 'max');
    const vis = millis(visibilityMs, 'visibilityMs');
    if (vis < 1) throw invalidArgument('lease needs a visibility timeout of at least 1 ms');
    const now = Date.now();
    const out: LeasedMessage[] = [];
    const list = this.#topics.get(topic) ?? [];
    for (const m of [...list]) {
      if (out.length >= max) break;
      if (m.visibleAt > now) continue;
      if (m.attempts >= m.maxAttempts) {
        this.#bury(topic, m, now);
        continue;
      }
      m.attempts++;
      m.leased = true;
      m.visibleAt = now + vis;
      out.push({
        id: `${topic}#${m.seq}.${m.attempts}`,
        topic,
        seq: m.seq,
        attempt: m.attempts,
        payload: Buffer.from(m.payload),
        enqueuedAt: m.enqueuedAt,
        leaseUntil: m.visibleAt,
      });
    }
    return out;
  }

  async leaseAsync(topic: string, max: number, visibilityMs: number): Promise<LeasedMessage[]> {
    return this.lease(topic, max, visibilityMs);
  }

  ack(id: string | LeasedMessage): boolean {
    return this.#settle(id, (_topic, m, list) => {
      list.splice(list.indexOf(m), 1);
    });
  }

  async ackAsync(id: string | LeasedMessage): Promise<boolean> {
    return this.ack(id);
  }

  nack(id: string | LeasedMessage, delayMs = 0): boolean {
    const delay = millis(delayMs, 'ms');
    return this.#settle(id, (topic, m, _list, now) => {
      if (m.attempts >= m.maxAttempts) return this.#bury(topic, m, now);
      m.leased = false;
      m.visibleAt = now + delay;
    });
  }

  extend(id: string | LeasedMessage, visibilityMs: number): boolean {
    const vis = millis(visibilityMs, 'ms');
    if (vis < 1) throw invalidArgument('extend needs a visibility timeout of at least 1 ms');
    return this.#settle(id, (_topic, m, _list, now) => {
      m.visibleAt = now + vis;
    });
  }

  #settle(id: string | LeasedMessage, f: (topic: string, m: Message, list: Message[], now: number) => void): boolean {
    this.#check();
    const text = deliveryId(id);
    const match = typeof text === 'string' ? ID.exec(text) : null;
    if (!match) throw invalidArgument(`${JSON.stringify(text)} is not a queue message id (<topic>#<seq>.<attempt>)`);
    const [, topic, seq, attempt] = match;
    checkTopic(topic);
    const list = this.#topics.get(topic!) ?? [];
    const m = list.find((x) => x.seq === Number(seq));
    if (!m?.leased || m.attempts !== Number(attempt)) return false;
    f(topic!, m, list, Date.now());
    return true;
  }

  #bury(topic: string, m: Message, now: number): void {
    const list = this.#topics.get(topic)!;
    list.splice(list.indexOf(m), 1);
    const dead = this.#dead.get(topic) ?? [];
    this.#dead.set(topic, dead);
    dead.push({ ...m, leased: false, diedAt: now });
    dead.sort((a, b) => a.seq - b.seq);
  }

  deadLetters(topic: string, limit?: number): DeadLetter[] {
    this.#check();
    checkTopic(topic);
    const n = limit === undefined ? Infinity : positiveCount(limit, 'limit');
    return (this.#dead.get(topic) ?? []).slice(0, n).map((d) => ({
      topic,
      seq: d.seq,
      attempts: d.attempts,
      payload: Buffer.from(d.payload),
      enqueuedAt: d.enqueuedAt,
      diedAt: d.diedAt,
    }));
  }

  redrive(topic: string): number {
    this.#check();
    checkTopic(topic);
    const dead = this.#dead.get(topic) ?? [];
    this.#dead.delete(topic);
    const list = this.#topics.get(topic) ?? [];
    this.#topics.set(topic, list);
    const now = Date.now();
    for (const d of dead) list.push({ seq: d.seq, payload: d.payload, attempts: 0, maxAttempts: d.maxAttempts, enqueuedAt: d.enqueuedAt, visibleAt: now, leased: false });
    list.sort((a, b) => a.seq - b.seq);
    return dead.length;
  }

  depth(topic: string): QueueDepth {
    this.#check();
    checkTopic(topic);
    const now = Date.now();
    const list = this.#topics.get(topic) ?? [];
    const ready = list.filter((m) => m.visibleAt <= now).length;
    return { ready, waiting: list.length - ready, dead: (this.#dead.get(topic) ?? []).length };
  }
}
