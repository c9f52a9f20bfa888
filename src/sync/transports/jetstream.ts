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
 * The directory decides who is a peer: changesets from a mailbox that is not a trusted peer's
 * (a revoked device's, a forged one) are acknowledged and dropped, counted in `refused`, and
 * the consumers of revoked devices are deleted.
 */
import { createHash } from 'node:crypto';
import type { Consumer, JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { AicoDataError, invalidArgument, toAicoError } from '../../errors.js';
import { natsCore, natsInboxPrefix, natsJetstream } from '../../util/nats.js';
import { ensureLimitsStream } from '../../util/nats-stream.js';
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
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #dir: RelayDirectory;
  readonly #timeoutMs: number;
  readonly #deleted = new Set<string>();
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
    if (max > 0 && changeset.length > max) {
      throw new AicoDataError('INVALID_ARGUMENT', `the changeset is ${changeset.length} bytes; the relay takes at most ${max} per message (its max_payload)`, { bytes: changeset.length, maxPayload: max });
    }
    await this.#revokeConsumers();
    const msgID = createHash('sha256').update(changeset).digest('hex');
    try {
      await this.#js.publish(`aicosync.${box}.${this.#dir.self}`, changeset, { msgID, timeout: this.#timeoutMs });
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
      for (;;) {
        const pending = (await consumer.info()).num_pending;
        if (pending === 0) break;
        const batch = await consumer.fetch({ max_messages: Math.min(pending, BATCH), expires: this.#timeoutMs });
        let n = 0;
        for await (const m of batch) {
          n++;
          const from = m.subject.slice(m.subject.lastIndexOf('.') + 1);
          if (peers.has(from)) out.push(Buffer.from(m.data));
          else this.refused++;
          await m.ackAck();
        }
        if (n === 0) break; // none came within the timeout: what is left comes next time
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
