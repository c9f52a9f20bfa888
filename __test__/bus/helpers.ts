import { create, fromJson, toBinary, type JsonValue } from '@bufbuild/protobuf';
import { anyPack, ValueSchema } from '@bufbuild/protobuf/wkt';
import { connect } from '@nats-io/transport-node';
import { Publisher } from 'zeromq';
import { AicoMessageSchema } from '../../src/bus/gen/aico_core_envelope_pb.js';
import {
  connectNatsBus,
  connectZmqBus,
  generateBusKeyPair,
  generateNatsCredentials,
  InProcessBus,
  startZmqBroker,
  type BusLogger,
  type EnvelopeCodecName,
  type MessageBus,
  type NatsBus,
  type ZmqBroker,
} from '../../src/bus/index.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';

/** A logger that keeps what it was told. */
export function recordingLogger(): BusLogger & { lines: { message: string; details?: Record<string, unknown> }[] } {
  const lines: { message: string; details?: Record<string, unknown> }[] = [];
  return { lines, warn: (message, details) => void lines.push({ message, ...(details ? { details } : {}) }) };
}

/** Polls `check` until it returns true (or fails after `ms`). */
export async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** One implementation under test: makes connected buses and can inject raw frames. */
export interface BusKit {
  readonly name: string;
  /** The envelope codec of its buses (what {@link rawFrame} must write for them). */
  readonly codec: EnvelopeCodecName;
  /** A new bus; all buses of one kit reach each other. */
  bus(source: string, logger?: BusLogger, requestTimeoutMs?: number): Promise<MessageBus>;
  /** Sends raw frames as a foreign client would. */
  injectRaw(frames: (string | Buffer)[]): Promise<void>;
  close(): Promise<void>;
}

export function inProcessKit(): BusKit {
  const root = new InProcessBus({ source: 'root', logger: { warn: () => undefined } });
  const made: MessageBus[] = [];
  return {
    name: 'in-process',
    codec: 'json',
    async bus(source, logger, requestTimeoutMs) {
      const b = root.fork(source, { ...(logger ? { logger } : {}), ...(requestTimeoutMs ? { requestTimeoutMs } : {}) });
      made.push(b);
      return b;
    },
    async injectRaw(frames) {
      // The in-process hub carries exactly two frames; other shapes cannot be expressed there.
      root.injectFrames(String(frames[0]), Buffer.from(frames[1] ?? ''));
    },
    async close() {
      for (const b of made) await b.close();
      await root.close();
    },
  };
}

/** The options every kit's buses share. */
function common(source: string, codec: EnvelopeCodecName, logger?: BusLogger, requestTimeoutMs?: number) {
  return { source, codec, ...(logger ? { logger } : {}), ...(requestTimeoutMs ? { requestTimeoutMs } : {}) };
}

/** A ZeroMQ kit on an authenticated (CURVE) broker: every bus gets its own allowed key pair. */
export async function zmqKit(codec: EnvelopeCodecName = 'json'): Promise<BusKit & { broker: ZmqBroker }> {
  const broker = await startZmqBroker({ allowedClients: [] });
  const made: MessageBus[] = [];
  // The raw publisher is a foreign but allowed client (an upstream module with its own key).
  const rawKeys = generateBusKeyPair();
  broker.allowClient(rawKeys.publicKey);
  const raw = new Publisher({ linger: 0, curveServerKey: broker.publicKey!, curvePublicKey: rawKeys.publicKey, curveSecretKey: rawKeys.secretKey });
  raw.connect(broker.publishEndpoint);
  return {
    name: 'zeromq',
    codec,
    broker,
    async bus(source, logger, requestTimeoutMs) {
      const keys = generateBusKeyPair();
      broker.allowClient(keys.publicKey);
      const b = await connectZmqBus({
        ...broker.endpoints,
        ...keys,
        ...common(source, codec, logger, requestTimeoutMs),
      });
      made.push(b);
      return b;
    },
    async injectRaw(frames) {
      // The raw publisher learns subscriptions asynchronously: resending until they are seen is the caller's job.
      await raw.send(frames);
    },
    async close() {
      for (const b of made) await b.close();
      raw.close();
      await broker.stop();
    },
  };
}

/**
 * A frame as a foreign sender would write it, without the checks of the bus's encoder: JSON of
 * `v`, or an `AicoMessage` with `v.metadata`'s string fields (a protobuf frame cannot carry a
 * non-date timestamp, so `timestamp` is left out there).
 */
export function rawFrame(codec: EnvelopeCodecName, v: { metadata: Record<string, unknown>; payload?: unknown }): Buffer {
  if (codec === 'json') return Buffer.from(JSON.stringify(v));
  const m = v.metadata;
  const str = (k: string) => (typeof m[k] === 'string' ? (m[k] as string) : '');
  const msg = create(AicoMessageSchema, {
    metadata: { messageId: str('message_id'), source: str('source'), messageType: str('message_type'), version: str('version'), attributes: (m.attributes as Record<string, string>) ?? {} },
    ...('payload' in v ? { payload: { case: 'anyPayload' as const, value: anyPack(ValueSchema, fromJson(ValueSchema, (v.payload ?? null) as JsonValue)) } } : {}),
  });
  return Buffer.from(toBinary(AicoMessageSchema, msg));
}

/**
 * A NATS kit on a real nats-server with JetStream and authorization: every bus logs in as the
 * owner; the raw injector is a second, foreign but admitted user (an upstream module).
 */
export async function natsKit(codec: EnvelopeCodecName = 'protobuf'): Promise<BusKit & { server: NatsServer; owner: ReturnType<typeof generateNatsCredentials> }> {
  const owner = generateNatsCredentials('owner');
  const foreign = generateNatsCredentials('foreign');
  const server = await startNatsServer({ users: [owner, foreign] });
  const raw = await connect({ servers: server.url, user: foreign.user, pass: foreign.password });
  const made: NatsBus[] = [];
  return {
    name: 'nats',
    codec,
    server,
    owner,
    async bus(source, logger, requestTimeoutMs) {
      const b = await connectNatsBus({
        servers: server.url,
        ...owner,
        ...common(source, codec, logger, requestTimeoutMs),
      });
      made.push(b);
      return b;
    },
    async injectRaw(frames) {
      raw.publish(`aico.default.${String(frames[0]).replaceAll('/', '.')}`, frames[1] === undefined ? new Uint8Array() : Buffer.from(frames[1]));
      await raw.flush();
    },
    async close() {
      for (const b of made) await b.close();
      await raw.close();
      await server.stop();
    },
  };
}
