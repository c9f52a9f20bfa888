/**
 * bench/kv: aico-data's encrypted RocksDB key-value store against, in the same run:
 *  - classic-level 3 (LevelDB, plaintext): the issue's reference peer, loaded when installed
 *    (`npm i -D classic-level@3`, or NODE_PATH pointing at a folder that has it);
 *  - better-sqlite3 12: a `kv(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID` table, WAL,
 *    synchronous=NORMAL (plaintext);
 *  - a JS `Map` (the in-memory ceiling).
 * Same value size (100 bytes) and key shape everywhere. aico-data seals every value
 * (XChaCha20-Poly1305); no peer encrypts.
 *
 *   npx tsx bench/kv/index.ts        (AICO_BENCH_MS=3000 for longer runs)
 */
import { requirePeer } from '../peers.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFolder } from '../../src/native/index.js';
import { openKvStore } from '../../src/stores/kv/index.js';
import { bestOf, ROUNDS, type CaseResult } from '../lib/measure.js';
import { emit, type GoalInput } from '../lib/results.js';

const MS = Number(process.env.AICO_BENCH_MS ?? 1500);
const KEYS = 10_000;
const VALUE = Buffer.alloc(100, 0x61);
const key = (i: number) => `user:${String(i % KEYS).padStart(6, '0')}`;
const spread = (i: number) => (i * 7919) % KEYS;

/** One implementation under test; a missing case is skipped for that peer. */
interface Peer {
  name: string;
  get?(i: number): unknown;
  getAwait?(i: number): Promise<unknown>;
  put?(i: number): unknown;
  putAwait?(i: number): Promise<unknown>;
  getMany100?(i: number): unknown;
  putMany100?(i: number): unknown;
  prefixScan100?(i: number): unknown;
  close(): unknown;
}

const batchKeys = (i: number) => Array.from({ length: 100 }, (_, k) => key(spread(i * 100 + k)));
const writeKey = (i: number, k = 0) => `w:${String(i).padStart(9, '0')}:${k}`;
const prefixOf = (i: number) => `user:${String(spread(i) % 100).padStart(4, '0')}`; // 100 keys each

async function aico(root: string): Promise<Peer> {
  const folder = await openFolder(join(root, 'aico'), 'bench password', true, undefined);
  const kv = await openKvStore(folder);
  kv.putMany('cache', Array.from({ length: KEYS }, (_, i) => [key(i), VALUE] as const));
  return {
    name: 'aico-data (RocksDB, sealed)',
    get: (i) => kv.get('cache', key(spread(i))),
    getAwait: (i) => kv.getAsync('cache', key(spread(i))),
    put: (i) => kv.put('session', writeKey(i), VALUE),
    putAwait: (i) => kv.putAsync('session', writeKey(i), VALUE),
    getMany100: (i) => kv.getMany('cache', batchKeys(i)),
    putMany100: (i) => kv.putMany('session', Array.from({ length: 100 }, (_, k) => [writeKey(i, k), VALUE] as const)),
    prefixScan100: async (i) => {
      let n = 0;
      for await (const _ of kv.entries('cache', { prefix: prefixOf(i), batchSize: 100 })) n++;
      return n;
    },
    close: () => {
      kv.close();
      folder.close();
    },
  };
}

async function classicLevel(root: string): Promise<Peer | undefined> {
  let ClassicLevel: any;
  try {
    ({ ClassicLevel } = requirePeer('classic-level'));
  } catch {
    console.log('classic-level not installed: skipped (npm i -D classic-level@3 to compare against LevelDB)');
    return undefined;
  }
  const db = new ClassicLevel(join(root, 'level'), { keyEncoding: 'utf8', valueEncoding: 'buffer' });
  await db.open();
  await db.batch(Array.from({ length: KEYS }, (_, i) => ({ type: 'put', key: key(i), value: VALUE })));
  const p: Peer = {
    name: 'classic-level 3 (LevelDB)',
    getAwait: (i) => db.get(key(spread(i))),
    putAwait: (i) => db.put(writeKey(i), VALUE),
    getMany100: (i) => db.getMany(batchKeys(i)),
    putMany100: (i) => db.batch(Array.from({ length: 100 }, (_, k) => ({ type: 'put', key: writeKey(i, k), value: VALUE }))),
    prefixScan100: async (i) => {
      const prefix = prefixOf(i);
      let n = 0;
      for await (const _ of db.iterator({ gte: prefix, lt: prefix + '\xff' })) n++;
      return n;
    },
    close: () => db.close(),
  };
  if (typeof db.getSync === 'function') p.get = (i) => db.getSync(key(spread(i)));
  return p;
}

function betterSqlite(root: string): Peer | undefined {
  let Database: any;
  try {
    Database = requirePeer('better-sqlite3');
  } catch (e) {
    console.log(`better-sqlite3 unavailable: ${(e as Error).message}`);
    return undefined;
  }
  const db = new Database(join(root, 'kv.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE kv(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID');
  const put = db.prepare('INSERT OR REPLACE INTO kv(k, v) VALUES (?, ?)');
  const get = db.prepare('SELECT v FROM kv WHERE k = ?').pluck();
  const scan = db.prepare('SELECT k, v FROM kv WHERE k >= ? AND k < ?');
  const putMany = db.transaction((rows: Array<[string, Buffer]>) => {
    for (const [k, v] of rows) put.run(k, v);
  });
  putMany(Array.from({ length: KEYS }, (_, i) => [key(i), VALUE]));
  return {
    name: 'better-sqlite3 12 (kv table)',
    get: (i) => get.get(key(spread(i))),
    put: (i) => put.run(writeKey(i), VALUE),
    getMany100: (i) => batchKeys(i).map((k) => get.get(k)),
    putMany100: (i) => putMany(Array.from({ length: 100 }, (_, k) => [writeKey(i, k), VALUE])),
    prefixScan100: (i) => scan.all(prefixOf(i), prefixOf(i) + '\xff'),
    close: () => db.close(),
  };
}

function map(): Peer {
  const m = new Map<string, Buffer>();
  for (let i = 0; i < KEYS; i++) m.set(key(i), VALUE);
  return {
    name: 'Map (in memory)',
    get: (i) => m.get(key(spread(i))),
    put: (i) => m.set(writeKey(i), VALUE),
    getMany100: (i) => batchKeys(i).map((k) => m.get(k)),
    putMany100: (i) => {
      for (let k = 0; k < 100; k++) m.set(writeKey(i, k), VALUE);
    },
    close: () => m.clear(),
  };
}

const CASES: Array<[keyof Peer, string]> = [
  ['get', 'sync get (1 key)'],
  ['getAwait', 'awaited get (1 key)'],
  ['put', 'sync put (1 key)'],
  ['putAwait', 'awaited put (1 key)'],
  ['getMany100', 'getMany (100 keys per call)'],
  ['putMany100', 'batched put (100 keys per call, atomic)'],
  ['prefixScan100', 'prefix scan (100 entries per scan)'],
];

function table(title: string, results: CaseResult[], baselines: string[]): void {
  console.log(`\n### ${title}`);
  const present = baselines.filter((b) => results.some((r) => r.name === b));
  console.log(`| implementation | ops/s | p50 µs | p95 µs |${present.map((b) => ` vs ${b} |`).join('')}`);
  console.log(`|---|---:|---:|---:|${present.map(() => '---:|').join('')}`);
  for (const r of results) {
    const ratios = present.map((b) => {
      const base = results.find((x) => x.name === b)!;
      return ` ${(r.opsPerSec / base.opsPerSec).toFixed(2)}x |`;
    });
    console.log(`| ${r.name} | ${Math.round(r.opsPerSec).toLocaleString('en-US')} | ${r.p50us.toFixed(1)} | ${r.p95us.toFixed(1)} |${ratios.join('')}`);
  }
}

/** Issue 5's goals against classic-level; without classic-level the row compares with better-sqlite3 (no goal). */
const GOALS: Partial<Record<keyof Peer, GoalInput>> = {
  get: { on: 'ratio', min: 1.5 },
  putAwait: { on: 'ratio', min: 3 },
  putMany100: { on: 'ratio', min: 2 },
};

function emitRow(method: keyof Peer, title: string, results: CaseResult[]): void {
  const ours = results.find((r) => r.name.startsWith('aico-data'));
  const level = results.find((r) => r.name.startsWith('classic-level'));
  const peer = level ?? results.find((r) => r.name.startsWith('better-sqlite3'));
  if (!ours || !peer) return;
  const goal = level ? GOALS[method] : undefined;
  emit({
    suite: 'kv',
    workload: title,
    unit: 'ops/s',
    better: 'higher',
    aico: { name: ours.name, value: ours.opsPerSec },
    peer: { name: peer.name, value: peer.opsPerSec },
    ...(goal ? { goal } : {}),
  });
}

async function main() {
  const root = mkdtempSync(join(tmpdir(), 'aico-bench-kv-'));
  const peers: Peer[] = [];
  try {
    peers.push(await aico(root));
    const level = await classicLevel(root);
    if (level) peers.push(level);
    const sqlite = betterSqlite(root);
    if (sqlite) peers.push(sqlite);
    peers.push(map());
    console.log(`bench/kv: ${KEYS} keys, ${VALUE.length}-byte values, best of ${ROUNDS} interleaved runs of ${MS} ms per case, node ${process.version}`);
    const baselines = ['classic-level 3 (LevelDB)', 'better-sqlite3 12 (kv table)'];
    for (const [method, title] of CASES) {
      const cases = peers.flatMap((p) => {
        const op = p[method] as ((i: number) => unknown) | undefined;
        return op ? [[p.name, op] as const] : [];
      });
      const results = await bestOf(cases, MS);
      table(title, results, baselines);
      emitRow(method, title, results);
    }
  } finally {
    for (const p of peers) await p.close();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
