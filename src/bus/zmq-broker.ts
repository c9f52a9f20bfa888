/**
 * A small AICO bus broker on 127.0.0.1: an XSUB socket for publishers and an XPUB socket for
 * subscribers (upstream binds 5555 / 5556), plus a ROUTER socket for the request path.
 *
 * Security (threat model in `./README.md`): every socket is a CURVE server with the broker's key
 * pair, and a ZAP handler (RFC 27) on the broker's own ZeroMQ context admits only the allowed
 * client public keys; anyone else fails the handshake and never sees or sends a frame. Requests
 * come in on the ROUTER, which knows the connection each came from: the broker publishes the
 * request to the handlers with a route frame naming that connection, and the handler's response
 * goes back through the ROUTER to that connection only. Responses are never published.
 * Plaintext only with `insecurePlaintext: true`.
 *
 * The frames are forwarded by loops in this thread rather than by `zeromq.Proxy`: a proxy's
 * background thread holds its sockets, so an uncaught error could not end the process.
 */
import { zeromq } from '../util/zeromq.js';
import { AicoDataError, invalidArgument } from '../errors.js';
import { z85 } from '../util/z85.js';
import { busKey, generateBusKeyPair, type BusKey, type BusKeyPair } from './curve.js';

/** Options of {@link startZmqBroker}. */
export interface ZmqBrokerOptions {
  /** Port of the XSUB side, where publishers connect (0 = any free port; upstream 5555). */
  readonly xsub?: number;
  /** Port of the XPUB side, where subscribers connect (0 = any free port; upstream 5556). */
  readonly xpub?: number;
  /** Port of the request ROUTER, where requests go and responses come back (0 = any free port). */
  readonly router?: number;
  /** The broker's CURVE key pair (default: a new random pair, see {@link ZmqBroker.publicKey}). */
  readonly serverKeys?: BusKeyPair;
  /** Public keys of the clients the broker admits (more with {@link ZmqBroker.allowClient}). */
  readonly allowedClients?: Iterable<BusKey>;
  /**
   * No authentication, no encryption: every local process can read every frame and send any
   * request (`user/forget` included). Only for tests or a machine where that is acceptable.
   */
  readonly insecurePlaintext?: boolean;
}

/** Where a client connects: spread into `connectZmqBus({ ...broker.endpoints, ...clientKeys })`. */
export interface ZmqBrokerEndpoints {
  readonly publishEndpoint: string;
  readonly subscribeEndpoint: string;
  readonly requestEndpoint: string;
  /** The broker's public key (absent in plaintext mode). */
  readonly serverPublicKey?: string;
}

/** A running broker. */
export interface ZmqBroker {
  /** Where publishers connect (`tcp://127.0.0.1:<port>`). */
  readonly publishEndpoint: string;
  /** Where subscribers connect. */
  readonly subscribeEndpoint: string;
  /** Where requests are sent and responses come back. */
  readonly requestEndpoint: string;
  /** The broker's CURVE public key; undefined in plaintext mode. */
  readonly publicKey: string | undefined;
  /** All a client needs besides its own key pair. */
  readonly endpoints: ZmqBrokerEndpoints;
  /** Admits one more client public key (from its next connection on). */
  allowClient(publicKey: BusKey): void;
  /** Stops admitting a client key (connections it already has stay until they drop). */
  denyClient(publicKey: BusKey): void;
  /** Connections the ZAP handler refused (a wrong or unknown key). */
  readonly refused: number;
  /** Closes every socket. Idempotent. */
  stop(): Promise<void>;
}

function port(v: unknown, field: string): number {
  const p = v ?? 0;
  if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 65535) throw invalidArgument(`${field} must be a port number 0-65535`, { field });
  return p;
}

/** Frame markers of the request path (client DEALER <-> broker ROUTER). */
export const REQUEST_FRAME = 'req';
export const RESPONSE_FRAME = 'res';

/**
 * Binds the broker on 127.0.0.1 and starts forwarding. `INVALID_ARGUMENT` without
 * `allowedClients` (or `insecurePlaintext: true`), `IO` when a port is taken.
 */
export async function startZmqBroker(options: ZmqBrokerOptions = {}): Promise<ZmqBroker> {
  if (options === null || typeof options !== 'object') throw invalidArgument('startZmqBroker takes an options object');
  const ports = { xsub: port(options.xsub, 'xsub'), xpub: port(options.xpub, 'xpub'), router: port(options.router, 'router') };
  const plaintext = options.insecurePlaintext === true;
  if (options.insecurePlaintext !== undefined && typeof options.insecurePlaintext !== 'boolean') throw invalidArgument('insecurePlaintext must be true or false', { field: 'insecurePlaintext' });
  const allowed = new Set<string>();
  if (!plaintext) {
    if (options.allowedClients === undefined || typeof (options.allowedClients as Iterable<BusKey>)[Symbol.iterator] !== 'function') {
      throw invalidArgument('the ZeroMQ broker authenticates its clients: give allowedClients (their CURVE public keys), or insecurePlaintext: true', { field: 'allowedClients' });
    }
    for (const k of options.allowedClients) allowed.add(busKey(k, 'allowedClients'));
  }
  const keys = plaintext ? undefined : options.serverKeys ? { publicKey: busKey(options.serverKeys.publicKey, 'serverKeys.publicKey'), secretKey: busKey(options.serverKeys.secretKey, 'serverKeys.secretKey') } : generateBusKeyPair();

  // An own context: its ZAP handler judges this broker's connections only.
  const context = new (zeromq().Context)({ blocky: false });
  const curve = keys ? { curveServer: true, curveSecretKey: keys.secretKey, curvePublicKey: keys.publicKey, zapDomain: 'aico-bus' } : {};
  const zap = keys ? new (zeromq().Router)({ context, linger: 0 }) : undefined;
  const front = new (zeromq().XSubscriber)({ context, linger: 0, ...curve });
  const back = new (zeromq().XPublisher)({ context, linger: 0, ...curve });
  const router = new (zeromq().Router)({ context, linger: 0, ...curve });
  const all = [front, back, router, ...(zap ? [zap] : [])];
  try {
    if (zap) await zap.bind('inproc://zeromq.zap.01');
    await front.bind(`tcp://127.0.0.1:${ports.xsub || '*'}`);
    await back.bind(`tcp://127.0.0.1:${ports.xpub || '*'}`);
    await router.bind(`tcp://127.0.0.1:${ports.router || '*'}`);
  } catch (e) {
    for (const s of all) s.close();
    throw new AicoDataError('IO', `the broker cannot bind 127.0.0.1:${ports.xsub}/${ports.xpub}/${ports.router}: ${(e as Error).message}`, { ...ports }, { cause: e });
  }

  let stopped = false;
  let refused = 0;
  // zeromq.js allows one send in flight per socket: everything sent on XPUB goes through this chain.
  let backChain: Promise<void> = Promise.resolve();
  const toBack = (frames: (Buffer | string)[]): Promise<void> => (backChain = backChain.then(() => back.send(frames)).catch(() => undefined));

  const loops: Promise<void>[] = [];
  const loop = (body: () => Promise<void>) =>
    loops.push(
      body().catch(() => {
        // A socket was closed (stop) or failed: the loop ends; stop() closes the rest.
      }),
    );

  if (zap) {
    loop(async () => {
      for await (const [routing, , version, requestId, , , , mechanism, key] of zap) {
        const ok = version?.toString() === '1.0' && mechanism?.toString() === 'CURVE' && key?.length === 32 && allowed.has(z85(key));
        if (!ok) refused++;
        await zap.send([routing!, Buffer.alloc(0), '1.0', requestId ?? Buffer.alloc(0), ok ? '200' : '400', ok ? 'OK' : 'not an allowed bus client', '', Buffer.alloc(0)]);
      }
    });
  }
  // Publishers -> subscribers. Only topic and envelope travel: a third frame (a route) is the
  // broker's to add, so a publisher cannot make a request look as if another client sent it.
  loop(async () => {
    for await (const frames of front) {
      if (stopped) break;
      void toBack(frames.length > 2 ? frames.slice(0, 2) : frames);
    }
  });
  // Subscriptions travel upstream to the publishers.
  loop(async () => {
    for await (const frames of back) {
      if (stopped) break;
      await front.send(frames);
    }
  });
  // The request path: requests out to the handlers with their route, responses back to that route only.
  loop(async () => {
    for await (const frames of router) {
      if (stopped) break;
      const [routing, kind] = frames;
      if (kind?.toString() === REQUEST_FRAME && frames.length === 4) {
        void toBack([frames[2]!, frames[3]!, routing!.toString('hex')]);
      } else if (kind?.toString() === RESPONSE_FRAME && frames.length === 5) {
        const route = frames[2]!.toString();
        if (!/^[0-9a-f]{2,510}$/.test(route)) continue;
        // A route that no longer exists is dropped by the ROUTER (not mandatory).
        await router.send([Buffer.from(route, 'hex'), frames[3]!, frames[4]!]).catch(() => undefined);
      }
      // Anything else is not ours to forward.
    }
  });

  const publishEndpoint = front.lastEndpoint!;
  const subscribeEndpoint = back.lastEndpoint!;
  const requestEndpoint = router.lastEndpoint!;
  return {
    publishEndpoint,
    subscribeEndpoint,
    requestEndpoint,
    publicKey: keys?.publicKey,
    endpoints: { publishEndpoint, subscribeEndpoint, requestEndpoint, ...(keys ? { serverPublicKey: keys.publicKey } : {}) },
    allowClient(publicKey) {
      if (!keys) throw invalidArgument('a plaintext broker admits everybody: there is no client list', { field: 'insecurePlaintext' });
      allowed.add(busKey(publicKey, 'publicKey'));
    },
    denyClient(publicKey) {
      allowed.delete(busKey(publicKey, 'publicKey'));
    },
    get refused() {
      return refused;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await backChain;
      for (const s of all) s.close();
      await Promise.all(loops);
    },
  };
}
