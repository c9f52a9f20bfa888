/**
 * bench/sql: aico-data's encrypted libSQL store against better-sqlite3 12 (plaintext) and the
 * `libsql` npm package (with encryptionKey), side by side in one process run.
 * All three use WAL and synchronous=NORMAL.
 *
 *   npm run bench:sql            (AICO_BENCH_MS=3000 for longer runs)
 */
import { requirePeer } from '../peers.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataLayer } from '../../src/index.js';
import { bestOf, report, ROUNDS, type CaseResult } from '../lib/measure.js';
import { emit, type GoalInput } from '../lib/results.js';

const require = createRequire(import.meta.url);
const MS = Number(process.env.AICO_BENCH_MS ?? 1500);
const ROWS = 10_000;
const BODY = 'x'.repeat(100);

interface Peer {
  name: string;
  pointRead(id: number): unknown;
  read100(start: number): unknown;
  insert1(i: number): unknown;
  insert100(i: number): unknown;
  close(): void | Promise<void>;
}

const SCHEMA = 'CREATE TABLE IF NOT EXISTS items(id INTEGER PRIMARY KEY, name TEXT, body TEXT); CREATE TABLE IF NOT EXISTS sink(id INTEGER PRIMARY KEY, name TEXT, body TEXT)';
const POINT = 'SELECT id, name, body FROM items WHERE id = ?';
const RANGE = 'SELECT id, name, body FROM items WHERE id >= ? ORDER BY id LIMIT 100';
const INSERT = 'INSERT INTO sink(name, body) VALUES (?, ?)';

function sqliteLike(name: string, db: any): Peer {
  db.exec(SCHEMA);
  const fill = db.prepare('INSERT INTO items(id, name, body) VALUES (?, ?, ?)');
  db.exec('BEGIN');
  for (let i = 1; i <= ROWS; i++) fill.run(i, `name-${i}`, BODY);
  db.exec('COMMIT');
  const point = db.prepare(POINT);
  const range = db.prepare(RANGE);
  const ins = db.prepare(INSERT);
  const many = db.transaction
    ? db.transaction((i: number) => {
        for (let k = 0; k < 100; k++) ins.run(`n${i}-${k}`, BODY);
      })
    : (i: number) => {
        db.exec('BEGIN');
        for (let k = 0; k < 100; k++) ins.run(`n${i}-${k}`, BODY);
        db.exec('COMMIT');
      };
  return {
    name,
    pointRead: (i) => point.get((i * 7919) % ROWS + 1),
    read100: (i) => range.all((i * 31) % (ROWS - 100) + 1),
    insert1: (i) => ins.run(`n${i}`, BODY),
    insert100: (i) => many(i),
    close: () => db.close(),
  };
}

async function main() {
  const root = mkdtempSync(join(tmpdir(), 'aico-bench-sql-'));
  const peers: Peer[] = [];
  try {
    const Better = requirePeer('better-sqlite3');
    const b = new Better(join(root, 'better.db'));
    b.pragma('journal_mode = WAL');
    b.pragma('synchronous = NORMAL');
    peers.push(sqliteLike('better-sqlite3 12 (plaintext)', b));
  } catch (e) {
    console.log(`better-sqlite3 unavailable: ${(e as Error).message}`);
  }
  try {
    const Libsql = require('libsql');
    const l = new Libsql(join(root, 'libsql.db'), { encryptionKey: 'bench-key-0123456789abcdef' });
    l.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL');
    peers.push(sqliteLike('libsql-js (encrypted)', l));
  } catch (e) {
    console.log(`libsql npm unavailable: ${(e as Error).message}`);
  }

  const data = await openDataLayer({ dir: join(root, 'aico'), password: 'bench password' });
  const sql = data.sql;
  sql.execSync(SCHEMA);
  sql.transactionSync((tx) => {
    for (let i = 1; i <= ROWS; i++) tx.executeSync('INSERT INTO items(id, name, body) VALUES (?, ?, ?)', [i, `name-${i}`, BODY]);
  });
  const aicoSync: Peer = {
    name: 'aico-data sync (encrypted)',
    pointRead: (i) => sql.queryOneSync(POINT, [(i * 7919) % ROWS + 1]),
    read100: (i) => sql.querySync(RANGE, [(i * 31) % (ROWS - 100) + 1]),
    insert1: (i) => sql.executeSync(INSERT, [`n${i}`, BODY]),
    insert100: (i) =>
      sql.transactionSync((tx) => {
        for (let k = 0; k < 100; k++) tx.executeSync(INSERT, [`n${i}-${k}`, BODY]);
      }),
    close: () => undefined,
  };
  // Prepared statements (issue 18): the same statements made once, as the peers do.
  const point = sql.prepare(POINT);
  const range = sql.prepare(RANGE);
  const ins = sql.prepare(INSERT);
  const aicoPrepared: Peer = {
    name: 'aico-data prepared sync (encrypted)',
    pointRead: (i) => point.getSync([(i * 7919) % ROWS + 1]),
    read100: (i) => range.allSync([(i * 31) % (ROWS - 100) + 1]),
    insert1: (i) => ins.runSync([`n${i}`, BODY]),
    insert100: (i) => ins.runManySync(Array.from({ length: 100 }, (_, k) => [`n${i}-${k}`, BODY])),
    close: () => undefined,
  };
  const aicoPreparedAsync: Peer = {
    name: 'aico-data prepared async (encrypted)',
    pointRead: (i) => point.get([(i * 7919) % ROWS + 1]),
    read100: (i) => range.all([(i * 31) % (ROWS - 100) + 1]),
    insert1: (i) => ins.run([`n${i}`, BODY]),
    insert100: (i) => ins.runMany(Array.from({ length: 100 }, (_, k) => [`n${i}-${k}`, BODY])),
    close: () => undefined,
  };
  const aicoAsync: Peer = {
    name: 'aico-data async (encrypted)',
    pointRead: (i) => sql.queryOne(POINT, [(i * 7919) % ROWS + 1]),
    read100: (i) => sql.query(RANGE, [(i * 31) % (ROWS - 100) + 1]),
    insert1: (i) => sql.execute(INSERT, [`n${i}`, BODY]),
    insert100: (i) => sql.batch(Array.from({ length: 100 }, (_, k) => ({ sql: INSERT, params: [`n${i}-${k}`, BODY] }))),
    close: () => data.close(),
  };
  const all = [...peers, aicoSync, aicoPrepared, aicoAsync, aicoPreparedAsync];
  const baseline = peers[0]?.name ?? aicoSync.name;
  console.log(`bench/sql — ${ROWS} rows, best of ${ROUNDS} interleaved runs of ${MS} ms per case, node ${process.version}, ${new Date().toISOString()}`);
  const cases: Array<[string, keyof Omit<Peer, 'name' | 'close'>]> = [
    ['point read by primary key', 'pointRead'],
    ['read 100 rows', 'read100'],
    ['insert 1 row (autocommit)', 'insert1'],
    ['insert 100 rows in one transaction', 'insert100'],
  ];
  const summary: Record<string, CaseResult[]> = {};
  for (const [title, key] of cases) {
    const results = await bestOf(all.map((p) => [p.name, (i: number) => p[key](i)] as const), MS);
    report(title, results, baseline);
    summary[title] = results;
  }
  emitRows(summary);
  await asyncLatency(point);
  for (const p of all) await p.close();
  rmSync(root, { recursive: true, force: true });
  if (process.env.AICO_BENCH_JSON) console.log(JSON.stringify(summary));
}

/**
 * Issue 18 item 3: the async API's per-call latency (p50/p95) with 1 and with 64 callers
 * keeping a prepared point read in flight each; the thread hand-off is most of it.
 */
async function asyncLatency(point: { get(p: number[]): Promise<unknown> }): Promise<void> {
  for (const callers of [1, 64]) {
    const lat: number[] = [];
    const until = performance.now() + MS;
    let i = 0;
    const worker = async () => {
      while (performance.now() < until) {
        const t0 = performance.now();
        await point.get([((i++ * 7919) % ROWS) + 1]);
        lat.push((performance.now() - t0) * 1000);
      }
    };
    await Promise.all(Array.from({ length: callers }, worker));
    lat.sort((a, b) => a - b);
    const q = (f: number) => lat[Math.min(lat.length - 1, Math.floor(lat.length * f))]!;
    console.log(`async prepared point read, ${callers} caller(s): ${lat.length} calls, p50 ${q(0.5).toFixed(1)} µs, p95 ${q(0.95).toFixed(1)} µs`);
    for (const [name, f] of [['p50', 0.5], ['p95', 0.95]] as const) {
      emit({ suite: 'sql', workload: `async prepared point read latency ${name}, ${callers} concurrent caller${callers > 1 ? 's' : ''}`, unit: 'µs', better: 'lower', aico: { name: 'aico-data prepared async (encrypted)', value: q(f) }, peer: null });
    }
  }
}

/** Report rows: each API against plaintext better-sqlite3, and the sync API against libsql-js (issue 1's goals). */
function emitRows(summary: Record<string, CaseResult[]>): void {
  // Issue 18's goals: every sync row >= 1.0x plaintext better-sqlite3, async point reads >= 0.5x,
  // and the string API within 0.8x of prepare().
  const goalFor = (title: string, ours: string, theirs: string): GoalInput | undefined => {
    if (theirs.startsWith('aico-data')) return { on: 'ratio', min: 0.8 };
    if (!theirs.startsWith('better-sqlite3')) return undefined;
    if (ours.includes('async')) return title === 'point read by primary key' ? { on: 'ratio', min: 0.5 } : undefined;
    return { on: 'ratio', min: 1 };
  };
  for (const [title, rs] of Object.entries(summary)) {
    const find = (name: string) => rs.find((r) => r.name === name);
    const pairs: Array<[string, string]> = [
      ['aico-data sync (encrypted)', 'better-sqlite3 12 (plaintext)'],
      ['aico-data prepared sync (encrypted)', 'better-sqlite3 12 (plaintext)'],
      ['aico-data async (encrypted)', 'better-sqlite3 12 (plaintext)'],
      ['aico-data prepared async (encrypted)', 'better-sqlite3 12 (plaintext)'],
      ['aico-data sync (encrypted)', 'aico-data prepared sync (encrypted)'],
      ['aico-data sync (encrypted)', 'libsql-js (encrypted)'],
    ];
    for (const [ours, theirs] of pairs) {
      const a = find(ours);
      const b = find(theirs);
      if (!a || !b) continue;
      const api = `${ours.includes('prepared') ? 'prepared ' : ''}${ours.includes('async') ? 'async' : 'sync'}${theirs.startsWith('aico-data') ? ' string API vs prepare()' : ''}`;
      emit({
        suite: 'sql',
        workload: `${title} (${api} API)`,
        unit: 'ops/s',
        better: 'higher',
        aico: { name: ours, value: a.opsPerSec },
        peer: { name: theirs, value: b.opsPerSec },
        ...(goalFor(title, ours, theirs) ? { goal: goalFor(title, ours, theirs) } : {}),
      });
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
