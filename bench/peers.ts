/**
 * Benchmark peers that compile with node-gyp at install time (better-sqlite3, classic-level) are
 * not devDependencies: `npm ci` must work on a machine that cannot download Node headers.
 * `scripts/ensure-bench-peers.mjs` installs them on demand into a cache folder outside the
 * clone; this resolves them from the project first, then from that folder.
 */
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where `ensure-bench-peers` installs the peers (same default as the script). */
export const PEERS_DIR = process.env.AICO_BENCH_PEERS_DIR ?? join(homedir(), '.cache', 'aico-data', 'bench-peers');

const local = createRequire(import.meta.url);
const cached = createRequire(join(PEERS_DIR, 'package.json'));

/** `require(name)` from the project, else from {@link PEERS_DIR}; throws when neither has it. */
export function requirePeer<T = any>(name: string): T {
  try {
    return local(name) as T;
  } catch {
    return cached(name) as T;
  }
}
