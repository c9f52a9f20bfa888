import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive } from '../../../util/process-alive.js';
import { AicoDataError } from '../../../errors.js';
import { describeSource, discoverServers, type ServerDiscoveryOptions, type ServerSource } from './discovery.js';
import { startAuthProxy, TOKEN_HEADER, type AuthProxy } from './auth-proxy.js';
import { freePort, portIsFree } from './free-port.js';
import { ISOLATION_FIX, namespacePrefix, probeIsolation } from './isolation.js';
import { SERVER_MAIN_SOURCE } from './server-main.js';
import { forgetServer, reapStaleServer, recordServer } from './stale-server.js';

/** Options of the managed Chroma server. */
export interface ChromaServerOptions extends ServerDiscoveryOptions {
  /** How long a starting server may take to answer its heartbeat (default 60 s). */
  startTimeoutMs?: number;
  /** Restart the server when it dies (default true). */
  autoRestart?: boolean;
  /** Restarts allowed per minute before giving up with `UNAVAILABLE` (default 5). */
  maxRestartsPerMinute?: number;
  /** Grace period between SIGTERM and SIGKILL on stop (default 5 s). */
  stopGraceMs?: number;
  /**
   * INSECURE: run the managed server on the shared 127.0.0.1, not in a private network
   * namespace (for machines where none can be made). Chroma 1.0 has no authentication, so any
   * local process (any user) can then list, read (ids, tokens, numbers, embeddings, sealed
   * envelopes) and delete the index. Off by default: without isolation the managed server does
   * not start (`UNAVAILABLE`).
   */
  insecureSharedLoopback?: boolean;
  /** Headers sent with every request to a configured `url` server (e.g. its own `x-chroma-token`). */
  headers?: Record<string, string>;
}

const HOST = '127.0.0.1';
/** The server's port inside its private network namespace. */
const INNER_PORT = 8000;
const HEARTBEAT = '/api/v2/heartbeat';
const STDERR_TAIL = 4096;
const FIX =
  'Fix: run `npm install` in the project (it installs chromadb-js-bindings-linux-x64-gnu@0.1.3, which runs on glibc >= 2.36), ' +
  'or `pip install chromadb` to put a `chroma` executable on the PATH, or pass vectors: { server: { url } } to use your own Chroma.';

type State = 'idle' | 'starting' | 'running' | 'down' | 'stopped';

/** Exit signals of a server that failed on its own (not killed from outside). */
const CRASH_SIGNALS = new Set(['SIGSEGV', 'SIGBUS', 'SIGABRT', 'SIGILL', 'SIGFPE']);

/**
 * A Chroma server the data layer owns: started on a free port of 127.0.0.1 with its data under
 * `persistDir`, watched, restarted when it dies, stopped on {@link stop}. With `url` configured it
 * manages nothing and only checks that server's heartbeat.
 */
export class ChromaServer {
  readonly #persistDir: string;
  readonly #options: ChromaServerOptions;
  #state: State = 'idle';
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #url: string | undefined;
  #source: ServerSource | undefined;
  #starting: Promise<string> | undefined;
  #restarts: number[] = [];
  #generation = 0;
  #lastError: AicoDataError | undefined;
  #stderr = '';
  #crashStreak = 0;
  #wiping = false;
  #proxy: AuthProxy | undefined;
  #socketDir: string | undefined;
  #socketPath: string | undefined;

  constructor(persistDir: string, options: ChromaServerOptions = {}) {
    this.#persistDir = persistDir;
    this.#options = options;
  }

  /** The server's base URL once started. */
  get url(): string | undefined {
    return this.#url;
  }
  /**
   * Headers a client must send to the running server (the proxy's token); empty for a
   * configured `url` or an insecure shared-loopback server.
   */
  get authHeaders(): Record<string, string> {
    if (this.#proxy) return { [TOKEN_HEADER]: this.#proxy.token };
    return this.#options.url !== undefined ? { ...(this.#options.headers ?? {}) } : {};
  }
  /** True when the managed server's port lives in a private network namespace. */
  get isolated(): boolean {
    return this.#proxy !== undefined;
  }
  /** Where the running server came from. */
  get source(): ServerSource | undefined {
    return this.#source;
  }
  /** Process id of the managed server (its wrapper), for diagnostics and tests. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }
  /** Increases on every (re)start: a client built for an older generation may point at a dead port. */
  get generation(): number {
    return this.#generation;
  }
  get state(): State {
    return this.#state;
  }
  /**
   * Server exits by a crash signal (segfault, abort) since the last request that succeeded. An
   * external kill (SIGKILL, SIGTERM) does not count: only the server failing on its own data does.
   */
  get crashStreak(): number {
    return this.#crashStreak;
  }
  /** Waits (at most `ms`) for a server that just failed a request to be seen exiting. */
  async settle(ms: number): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await Promise.race([this.#exited, sleep(ms)]);
  }
  /** A request succeeded: the server works on its data. */
  markHealthy(): void {
    this.#crashStreak = 0;
  }

  /**
   * Stops the server and deletes everything under the persist folder, so the next start begins
   * empty. For a derived index the server cannot load any more (its files crash it at every
   * load); the caller rebuilds the contents from libSQL.
   */
  async wipeData(): Promise<void> {
    if (this.#state === 'stopped') throw new AicoDataError('CLOSED', 'the vector store was closed');
    if (this.#options.url !== undefined) throw new AicoDataError('UNAVAILABLE', 'the Chroma server is the caller\'s own: its data is not ours to reset', { store: 'chroma' });
    this.#wiping = true;
    try {
      await this.#starting?.catch(() => undefined);
      await this.#kill();
      rmSync(this.#persistDir, { recursive: true, force: true });
      this.#url = undefined;
      this.#crashStreak = 0;
      this.#restarts = [];
      if ((this.#state as State) !== 'stopped') this.#state = 'idle';
    } finally {
      this.#wiping = false;
    }
  }

  /**
   * Stops the server and runs Chroma's own `vacuum` on the persist folder: it purges the
   * write-ahead log table (which keeps every added and deleted id) and rewrites
   * `chroma.sqlite3` (SQLite's VACUUM), so deleted records leave no bytes in free pages. The
   * next request starts the server again. Used by `forgetUser`.
   */
  async vacuum(timeoutMs = 120_000): Promise<void> {
    if (this.#state === 'stopped') throw new AicoDataError('CLOSED', 'the vector store was closed');
    if (this.#options.url !== undefined) throw new AicoDataError('UNAVAILABLE', 'the Chroma server is the caller\'s own: it is not ours to vacuum', { store: 'chroma' });
    this.#wiping = true;
    try {
      await this.#starting?.catch(() => undefined);
      await this.#kill();
      this.#url = undefined;
      if (!existsSync(join(this.#persistDir, 'chroma.sqlite3'))) return;
      const source = this.#source ?? discoverServers(this.#options).candidates.find((c) => c.kind !== 'url');
      if (!source || source.kind === 'url') throw new AicoDataError('UNAVAILABLE', `no Chroma server to vacuum with. ${FIX}`, { store: 'chroma' });
      const args = ['vacuum', '--path', this.#persistDir, '--force'];
      const [file, argv] =
        source.kind === 'binding'
          ? [process.execPath, ['-e', 'require(process.argv[1]).cli(process.argv.slice(2))', source.modulePath, 'chroma', ...args]]
          : [source.path, args];
      const outcome = await new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ANONYMIZED_TELEMETRY: 'False', ELECTRON_RUN_AS_NODE: '1' }, windowsHide: true });
        let output = '';
        const keep = (d: Buffer) => (output = (output + d.toString('utf8')).slice(-STDERR_TAIL));
        child.stdout!.on('data', keep);
        child.stderr!.on('data', keep);
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        child.once('error', (e) => resolve({ code: null, output: e.message }));
        child.once('exit', (code) => {
          clearTimeout(timer);
          resolve({ code, output });
        });
      });
      if (outcome.code !== 0) {
        throw new AicoDataError('UNAVAILABLE', `chroma vacuum failed (exit ${outcome.code}): ${lastLines(outcome.output)}`, { store: 'chroma' });
      }
    } finally {
      this.#wiping = false;
      if ((this.#state as State) !== 'stopped') this.#state = 'idle';
    }
  }

  /** Starts the server if needed and returns its URL; `UNAVAILABLE` if it cannot run. */
  async ensure(): Promise<string> {
    if (this.#state === 'stopped') throw new AicoDataError('CLOSED', 'the vector store was closed');
    if (this.#state === 'running' && this.#url !== undefined) return this.#url;
    if (this.#starting) return this.#starting;
    if (this.#state === 'down' && !this.#mayRestart()) {
      throw this.#lastError ?? new AicoDataError('UNAVAILABLE', 'the Chroma server stopped and is not restarted (autoRestart is off or it kept dying)', { store: 'chroma' });
    }
    return this.#start();
  }

  /**
   * Called after a request failed to connect: confirms the server is gone (a live heartbeat means
   * the failure was transient), restarts it when allowed, and returns the URL to retry on.
   */
  async recover(): Promise<string> {
    if (this.#state === 'stopped') throw new AicoDataError('CLOSED', 'the vector store was closed');
    if (this.#starting) return this.#starting;
    const child = this.#child;
    if (this.#state === 'running' && this.#url !== undefined && (await heartbeat(this.#url, 2000, this.authHeaders))) return this.#url;
    if (this.#options.url !== undefined) {
      throw new AicoDataError('UNAVAILABLE', `the Chroma server at ${this.#options.url} does not answer its heartbeat. ${FIX}`, { store: 'chroma', url: this.#options.url });
    }
    // The exit handler may have started a restart while the heartbeat was awaited: join it, and
    // never mistake the new, still starting server for the hung one.
    if (this.#starting) return this.#starting;
    if (child !== undefined && child === this.#child && child.exitCode === null && child.signalCode === null) {
      // Alive but not answering: replace it (its exit handler starts the replacement).
      child.kill('SIGKILL');
      await this.#exited;
    }
    return this.#starting ?? this.ensure();
  }

  /** Stops the server: SIGTERM, then SIGKILL after the grace period. Idempotent. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    await this.#starting?.catch(() => undefined);
    await this.#kill();
  }

  /** Test hook: kills the server as a crash would (SIGKILL), without marking it stopped. */
  crashForTest(): void {
    this.#child?.kill('SIGKILL');
  }

  #mayRestart(): boolean {
    if (this.#options.autoRestart === false) return false;
    const now = Date.now();
    this.#restarts = this.#restarts.filter((t) => now - t < 60_000);
    return this.#restarts.length < (this.#options.maxRestartsPerMinute ?? 5);
  }

  #start(): Promise<string> {
    const p = this.#startOnce().finally(() => {
      if (this.#starting === p) this.#starting = undefined;
    });
    this.#starting = p;
    return p;
  }

  async #startOnce(): Promise<string> {
    const previous = this.#state;
    this.#state = 'starting';
    if (previous === 'down') this.#restarts.push(Date.now());
    try {
      const url = this.#options.url !== undefined ? await this.#checkExternal(this.#options.url) : await this.#launch();
      if ((this.#state as State) === 'stopped') {
        await this.#kill();
        throw new AicoDataError('CLOSED', 'the vector store was closed');
      }
      this.#url = url;
      this.#generation++;
      this.#state = 'running';
      this.#lastError = undefined;
      return url;
    } catch (e) {
      if ((this.#state as State) !== 'stopped') this.#state = 'down';
      this.#lastError = e instanceof AicoDataError ? e : new AicoDataError('UNAVAILABLE', String(e), { store: 'chroma' });
      throw this.#lastError;
    }
  }

  async #checkExternal(url: string): Promise<string> {
    const base = url.replace(/\/+$/, '');
    if (!(await heartbeat(base, 5000))) {
      throw new AicoDataError('UNAVAILABLE', `the configured Chroma server ${base} does not answer ${HEARTBEAT}`, { store: 'chroma', url: base });
    }
    this.#source = { kind: 'url', url: base };
    return base;
  }

  async #launch(): Promise<string> {
    const insecure = this.#options.insecureSharedLoopback === true;
    const isolation = insecure ? ({ kind: 'none', reason: 'insecureSharedLoopback is set' } as const) : probeIsolation();
    if (isolation.kind === 'none' && !insecure) {
      throw new AicoDataError(
        'UNAVAILABLE',
        `the vector server cannot be isolated (${isolation.reason}): Chroma 1.0 has no authentication, so on the shared loopback any local process could read and delete the index. ${ISOLATION_FIX}`,
        { store: 'chroma', isolation: isolation.reason },
      );
    }
    const { candidates, notes } = discoverServers(this.#options);
    // A source that worked before is tried first on a restart.
    const ordered = this.#source ? [this.#source, ...candidates.filter((c) => describeSource(c) !== describeSource(this.#source!))] : candidates;
    const failures: string[] = [];
    mkdirSync(this.#persistDir, { recursive: true, mode: 0o700 });
    // A server orphaned by a crashed data layer may still hold the folder: stop it first.
    await reapStaleServer(this.#persistDir);
    const isolated = isolation.kind === 'namespace';
    if (isolated) this.#sweepSockets();
    const previousPort = !isolated && this.#url ? Number(new URL(this.#url).port) : undefined;
    for (const source of ordered) {
      if (source.kind === 'url') continue;
      for (let attempt = 0; attempt < 3; attempt++) {
        // In its own namespace the server is alone: any port is free there.
        const port = isolated ? INNER_PORT : attempt === 0 && previousPort && (await portIsFree(previousPort)) ? previousPort : await freePort(HOST);
        const outcome = await this.#spawnAndWait(source, port, isolated ? isolation : undefined);
        if (outcome.ok) {
          recordServer(this.#persistDir, this.#child!.pid!, port);
          this.#source = source;
          return outcome.url;
        }
        if (!outcome.portClash) {
          failures.push(`${describeSource(source)}: ${outcome.reason}`);
          break;
        }
        if (attempt === 2) failures.push(`${describeSource(source)}: port clashes on 3 attempts`);
      }
    }
    const looked = notes.filter((n) => n.status !== 'found').map((n) => `${n.subject}: ${n.detail}`);
    throw new AicoDataError(
      'UNAVAILABLE',
      `no Chroma server could be started. ${[...failures, ...looked].join('; ')}. ${FIX}`,
      { store: 'chroma', failures, notes },
    );
  }

  /** Folder of the bridge sockets: beside the persist folder, 0700 (a socket path has ~107 bytes at most). */
  #socketFolder(): string {
    const beside = `${this.#persistDir.replace(/[\\/]+$/, '')}.run`;
    if (beside.length + 40 <= 104) {
      mkdirSync(beside, { recursive: true, mode: 0o700 });
      return beside;
    }
    return (this.#socketDir = mkdtempSync(join(tmpdir(), 'aico-chroma-')));
  }

  /** Removes bridge sockets of processes that are gone (a SIGKILLed data layer leaves its socket). */
  #sweepSockets(): void {
    const dir = `${this.#persistDir.replace(/[\\/]+$/, '')}.run`;
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const pid = Number(name.split('-')[0]);
      if (!Number.isInteger(pid) || pid <= 0 || (pid !== process.pid && !processAlive(pid))) rmSync(join(dir, name), { force: true });
    }
  }

  async #spawnAndWait(
    source: Exclude<ServerSource, { kind: 'url' }>,
    port: number,
    isolation?: Extract<ReturnType<typeof probeIsolation>, { kind: 'namespace' }>,
  ): Promise<{ ok: true; url: string } | { ok: false; portClash: boolean; reason: string }> {
    const chromaArgs = ['run', '--path', this.#persistDir, '--host', HOST, '--port', String(port)];
    let bridge = '-';
    // A server that died on its own left its proxy open: this start gets a new one.
    await this.#closeProxy();
    if (isolation) {
      const socketPath = join(this.#socketFolder(), `${process.pid}-${randomBytes(6).toString('hex')}.sock`);
      this.#socketPath = socketPath;
      bridge = `${socketPath}:${port}`;
      this.#proxy = await startAuthProxy(socketPath);
    }
    const wrapperArgs =
      source.kind === 'binding'
        ? ['-e', SERVER_MAIN_SOURCE, 'binding', source.modulePath, bridge, 'chroma', ...chromaArgs]
        : ['-e', SERVER_MAIN_SOURCE, 'exec', source.path, bridge, ...chromaArgs];
    const ns = isolation ? namespacePrefix(isolation) : undefined;
    const file = ns ? ns.file : process.execPath;
    const args = ns ? [...ns.args, process.execPath, ...wrapperArgs] : wrapperArgs;
    this.#stderr = '';
    const child = spawn(file, args, {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // ELECTRON_RUN_AS_NODE: inside an Electron app, process.execPath is the app; this makes it plain Node.
      env: { ...process.env, ANONYMIZED_TELEMETRY: 'False', ELECTRON_RUN_AS_NODE: '1' },
      windowsHide: true,
    });
    const keepTail = (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString('utf8')).slice(-STDERR_TAIL);
    };
    child.stdout!.on('data', keepTail);
    child.stderr!.on('data', keepTail);
    // The data layer must not stay alive just because its server runs.
    child.unref();
    (child.stdout as unknown as { unref?: () => void }).unref?.();
    (child.stderr as unknown as { unref?: () => void }).unref?.();
    (child as unknown as { channel?: { unref?: () => void } }).channel?.unref?.();
    this.#child = child;
    let exited = false;
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        exited = true;
        if (CRASH_SIGNALS.has(signal ?? '') || code === 134 || code === 139) this.#crashStreak++;
        if (this.#child === child) this.#onExit();
        resolve();
      });
      child.once('error', () => resolve());
    });

    const url = this.#proxy ? this.#proxy.url : `http://${HOST}:${port}`;
    const deadline = Date.now() + (this.#options.startTimeoutMs ?? 60_000);
    while (Date.now() < deadline) {
      if (exited) break;
      if (await heartbeat(url, 1000)) {
        if (!exited) return { ok: true, url };
        break;
      }
      await sleep(100);
    }
    const tail = lastLines(this.#stderr);
    await this.#closeProxy();
    if (!exited) {
      await this.#kill();
      return { ok: false, portClash: false, reason: `no heartbeat within ${this.#options.startTimeoutMs ?? 60_000} ms${tail ? ` (${tail})` : ''}` };
    }
    const portClash = /not available|in use|AddrInUse/i.test(this.#stderr);
    return { ok: false, portClash, reason: tail || `exited with code ${child.exitCode ?? child.signalCode}` };
  }

  #onExit(): void {
    const wasRunning = this.#state === 'running';
    this.#child = undefined;
    if (this.#state === 'stopped' || this.#state === 'starting' || this.#wiping) return;
    this.#state = 'down';
    this.#lastError = new AicoDataError('UNAVAILABLE', `the Chroma server (${this.#source ? describeSource(this.#source) : '?'}) exited${lastLines(this.#stderr) ? `: ${lastLines(this.#stderr)}` : ''}`, { store: 'chroma' });
    if (wasRunning && this.#mayRestart()) {
      this.#start().catch(() => undefined);
    }
  }

  async #kill(): Promise<void> {
    const child = this.#child;
    forgetServer(this.#persistDir, child?.pid);
    await this.#closeProxy();
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const grace = this.#options.stopGraceMs ?? 5000;
    const timer = setTimeout(() => child.kill('SIGKILL'), grace);
    await this.#exited;
    clearTimeout(timer);
  }

  /** Closes the token proxy and removes this start's bridge socket. */
  async #closeProxy(): Promise<void> {
    const proxy = this.#proxy;
    this.#proxy = undefined;
    await proxy?.close();
    if (this.#socketPath) rmSync(this.#socketPath, { force: true });
    this.#socketPath = undefined;
    if (this.#socketDir) rmSync(this.#socketDir, { recursive: true, force: true });
    this.#socketDir = undefined;
  }
}

/** True when `url` answers Chroma's heartbeat within `timeoutMs`. */
export async function heartbeat(url: string, timeoutMs: number, headers: Record<string, string> = {}): Promise<boolean> {
  try {
    const r = await fetch(url + HEARTBEAT, { headers, signal: AbortSignal.timeout(timeoutMs) });
    await r.body?.cancel();
    return r.ok;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The last meaningful lines of a process's output, without colour codes. */
function lastLines(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the server's ANSI colour codes
  const clean = text.replace(/\x1b\[[0-9;]*m/g, '');
  const lines = clean.split('\n').map((l) => l.trim()).filter((l) => l && !/^[(#\s]+$/.test(l));
  return lines.slice(-3).join(' | ').slice(0, 600);
}
