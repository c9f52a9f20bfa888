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
  const aicoAsync: Peer = {
    name: 'aico-data async (encrypted)',
    pointRead: (i) => sql.queryOne(POINT, [(i * 7919) % ROWS + 1]),
    read100: (i) => sql.query(RANGE, [(i * 31) % (ROWS - 100) + 1]),
    insert1: (i) => sql.execute(INSERT, [`n${i}`, BODY]),
    insert100: (i) => sql.batch(Array.from({ length: 100 }, (_, k) => ({ sql: INSERT, params: [`n${i}-${k}`, BODY] }))),
    close: () => data.close(),
  };
  const all = [...peers, aicoSync, aicoAsync];
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
  for (const p of all) await p.close();
  rmSync(root, { recursive: true, force: true });
  if (process.env.AICO_BENCH_JSON) console.log(JSON.stringify(summary));
}

/** Report rows: each API against plaintext better-sqlite3, and the sync API against libsql-js (issue 1's goals). */
function emitRows(summary: Record<string, CaseResult[]>): void {
  const goals: Record<string, GoalInput> = {
    'point read by primary key': { on: 'ratio', min: 1 },
    'insert 100 rows in one transaction': { on: 'ratio', min: 1 },
  };
  for (const [title, rs] of Object.entries(summary)) {
    const find = (name: string) => rs.find((r) => r.name === name);
    const pairs: Array<[string, string]> = [
      ['aico-data sync (encrypted)', 'better-sqlite3 12 (plaintext)'],
      ['aico-data async (encrypted)', 'better-sqlite3 12 (plaintext)'],
      ['aico-data sync (encrypted)', 'libsql-js (encrypted)'],
    ];
    for (const [ours, theirs] of pairs) {
      const a = find(ours);
      const b = find(theirs);
      if (!a || !b) continue;
      const api = ours.includes('async') ? 'async' : 'sync';
      emit({
        suite: 'sql',
        workload: `${title} (${api} API)`,
        unit: 'ops/s',
        better: 'higher',
        aico: { name: ours, value: a.opsPerSec },
        peer: { name: theirs, value: b.opsPerSec },
        ...(goals[title] && theirs.startsWith('better-sqlite3') ? { goal: goals[title] } : {}),
      });
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
