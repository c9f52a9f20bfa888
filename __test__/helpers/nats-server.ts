/**
 * A real nats-server for tests: its own temp folder (config, JetStream store), ports chosen by
 * the server (`-1`, read from its log, so two test files never race for one), ready once its
 * monitor's `/healthz` says so (a bounded poll), stopped by SIGTERM and awaited exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { natsServerAuthorization, type NatsCredentials } from '../../src/bus/index.js';
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
  readonly process: ChildProcess;
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
  const child = spawn(NATS_SERVER, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
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
      const r = await fetch(`http://127.0.0.1:${monitor}/healthz`);
      return r.ok;
    } catch {
      return false;
    }
  };
  try {
    await waitFor(healthy, { timeoutMs: 20_000, intervalMs: 20, what: 'nats-server becoming healthy' });
  } catch (e) {
    child.kill('SIGKILL');
    await exit;
    cleanup();
    throw e;
  }
  let stopped = false;
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    process: child,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (exited === undefined) child.kill('SIGTERM');
      await exit;
      cleanup();
    },
  };
}

/** A plain NATS client of `user` (with its inbox prefix, which the server's permissions require). */
export function natsClient(server: NatsServer, user: NatsCredentials): Promise<NatsConnection> {
  return connect({ servers: server.url, user: user.user, pass: user.password, inboxPrefix: natsInboxPrefix(user.user) });
}
