/**
 * The program the managed Chroma server runs in: a small Node process started with
 * `node -e SERVER_MAIN_SOURCE <mode> <target> <bridge> <chroma args...>` and an IPC channel to the data layer.
 *
 * Why a child process, and why this wrapper:
 * - the binding's `cli([...])` blocks the thread that calls it until the server stops, so it
 *   cannot run in the data layer's process;
 * - it runs in a worker thread of the wrapper, which leaves the wrapper's main thread free to
 *   notice that the data layer went away (the IPC channel closes, even on SIGKILL) and stop the
 *   server, so no orphaned server keeps the persist directory busy;
 * - in `exec` mode (a `chroma` executable) the wrapper does the same for the grandchild;
 * - `bridge` (`<unix socket path>:<port>`, or `-`): when the server runs in a private network
 *   namespace (see `isolation.ts`), the wrapper's main thread, in that namespace too, relays
 *   connections from that Unix socket (in a 0700 folder) to the server's TCP port, the only way
 *   into the namespace.
 *
 * Kept as source text rather than a file so it runs the same from `src/` (tests) and `dist/`.
 * The wrapper installs no SIGTERM handler: SIGTERM stops it (and the server) at once; Chroma's
 * own log is durable, so an acknowledged write survives that.
 */
export const SERVER_MAIN_SOURCE = String.raw`
'use strict';
const [mode, target, bridge, ...args] = process.argv.slice(1);
const stop = () => process.kill(process.pid, 'SIGTERM');
process.on('disconnect', stop);
if (bridge !== '-') {
  const net = require('node:net');
  const fs = require('node:fs');
  const sep = bridge.lastIndexOf(':');
  const socketPath = bridge.slice(0, sep);
  const port = Number(bridge.slice(sep + 1));
  fs.rmSync(socketPath, { force: true });
  const relay = net.createServer((c) => {
    const u = net.connect(port, '127.0.0.1');
    const end = () => { c.destroy(); u.destroy(); };
    c.on('error', end); u.on('error', end); c.on('close', end); u.on('close', end);
    c.pipe(u); u.pipe(c);
  });
  relay.on('error', (e) => { process.stderr.write('aico-chroma: bridge: ' + e.message + '\n'); process.exit(74); });
  relay.listen(socketPath, () => { try { fs.chmodSync(socketPath, 0o600); } catch {} });
  relay.unref();
}
if (mode === 'binding') {
  const { Worker } = require('node:worker_threads');
  const worker = new Worker(
    "const { workerData } = require('node:worker_threads'); require(workerData.target).cli(workerData.args);",
    { eval: true, workerData: { target, args } },
  );
  worker.on('error', (e) => { process.stderr.write('aico-chroma: ' + (e && e.message ? e.message : String(e)) + '\n'); process.exit(70); });
  worker.on('exit', (code) => process.exit(code || 71));
} else if (mode === 'exec') {
  const { spawn } = require('node:child_process');
  const child = spawn(target, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  child.on('error', (e) => { process.stderr.write('aico-chroma: ' + e.message + '\n'); process.exit(72); });
  child.on('exit', (code, signal) => process.exit(code === null ? 73 : code || 71));
  process.removeListener('disconnect', stop);
  process.on('disconnect', () => { child.kill('SIGTERM'); setTimeout(() => { child.kill('SIGKILL'); process.exit(0); }, 5000).unref(); });
  process.on('SIGTERM', () => { child.kill('SIGTERM'); setTimeout(() => { child.kill('SIGKILL'); process.exit(0); }, 5000).unref(); });
} else {
  process.stderr.write('aico-chroma: unknown mode ' + mode + '\n');
  process.exit(64);
}
`;
