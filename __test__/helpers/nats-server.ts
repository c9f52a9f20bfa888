/**
 * A real nats-server for tests: its own temp folder (config, JetStream store), ports chosen by
 * the server (`-1`, read from its log, so two test files never race for one), ready once its
 * monitor's `/healthz` says so (a bounded poll), stopped by SIGTERM and awaited exit. Also a
 * 3-node JetStream cluster on loopback whose nodes can be SIGKILLed and restarted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { natsServerAuthorization, type NatsCredentials } from '../../src/bus/index.js';
import { freePort } from '../../src/stores/vectors/server/free-port.js';
import { natsInboxPrefix } from '../../src/util/nats.js';
import { NATS_SERVER } from './bus-tools.js';
import { tempDir } from './folders.js';
import { waitFor } from './wait.js';

/** A running nats-server. */
export interface NatsServer {
  /** `nats://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** The JetStream store directory (every byte the server stored). */
  readonly storeDir: string;
  /** The running process (a new one after {@link NatsServer.restart}). */
  readonly process: ChildProcess;
  /** SIGKILLs the process (no shutdown, no flush) and waits for its exit; the folder stays. */
  kill(): Promise<void>;
  /** Starts it again on the same client port and store directory; resolves once it is healthy. */
  restart(): Promise<void>;
  /** Stops the server and removes its folder. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startNatsServer}. */
export interface NatsServerOptions {
  /** The users the server admits (none: no authorization block, everybody is admitted). */
  readonly users?: readonly NatsCredentials[];
  /** Enable JetStream (default true). */
  readonly jetstream?: boolean;
  /** Largest message the server takes (default the server's 1 MB). */
  readonly maxPayload?: number;
}

const q = (s: string) => JSON.stringify(s); // NATS config strings accept JSON escapes

/** A launched nats-server process: its ports (from its log), its exit, and a health check. */
interface Launched {
  readonly child: ChildProcess;
  readonly exit: Promise<void>;
  port(): number;
  exited(): boolean;
}

/**
 * Spawns nats-server on `conf` and resolves once its monitor's `/healthz` (with `query`) says
 * so, a bounded poll; kills it and throws when it exits or never becomes healthy.
 */
async function launch(conf: string, query = '', timeoutMs = 20_000): Promise<Launched> {
  const child = spawn(NATS_SERVER!, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let port = 0;
  let monitor = 0;
  let exited: number | null | undefined;
  const log: string[] = [];
  const exit = new Promise<void>((r) => child.once('exit', (code) => ((exited = code), r())));
  createInterface({ input: child.stderr! }).on('line', (l) => {
    log.push(l);
    port ||= Number(/Listening for client connections on 127\.0\.0\.1:(\d+)/.exec(l)?.[1] ?? 0);
    monitor ||= Number(/Starting http monitor on 127\.0\.0\.1:(\d+)/.exec(l)?.[1] ?? 0);
  });
  const healthy = async () => {
    if (exited !== undefined) throw new Error(`nats-server exited with ${exited}:\n${log.join('\n')}`);
    if (!port || !monitor) return false;
    try {
      const r = await fetch(`http://127.0.0.1:${monitor}/healthz${query}`);
      return r.ok;
    } catch {
      return false;
    }
  };
  try {
    await waitFor(healthy, { timeoutMs, intervalMs: 20, what: 'nats-server becoming healthy' });
  } catch (e) {
    child.kill('SIGKILL');
    await exit;
    throw e;
  }
  return { child, exit, port: () => port, exited: () => exited !== undefined };
}

/** Starts nats-server and resolves once it is healthy. Throws when the binary is missing. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  if (!NATS_SERVER) throw new Error('nats-server is not installed (see __test__/helpers/bus-tools.ts)');
  const { dir, cleanup } = tempDir('aico-nats-');
  const storeDir = join(dir, 'jetstream');
  const lines = ['listen: "127.0.0.1:-1"', 'http: "127.0.0.1:-1"'];
  if (options.maxPayload !== undefined) lines.push(`max_payload: ${options.maxPayload}`);
  if (options.jetstream !== false) lines.push(`jetstream { store_dir: ${q(storeDir)} }`);
  if (options.users) lines.push(natsServerAuthorization(options.users));
  const conf = join(dir, 'nats.conf');
  writeFileSync(conf, lines.join('\n') + '\n', { mode: 0o600 });
  let l: Launched;
  try {
    l = await launch(conf);
  } catch (e) {
    cleanup();
    throw e;
  }
  let stopped = false;
  const port = l.port();
  // A restart must come back where the clients reconnect to: the port it was given, fixed now.
  writeFileSync(conf, lines.map((x) => (x.startsWith('listen:') ? `listen: "127.0.0.1:${port}"` : x)).join('\n') + '\n', { mode: 0o600 });
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    get process() {
      return l.child;
    },
    async kill() {
      if (l.exited()) return;
      l.child.kill('SIGKILL');
      await l.exit;
    },
    async restart() {
      if (!l.exited()) throw new Error('nats-server is still running');
      l = await launch(conf);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (!l.exited()) l.child.kill('SIGTERM');
      await l.exit;
      cleanup();
    },
  };
}

/** One node of a {@link NatsCluster}. */
export interface NatsClusterNode {
  readonly name: string;
  readonly url: string;
  /** Its JetStream store directory (kept across a kill and restart). */
  readonly storeDir: string;
  /** Whether its process is running now. */
  readonly running: boolean;
  /** SIGKILLs the process (no shutdown, no flush) and waits for its exit. */
  kill(): Promise<void>;
  /** Starts it again on the same ports and store directory; resolves once it is healthy. */
  restart(): Promise<void>;
}

/** A JetStream cluster of nats-server processes on loopback. */
export interface NatsCluster {
  readonly nodes: readonly NatsClusterNode[];
  /** Every node's client URL. */
  readonly urls: string[];
  /** Stops every node and removes the folder. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a JetStream cluster of `size` nodes (default 3): each with its own store directory,
 * `server_name`, client, monitor and route ports, routes to all the others. Resolves once every
 * node's full `/healthz` (JetStream meta group current) answers OK.
 */
export async function startNatsCluster(options: NatsServerOptions & { readonly size?: number } = {}): Promise<NatsCluster> {
  if (!NATS_SERVER) throw new Error('nats-server is not installed (see __test__/helpers/bus-tools.ts)');
  const size = options.size ?? 3;
  const { dir, cleanup } = tempDir('aico-nats-cluster-');
  // The routes must know each other's ports in advance: ports that were free a moment ago.
  const ports: { client: number; http: number; route: number }[] = [];
  const taken = new Set<number>();
  while (ports.length < size) {
    const [client, http, route] = [await freePort(), await freePort(), await freePort()];
    if (new Set([client, http, route]).size < 3 || [client, http, route].some((p) => taken.has(p))) continue;
    for (const p of [client, http, route]) taken.add(p);
    ports.push({ client, http, route });
  }
  const specs = ports.map((p, i) => {
    const name = `n${i + 1}`;
    const storeDir = join(dir, name, 'jetstream');
    mkdirSync(storeDir, { recursive: true });
    const routes = ports.filter((_, j) => j !== i).map((o) => q(`nats-route://127.0.0.1:${o.route}`));
    const lines = [
      `server_name: ${name}`,
      `listen: "127.0.0.1:${p.client}"`,
      `http: "127.0.0.1:${p.http}"`,
      `jetstream { store_dir: ${q(storeDir)} }`,
      `cluster { name: "aico-test", listen: "127.0.0.1:${p.route}", routes: [${routes.join(', ')}] }`,
    ];
    if (options.maxPayload !== undefined) lines.push(`max_payload: ${options.maxPayload}`);
    if (options.users) lines.push(natsServerAuthorization(options.users));
    const conf = join(dir, name, 'nats.conf');
    writeFileSync(conf, lines.join('\n') + '\n', { mode: 0o600 });
    return { name, conf, storeDir, url: `nats://127.0.0.1:${p.client}` };
  });
  const running: (Launched | undefined)[] = specs.map(() => undefined);
  const stopAll = async (signal: NodeJS.Signals) => {
    for (const l of running) if (l && !l.exited()) l.child.kill(signal);
    await Promise.all(running.map((l) => l?.exit));
  };
  try {
    // Each node's full health needs its peers (the meta group), so all start together.
    await Promise.all(specs.map(async (s, i) => (running[i] = await launch(s.conf, '', 60_000))));
  } catch (e) {
    await stopAll('SIGKILL');
    cleanup();
    throw e;
  }
  const nodes = specs.map((s, i): NatsClusterNode => ({
    name: s.name,
    url: s.url,
    storeDir: s.storeDir,
    get running() {
      return running[i] !== undefined && !running[i]!.exited();
    },
    async kill() {
      const l = running[i];
      if (!l || l.exited()) return;
      l.child.kill('SIGKILL');
      await l.exit;
    },
    async restart() {
      if (this.running) throw new Error(`${s.name} is still running`);
      running[i] = await launch(s.conf, '', 60_000);
    },
  }));
  let stopped = false;
  return {
    nodes,
    urls: specs.map((s) => s.url),
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopAll('SIGTERM');
      cleanup();
    },
  };
}

/** A plain NATS client of `user` (with its inbox prefix, which the server's permissions require). */
export function natsClient(server: NatsServer, user: NatsCredentials): Promise<NatsConnection> {
  return connect({ servers: server.url, user: user.user, pass: user.password, inboxPrefix: natsInboxPrefix(user.user) });
}
