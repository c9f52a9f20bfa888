/**
 * A small AICO bus broker: an XSUB socket for publishers and an XPUB socket for subscribers,
 * joined by a ZeroMQ proxy (upstream binds 5555 / 5556). For tests, benchmarks and a
 * single-machine setup; it binds to 127.0.0.1 only.
 */
import { Proxy, XPublisher, XSubscriber } from 'zeromq';
import { AicoDataError, invalidArgument } from '../errors.js';

/** Options of {@link startZmqBroker}. */
export interface ZmqBrokerOptions {
  /** Port of the XSUB side, where publishers connect (0 = any free port; upstream 5555). */
  readonly xsub?: number;
  /** Port of the XPUB side, where subscribers connect (0 = any free port; upstream 5556). */
  readonly xpub?: number;
}

/** A running broker. */
export interface ZmqBroker {
  /** Where publishers connect (`tcp://127.0.0.1:<port>`). */
  readonly publishEndpoint: string;
  /** Where subscribers connect. */
  readonly subscribeEndpoint: string;
  /** Stops the proxy and closes both sockets. Idempotent. */
  stop(): Promise<void>;
}

function port(v: unknown, field: string): number {
  const p = v ?? 0;
  if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 65535) throw invalidArgument(`${field} must be a port number 0-65535`, { field });
  return p;
}

/** Binds the broker on 127.0.0.1 and starts proxying. `IO` when a port is taken. */
export async function startZmqBroker(options: ZmqBrokerOptions = {}): Promise<ZmqBroker> {
  const xsubPort = port(options.xsub, 'xsub');
  const xpubPort = port(options.xpub, 'xpub');
  const front = new XSubscriber({ linger: 0 });
  const back = new XPublisher({ linger: 0 });
  try {
    await front.bind(`tcp://127.0.0.1:${xsubPort === 0 ? '*' : xsubPort}`);
    await back.bind(`tcp://127.0.0.1:${xpubPort === 0 ? '*' : xpubPort}`);
  } catch (e) {
    front.close();
    back.close();
    throw new AicoDataError('IO', `the broker cannot bind 127.0.0.1:${xsubPort}/${xpubPort}: ${(e as Error).message}`, { xsub: xsubPort, xpub: xpubPort }, { cause: e });
  }
  const publishEndpoint = front.lastEndpoint!;
  const subscribeEndpoint = back.lastEndpoint!;
  const proxy = new Proxy(front, back);
  const running = proxy.run().catch(() => undefined);
  let stopped = false;
  return {
    publishEndpoint,
    subscribeEndpoint,
    async stop() {
      if (stopped) return;
      stopped = true;
      proxy.terminate();
      await running;
    },
  };
}
