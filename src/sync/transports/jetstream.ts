/**
 * A sync relay on NATS JetStream, for devices that are rarely on one network: every changeset
 * goes to one stream (`AICO_DATA_SYNC`, subjects `aicosync.<to>.<from>`), and each device reads
 * its own mailbox through its durable consumer, so a device offline for days gets what was sent
 * meanwhile when it returns (within the stream's retention).
 *
 * The relay sees only what the changeset format leaves in the clear (sealed bodies, device ids
 * in the signed header) and opaque mailbox ids: `<to>` and `<from>` are keyed hashes the
 * directory computes (see `../jetstream-transports.ts`), never device or table names. The
 * message id for JetStream's duplicate detection is the changeset's SHA-256.
 *
 * A changeset larger than the relay's `max_payload` (1 MiB on a default nats-server; the
 * exporter fills up to 16 MiB) goes as numbered chunks, each framed with the whole changeset's
 * SHA-256, and is put together on receipt, checked against that hash (see `ChunkAssembler`).
 *
 * The directory decides who is a peer: changesets from a mailbox that is not a trusted peer's
 * (a revoked device's, a forged one) are acknowledged and dropped, counted in `refused`, and
 * the consumers of revoked devices are deleted.
 */
import { createHash } from 'node:crypto';
import type { Consumer, JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { AicoDataError, invalidArgument, toAicoError } from '../../errors.js';
import { natsCore, natsInboxPrefix, natsJetstream } from '../../util/nats.js';
import { ensureLimitsStream } from '../../util/nats-stream.js';
import { MAX_CHANGESET_BYTES } from '../envelope.js';
import type { SyncTransport } from './types.js';

/** Who is who, in mailbox ids (keyed hashes: the relay cannot tell the devices behind them). */
export interface RelayDirectory {
  /** This device's mailbox. */
  readonly self: string;
  /** The mailbox of trusted peer `deviceId`, or undefined when it is not one. */
  mailboxOf(deviceId: string): Promise<string | undefined>;
  /** Mailboxes of the trusted peers now. */
  peers(): Promise<ReadonlySet<string>>;
  /** Mailboxes of revoked devices (their consumers are deleted). */
  revoked(): Promise<ReadonlySet<string>>;
}

/** Options of {@link JetStreamTransport.connect}. */
export interface JetStreamTransportOptions {
  /** NATS server URLs, e.g. `nats://relay.example:4222` (several: a cluster). */
  readonly servers: string | readonly string[];
  /** The relay account's user and password (the relay's operator gives them out). */
  readonly user?: string;
  readonly password?: string;
  /** Connect without credentials (a relay without authorization). */
  readonly insecureNoAuth?: boolean;
  /** The stream (default `AICO_DATA_SYNC`); created when missing. */
  readonly stream?: string;
  /** Changesets older than this are dropped by the stream (default 30 days). */
  readonly maxAgeMs?: number;
  /** The stream keeps at most this many bytes, dropping the oldest (default 1 GiB). */
  readonly maxBytes?: number;
  /** How long connecting and each relay call may take (default 10000 ms). */
  readonly timeoutMs?: number;
}

const MAILBOX = /^[0-9a-f]{32}$/;
const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const BATCH = 64;
/** Chunk framing: magic, SHA-256 of the whole changeset, index, count (u32 big-endian each). */
const CHUNK_MAGIC = Buffer.from('AICOCHK1');
const CHUNK_HEAD = CHUNK_MAGIC.length + 32 + 8;
/** Completed chunked sets remembered (redelivery comes within the consumer's ack wait). */
const DONE_KEPT = 4096;
/** Room left in a message for its headers (the message id) besides the chunk itself. */
const HEADER_ROOM = 1024;

function sha256(b: Uint8Array): Buffer {
  return createHash('sha256').update(b).digest();
}

/** Splits `changeset` into framed chunks that fit `maxPayload`. */
export function chunkChangeset(changeset: Uint8Array, maxPayload: number): Buffer[] {
  const room = maxPayload - CHUNK_HEAD - HEADER_ROOM;
  if (room < 1024) throw new AicoDataError('INVALID_ARGUMENT', `the relay's max_payload (${maxPayload} bytes) leaves no room for a changeset chunk`, { maxPayload });
  const hash = sha256(changeset);
  const count = Math.ceil(changeset.length / room);
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const head = Buffer.alloc(CHUNK_HEAD);
    CHUNK_MAGIC.copy(head, 0);
    hash.copy(head, CHUNK_MAGIC.length);
    head.writeUInt32BE(i, CHUNK_MAGIC.length + 32);
    head.writeUInt32BE(count, CHUNK_MAGIC.length + 36);
    out.push(Buffer.concat([head, changeset.subarray(i * room, (i + 1) * room)]));
  }
  return out;
}

/**
 * Puts chunked changesets together, per sender and changeset hash. Chunks may interleave with
 * other senders' messages and arrive twice (redelivery); a whole changeset is returned once,
 * and only when its bytes hash to what every chunk declared. Memory is bounded: what is
 * pending is at most twice the largest changeset, the oldest sets dropped first (a dropped or
 * unfinished set is resent by the sync engine, which sends what the peer still lacks).
 */
export class ChunkAssembler {
  readonly #pending = new Map<string, { parts: (Buffer | undefined)[]; have: number; bytes: number }>();
  /** Sets recently completed: their redelivered chunks must not start them again. */
  readonly #done = new Set<string>();
  #bytes = 0;
  /** Chunks that contradicted their set (count, size) or sets whose hash did not match. */
  rejected = 0;

  /** True when `data` is a chunk (else it is a whole changeset). */
  static isChunk(data: Uint8Array): boolean {
    return data.length >= CHUNK_HEAD && CHUNK_MAGIC.equals(Buffer.from(data.buffer, data.byteOffset, CHUNK_MAGIC.length));
  }

  /** Adds one chunk from mailbox `from`; returns the whole changeset when it is complete. */
  add(from: string, data: Uint8Array): Buffer | undefined {
    const b = Buffer.from(data.buffer, data.byteOffset, data.length);
    const hash = b.subarray(CHUNK_MAGIC.length, CHUNK_MAGIC.length + 32);
    const index = b.readUInt32BE(CHUNK_MAGIC.length + 32);
    const count = b.readUInt32BE(CHUNK_MAGIC.length + 36);
    const body = b.subarray(CHUNK_HEAD);
    const key = `${from}.${hash.toString('hex')}`;
    if (count < 2 || index >= count || count * body.length > 2 * MAX_CHANGESET_BYTES) {
      this.rejected++;
      return undefined;
    }
    if (this.#done.has(key)) return undefined;
    let set = this.#pending.get(key);
    if (!set) {
      set = { parts: new Array<Buffer | undefined>(count), have: 0, bytes: 0 };
      this.#pending.set(key, set);
    } else if (set.parts.length !== count) {
      this.rejected++;
      return undefined;
    }
    if (set.parts[index]) return undefined; // a redelivered chunk
    set.parts[index] = Buffer.from(body);
    set.have++;
    set.bytes += body.length;
    this.#bytes += body.length;
    if (set.bytes > MAX_CHANGESET_BYTES) {
      this.#drop(key);
      this.rejected++;
      return undefined;
    }
    if (set.have < count) {
      this.#bound();
      return undefined;
    }
    const whole = Buffer.concat(set.parts as Buffer[]);
    this.#drop(key);
    this.#done.add(key);
    if (this.#done.size > DONE_KEPT) this.#done.delete(this.#done.values().next().value!);
    if (!sha256(whole).equals(hash)) {
      this.rejected++;
      return undefined;
    }
    return whole;
  }

  /** Bytes held in unfinished sets. */
  get pendingBytes(): number {
    return this.#bytes;
  }

  #drop(key: string): void {
    const set = this.#pending.get(key);
    if (!set) return;
    this.#bytes -= set.bytes;
    this.#pending.delete(key);
  }

  #bound(): void {
    // Maps iterate in insertion order: the first keys are the oldest sets.
    for (const key of this.#pending.keys()) {
      if (this.#bytes <= 2 * MAX_CHANGESET_BYTES) return;
      this.#drop(key);
    }
  }
}

function relayError(e: unknown, what: string): AicoDataError {
  if (e instanceof AicoDataError) return e;
  // nats.js reports a publish nobody answered (no stream leader reachable, e.g. while a cluster
  // node is down) as "jetstream is not enabled", with the "no responders" error as its cause.
  const cause = (e as { cause?: Error })?.cause;
  const text = `${(e as Error)?.name ?? ''} ${(e as Error)?.message ?? String(e)} ${cause?.message ?? ''}`;
  if (/authoriz|authenticat|permission/i.test(text)) return new AicoDataError('NOT_AUTHORIZED', `the sync relay refused ${what}: ${(e as Error).message}`);
  if (/timeout|timed out/i.test(text)) return new AicoDataError('TIMEOUT', `${what}: the sync relay did not answer in time`);
  if (/refused|no responders|ECONN|connection|unavailable/i.test(text)) return new AicoDataError('UNAVAILABLE', `${what}: ${(e as Error).message}`);
  return toAicoError(e);
}

/** The JetStream {@link SyncTransport}. */
export class JetStreamTransport implements SyncTransport {
  readonly kind = 'jetstream';
  /** The stream's name. */
  readonly stream: string;
  /** Changesets received from mailboxes that are no trusted peer's (dropped). */
  refused = 0;

  /** Chunks or chunked changesets dropped as inconsistent (see `ChunkAssembler`). */
  get rejectedChunks(): number {
    return this.#chunks.rejected;
  }
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #dir: RelayDirectory;
  readonly #timeoutMs: number;
  readonly #deleted = new Set<string>();
  readonly #chunks = new ChunkAssembler();
  #consumer: Consumer | undefined;
  #closed = false;

  private constructor(nc: NatsConnection, jsm: JetStreamManager, dir: RelayDirectory, stream: string, timeoutMs: number) {
    this.#nc = nc;
    this.#jsm = jsm;
    this.#js = natsJetstream().jetstream(nc, { timeout: timeoutMs });
    this.#dir = dir;
    this.stream = stream;
    this.#timeoutMs = timeoutMs;
  }

  /** Connects, creates the stream when missing, and this device's durable consumer. */
  static async connect(options: JetStreamTransportOptions, dir: RelayDirectory): Promise<JetStreamTransport> {
    if (options === null || typeof options !== 'object') throw invalidArgument('the JetStream transport takes an options object');
    const servers = typeof options.servers === 'string' ? [options.servers] : options.servers;
    if (!Array.isArray(servers) || servers.length === 0 || !servers.every((s) => typeof s === 'string' && /^(nats:\/\/)?[^\s/]+:\d+$/.test(s))) {
      throw invalidArgument('servers must be NATS URLs such as nats://127.0.0.1:4222', { field: 'servers' });
    }
    if (options.insecureNoAuth !== true && (typeof options.user !== 'string' || typeof options.password !== 'string')) {
      throw invalidArgument('the sync relay authenticates: user and password are missing (or insecureNoAuth: true)', { field: 'user' });
    }
    const stream = options.stream ?? 'AICO_DATA_SYNC';
    if (!NAME.test(stream)) throw invalidArgument('stream must be 1-64 characters of [A-Za-z0-9_-]', { field: 'stream' });
    const timeoutMs = options.timeoutMs ?? 10_000;
    if (!MAILBOX.test(dir.self)) throw invalidArgument('the mailbox id must be 32 hex characters');
    let nc: NatsConnection;
    try {
      nc = await natsCore().connect({
        servers: [...servers],
        timeout: timeoutMs,
        name: 'aico-data-sync',
        ...(options.insecureNoAuth === true ? {} : { user: options.user!, pass: options.password!, inboxPrefix: natsInboxPrefix(options.user) }),
        maxReconnectAttempts: -1,
      });
    } catch (e) {
      throw relayError(e, 'the connection');
    }
    try {
      const jsm = await natsJetstream().jetstreamManager(nc, { timeout: timeoutMs });
      const t = new JetStreamTransport(nc, jsm, dir, stream, timeoutMs);
      await t.#ensureStream(options);
      await t.#ensureConsumer();
      return t;
    } catch (e) {
      await nc.close().catch(() => undefined);
      throw relayError(e, 'setting up the relay');
    }
  }

  async #ensureStream(options: JetStreamTransportOptions): Promise<void> {
    await ensureLimitsStream(this.#jsm, {
      name: this.stream,
      subjects: ['aicosync.>'],
      maxAgeMs: options.maxAgeMs ?? 30 * 24 * 3600_000,
      maxBytes: options.maxBytes ?? 1024 ** 3,
    });
  }

  /** The durable consumer of this device's mailbox: every sender, filtered by the directory on receipt. */
  async #ensureConsumer(): Promise<Consumer> {
    if (this.#consumer) return this.#consumer;
    const { AckPolicy, DeliverPolicy } = natsJetstream();
    const { nanos } = natsCore();
    const durable = `d${this.#dir.self}`;
    try {
      await this.#jsm.consumers.info(this.stream, durable);
    } catch (e) {
      if (!/not found/i.test((e as Error).message)) throw e;
      await this.#jsm.consumers.add(this.stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: `aicosync.${this.#dir.self}.*`,
        ack_wait: nanos(60_000),
        max_deliver: -1,
      });
    }
    return (this.#consumer = await this.#js.consumers.get(this.stream, durable));
  }

  #check(): void {
    if (this.#closed) throw new AicoDataError('CLOSED', 'the JetStream transport was closed');
  }

  async send(to: string, changeset: Uint8Array): Promise<void> {
    this.#check();
    const box = await this.#dir.mailboxOf(to);
    if (box === undefined) throw new AicoDataError('SYNC_UNTRUSTED', `device ${to} is not a trusted peer: nothing is sent to it`, { deviceId: to });
    const max = this.#nc.info?.max_payload ?? 0;
    await this.#revokeConsumers();
    const msgID = sha256(changeset).toString('hex');
    const subject = `aicosync.${box}.${this.#dir.self}`;
    try {
      if (max === 0 || changeset.length + HEADER_ROOM <= max) {
        await this.#js.publish(subject, changeset, { msgID, timeout: this.#timeoutMs });
      } else {
        // One by one, in order: each chunk stored before the next is sent.
        const chunks = chunkChangeset(changeset, max);
        for (let i = 0; i < chunks.length; i++) await this.#js.publish(subject, chunks[i]!, { msgID: `${msgID}.${i}`, timeout: this.#timeoutMs });
      }
    } catch (e) {
      throw this.#closed ? new AicoDataError('CLOSED', 'the JetStream transport was closed') : relayError(e, 'sending a changeset');
    }
  }

  /**
   * Every changeset waiting in this device's mailbox from a trusted peer, acknowledged before it
   * is returned: a crash between here and the import loses it at the relay, and the sync engine
   * resends what the peer then still lacks (version vectors).
   */
  async receive(): Promise<Buffer[]> {
    this.#check();
    await this.#revokeConsumers();
    const out: Buffer[] = [];
    try {
      const consumer = await this.#ensureConsumer();
      const peers = await this.#dir.peers();
      // One consumer info, then each delivery says how many are left after it.
      let pending = (await consumer.info()).num_pending;
      while (pending > 0) {
        const batch = await consumer.fetch({ max_messages: Math.min(pending, BATCH), expires: this.#timeoutMs });
        let last: JsMsg | undefined;
        for await (const m of batch) {
          const from = m.subject.slice(m.subject.lastIndexOf('.') + 1);
          if (!peers.has(from)) this.refused++;
          else if (!ChunkAssembler.isChunk(m.data)) out.push(Buffer.from(m.data));
          else {
            const whole = this.#chunks.add(from, m.data);
            if (whole) out.push(whole);
          }
          // Acks of one consumer are processed in order: the batch's last, confirmed, confirms all.
          last?.ack();
          last = m;
        }
        if (last === undefined) break; // none came within the timeout: what is left comes next time
        await last.ackAck();
        pending = last.info.pending;
      }
    } catch (e) {
      throw this.#closed ? new AicoDataError('CLOSED', 'the JetStream transport was closed') : relayError(e, 'receiving changesets');
    }
    return out;
  }

  /** Deletes the durable consumers of revoked devices (once each). */
  async #revokeConsumers(): Promise<void> {
    for (const box of await this.#dir.revoked()) {
      if (this.#deleted.has(box) || !MAILBOX.test(box)) continue;
      try {
        await this.#jsm.consumers.delete(this.stream, `d${box}`);
      } catch (e) {
        if (!/not found/i.test((e as Error).message)) throw relayError(e, 'deleting a revoked device consumer');
      }
      this.#deleted.add(box);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#nc.close().catch(() => undefined);
  }
}
