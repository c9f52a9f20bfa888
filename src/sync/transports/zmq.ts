/**
 * ZeroMQ transport with CURVE (as AICO's message bus): each device binds a PULL socket as a
 * CURVE server whose key pair is the device's X25519 key pair (CURVE is X25519), and pushes to a
 * peer through a PUSH socket that must know the peer's public key from the device registry.
 * Both ends authenticate: a listener impersonating a device fails the client's handshake, and a
 * ZAP handler (RFC 27) on the transport's own context admits only clients whose CURVE key is a
 * trusted device's key. The changeset inside is sealed and signed again end to end.
 */
import type { Context, Pull, Push, Router } from 'zeromq';
import { zeromq } from '../../util/zeromq.js';
import { AicoDataError, invalidArgument, toAicoError } from '../../errors.js';
import { z85 } from '../../util/z85.js';
import type { SyncTransport } from './types.js';

/** Options of {@link ZmqTransport.listen}. */
export interface ZmqTransportOptions {
  /** Where to bind (default `tcp://127.0.0.1:*`, an ephemeral loopback port). */
  readonly bind?: string;
  /** This device's X25519 public and secret keys (raw 32 bytes). */
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
  /** The X25519 public key of a peer, from the device registry (`undefined`: unknown device). */
  readonly peerKey: (deviceId: string) => Promise<Uint8Array | undefined>;
  /** Whether a connecting client's CURVE (X25519) public key belongs to a trusted device. */
  readonly clientAllowed: (publicKey: Uint8Array) => Promise<boolean>;
  /** How long a send may wait for the peer (default 10 s). */
  readonly sendTimeoutMs?: number;
}

export class ZmqTransport implements SyncTransport {
  readonly kind = 'zeromq';
  /** The bound endpoint, e.g. `tcp://127.0.0.1:41234`. */
  readonly endpoint: string;
  readonly #pull: Pull;
  readonly #zap: Router;
  readonly #context: Context;
  readonly #opts: ZmqTransportOptions;
  readonly #peers = new Map<string, { push: Push; chain: Promise<void> }>();
  readonly #inbox: Buffer[] = [];
  #waiters: (() => void)[] = [];
  #closed = false;
  readonly #loop: Promise<void>;
  readonly #zapLoop: Promise<void>;
  /** Clients the ZAP handler refused (for status and tests). */
  refused = 0;
  /**
   * CURVE handshakes that failed on this transport's sockets, either end: a client whose hello
   * this listener cannot open, or a listener that is not the device a peer expects (for status
   * and tests, which wait for it instead of waiting for a time).
   */
  handshakeFailures = 0;

  private constructor(context: Context, zap: Router, pull: Pull, endpoint: string, opts: ZmqTransportOptions) {
    this.#context = context;
    this.#zap = zap;
    this.#pull = pull;
    this.endpoint = endpoint;
    this.#opts = opts;
    this.#loop = this.#receiveLoop();
    this.#zapLoop = this.#authenticate();
    this.#countHandshakeFailures(pull);
  }

  #countHandshakeFailures(socket: Pull | Push): void {
    for (const type of ['handshake:error:protocol', 'handshake:error:auth', 'handshake:error:other'] as const) {
      socket.events.on(type, () => {
        this.handshakeFailures++;
        this.#wake();
      });
    }
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** Waits until `done()` holds, the transport closes, or `timeoutMs` passes. */
  async #waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done() && Date.now() < deadline && !this.#closed) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Binds this device's CURVE server socket. */
  static async listen(opts: ZmqTransportOptions): Promise<ZmqTransport> {
    if (opts?.publicKey?.length !== 32 || opts.secretKey?.length !== 32) throw invalidArgument('publicKey and secretKey must be 32-byte X25519 keys');
    if (typeof opts.peerKey !== 'function' || typeof opts.clientAllowed !== 'function') throw invalidArgument('peerKey and clientAllowed must be functions');
    // An own context, so that its ZAP handler judges this transport's connections only.
    const context = new (zeromq().Context)({ blocky: false });
    const zap = new (zeromq().Router)({ context, linger: 0 });
    const pull = new (zeromq().Pull)({ context, curveServer: true, curvePublicKey: z85(opts.publicKey), curveSecretKey: z85(opts.secretKey), zapDomain: 'aico-sync', linger: 0 });
    try {
      await zap.bind('inproc://zeromq.zap.01');
      await pull.bind(opts.bind ?? 'tcp://127.0.0.1:*');
    } catch (e) {
      pull.close();
      zap.close();
      throw toAicoError(e);
    }
    return new ZmqTransport(context, zap, pull, pull.lastEndpoint ?? opts.bind ?? '', opts);
  }

  /** The ZAP handler: `200` for a trusted device's CURVE key, `400` for anything else. */
  async #authenticate(): Promise<void> {
    try {
      for await (const [routing, , version, requestId, , , , mechanism, key] of this.#zap) {
        let ok = false;
        try {
          ok = version?.toString() === '1.0' && mechanism?.toString() === 'CURVE' && key?.length === 32 && (await this.#opts.clientAllowed(key));
        } catch {
          ok = false;
        }
        if (!ok) this.refused++;
        await this.#zap.send([routing!, Buffer.alloc(0), '1.0', requestId ?? Buffer.alloc(0), ok ? '200' : '400', ok ? 'OK' : 'not a trusted device', '', Buffer.alloc(0)]);
      }
    } catch {
      // The socket was closed.
    }
  }

  async #receiveLoop(): Promise<void> {
    try {
      for await (const [frame] of this.#pull) {
        if (frame) this.#inbox.push(Buffer.from(frame));
        this.#wake();
      }
    } catch {
      // The socket was closed.
    }
  }

  /** Registers where device `deviceId` listens (its CURVE key comes from the registry). */
  async addPeer(deviceId: string, endpoint: string): Promise<void> {
    this.#check();
    if (typeof endpoint !== 'string' || !endpoint.startsWith('tcp://')) throw invalidArgument('endpoint must be tcp://host:port');
    const key = await this.#opts.peerKey(deviceId);
    if (!key) throw new AicoDataError('SYNC_UNTRUSTED', `device ${deviceId} is not a trusted device`, { deviceId });
    this.#peers.get(deviceId)?.push.close();
    const push = new (zeromq().Push)({
      context: this.#context,
      curveServerKey: z85(key),
      curvePublicKey: z85(this.#opts.publicKey),
      curveSecretKey: z85(this.#opts.secretKey),
      sendTimeout: this.#opts.sendTimeoutMs ?? 10_000,
      linger: 2_000,
    });
    this.#countHandshakeFailures(push);
    push.connect(endpoint);
    this.#peers.set(deviceId, { push, chain: Promise.resolve() });
  }

  async send(to: string, changeset: Uint8Array): Promise<void> {
    this.#check();
    const peer = this.#peers.get(to);
    if (!peer) throw new AicoDataError('NOT_FOUND', `no endpoint for device ${to}: call addPeer first`, { deviceId: to });
    // zeromq.js allows one send in flight per socket.
    const p = peer.chain.then(() => peer.push.send(Buffer.from(changeset)));
    peer.chain = p.catch(() => undefined);
    try {
      await p;
    } catch (e) {
      const err = toAicoError(e);
      throw (e as { code?: string }).code === 'EAGAIN' ? new AicoDataError('TIMEOUT', `device ${to} did not take the changeset in time`, { deviceId: to }, { cause: e }) : err;
    }
  }

  async receive(): Promise<Buffer[]> {
    this.#check();
    return this.#inbox.splice(0, this.#inbox.length);
  }

  /** Waits until at least `count` changesets are waiting (or `timeoutMs` passes). */
  async waitFor(count = 1, timeoutMs = 10_000): Promise<number> {
    await this.#waitUntil(() => this.#inbox.length >= count, timeoutMs);
    return this.#inbox.length;
  }

  /** Waits until at least `count` CURVE handshakes failed (or `timeoutMs` passes); returns how many did. */
  async waitForHandshakeFailures(count = 1, timeoutMs = 10_000): Promise<number> {
    await this.#waitUntil(() => this.handshakeFailures >= count, timeoutMs);
    return this.handshakeFailures;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const { push, chain } of this.#peers.values()) {
      await chain;
      push.close();
    }
    this.#peers.clear();
    this.#pull.close();
    this.#zap.close();
    await this.#loop;
    await this.#zapLoop;
    for (const f of this.#waiters.splice(0)) f();
  }

  #check(): void {
    if (this.#closed) throw new AicoDataError('CLOSED', 'the zeromq transport was closed');
  }
}
