import { Publisher } from 'zeromq';
import { connectZmqBus, generateBusKeyPair, InProcessBus, startZmqBroker, type BusLogger, type MessageBus, type ZmqBroker } from '../../src/bus/index.js';

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

/** A ZeroMQ kit on an authenticated (CURVE) broker: every bus gets its own allowed key pair. */
export async function zmqKit(): Promise<BusKit & { broker: ZmqBroker }> {
  const broker = await startZmqBroker({ allowedClients: [] });
  const made: MessageBus[] = [];
  // The raw publisher is a foreign but allowed client (an upstream module with its own key).
  const rawKeys = generateBusKeyPair();
  broker.allowClient(rawKeys.publicKey);
  const raw = new Publisher({ linger: 0, curveServerKey: broker.publicKey!, curvePublicKey: rawKeys.publicKey, curveSecretKey: rawKeys.secretKey });
  raw.connect(broker.publishEndpoint);
  return {
    name: 'zeromq',
    broker,
    async bus(source, logger, requestTimeoutMs) {
      const keys = generateBusKeyPair();
      broker.allowClient(keys.publicKey);
      const b = await connectZmqBus({
        ...broker.endpoints,
        ...keys,
        source,
        ...(logger ? { logger } : {}),
        ...(requestTimeoutMs ? { requestTimeoutMs } : {}),
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
