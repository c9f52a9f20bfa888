/**
 * The only TCP door to an isolated Chroma server: a loopback HTTP proxy in the data layer's own
 * process that forwards a request to the server's Unix socket only when it carries this
 * process's random token (`x-chroma-token`, what the chromadb client sends for token auth).
 *
 * Why a proxy at all: the chromadb client speaks HTTP through the global `fetch`, which cannot
 * reach a Unix socket. The token lives only in this process's memory (never in a file or an
 * environment variable), so another local process cannot present it; the server's real port is
 * in a private network namespace, so the proxy cannot be bypassed.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const TOKEN_HEADER = 'x-chroma-token';
/** Answered without the token: it tells only that the server is up, as Chroma's own auth allows. */
const OPEN_PATH = '/api/v2/heartbeat';

/** A running proxy. */
export interface AuthProxy {
  readonly url: string;
  readonly token: string;
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 (a free port) forwarding to the Unix socket `socketPath`. */
export async function startAuthProxy(socketPath: string): Promise<AuthProxy> {
  const token = randomBytes(32).toString('base64url');
  const expected = Buffer.from(token);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const presented = req.headers[TOKEN_HEADER];
    const given = Buffer.from(typeof presented === 'string' ? presented : '');
    const authorized = given.length === expected.length && timingSafeEqual(given, expected);
    if (!authorized && !(req.method === 'GET' && (req.url ?? '').split('?')[0] === OPEN_PATH)) {
      req.resume();
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'Unauthorized', message: 'the aico-data vector server requires its owner\'s token' }));
      return;
    }
    const headers = { ...req.headers };
    delete headers[TOKEN_HEADER];
    const upstream = request({ socketPath, agent, method: req.method, path: req.url, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => {
      // The server is gone: close the client's connection so that it sees a connection
      // failure (ECONNRESET), which makes the manager restart the server, not a 5xx.
      req.socket.destroy();
    });
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 60_000;
  // Like the server process itself, the proxy must not keep the data layer's process alive:
  // a request in flight is held alive by the client's own socket.
  server.on('connection', (socket) => socket.unref());
  agent.on('free', (socket) => socket.unref());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.unref();
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
