/**
 * bench/backup: aico-data's encrypted backup and restore against, in the same run:
 *  - better-sqlite3 12 `db.backup()`: SQLite's online backup API on a plaintext database with
 *    the same rows (no encryption, no KV store, no container): the floor for backup;
 *  - `fs.copyFile` of a file the size of the backup: the floor for restore.
 * aico-data copies libSQL pages (decrypt + re-encrypt under the libSQL key), checkpoints
 * RocksDB, and seals everything into 1 MiB XChaCha20-Poly1305 chunks; restore opens and
 * verifies every chunk. Figures are MB/s of database bytes (libSQL file + KV files) per second.
 *
 *   npx tsx bench/backup/index.ts      (AICO_BENCH_ROUNDS=5 for more rounds; median is reported)
 */
import { requirePeer } from '../peers.js';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataLayer, restoreBackup } from '../../src/index.js';
import { emit } from '../lib/results.js';

const ROUNDS = Math.max(1, Number(process.env.AICO_BENCH_ROUNDS ?? 3));
const ROWS = Number(process.env.AICO_BENCH_SIZES?.split(',')[0] ?? 60_000);
const PASSWORD = 'bench password';

function sizeOf(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((n, name) => n + sizeOf(join(path, name)), 0);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const body = (i: number) => `message ${i}: ${'the quick brown fox jumps over the lazy dog '.repeat(4)}${i * 7919}`;

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'aico-bench-backup-'));
  try {
    const dir = join(root, 'data');
    const data = await openDataLayer({ dir, password: PASSWORD, vectors: false, analytics: false });
    await data.sql.exec('CREATE TABLE bench_rows(id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    for (let start = 0; start < ROWS; start += 5000) {
      await data.sql.batch(Array.from({ length: Math.min(5000, ROWS - start) }, (_, k) => ({ sql: 'INSERT INTO bench_rows(body) VALUES (?)', params: [body(start + k)] })));
    }
    for (let start = 0; start < ROWS / 4; start += 5000) {
      data.kv.putMany('config', Array.from({ length: 5000 }, (_, k) => [`k:${start + k}`, Buffer.from(body(start + k))] as const));
    }
    await data.sql.exec('PRAGMA wal_checkpoint(TRUNCATE)').catch(() => undefined);
    const dbBytes = sizeOf(join(dir, 'aico.db')) + sizeOf(join(dir, 'kv'));

    // Peer database: the same rows, plaintext SQLite, WAL.
    const Database = requirePeer('better-sqlite3');
    const peer = new Database(join(root, 'peer.db'));
    peer.pragma('journal_mode = WAL');
    peer.exec('CREATE TABLE bench_rows(id INTEGER PRIMARY KEY, body TEXT NOT NULL); CREATE TABLE kv(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID');
    const ins = peer.prepare('INSERT INTO bench_rows(body) VALUES (?)');
    const insKv = peer.prepare('INSERT INTO kv VALUES (?, ?)');
    peer.transaction(() => {
      for (let i = 0; i < ROWS; i++) ins.run(body(i));
      for (let i = 0; i < ROWS / 4; i++) insKv.run(`k:${i}`, Buffer.from(body(i)));
    })();
    peer.pragma('wal_checkpoint(TRUNCATE)');
    const peerBytes = sizeOf(join(root, 'peer.db'));

    const ours: number[] = [];
    const theirs: number[] = [];
    const restores: number[] = [];
    const copies: number[] = [];
    let fileBytes = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const file = join(root, `b${r}.aicobak`);
      let t0 = performance.now();
      const res = await data.backup(file);
      ours.push(dbBytes / 1e6 / ((performance.now() - t0) / 1000));
      fileBytes = res.bytes;

      t0 = performance.now();
      await peer.backup(join(root, `peer-${r}.db`));
      theirs.push(peerBytes / 1e6 / ((performance.now() - t0) / 1000));

      t0 = performance.now();
      await restoreBackup({ file, dir: join(root, `restored-${r}`), password: PASSWORD });
      restores.push(dbBytes / 1e6 / ((performance.now() - t0) / 1000));

      t0 = performance.now();
      copyFileSync(file, join(root, `copy-${r}`));
      copies.push(dbBytes / 1e6 / ((performance.now() - t0) / 1000));
      rmSync(join(root, `restored-${r}`), { recursive: true, force: true });
      rmSync(join(root, `copy-${r}`), { force: true });
    }
    peer.close();
    await data.close();

    console.log(`\nbackup: ${ROWS} rows + ${ROWS / 4} KV values, ${(dbBytes / 1e6).toFixed(1)} MB of stores -> ${(fileBytes / 1e6).toFixed(1)} MB backup file; peer db ${(peerBytes / 1e6).toFixed(1)} MB; ${ROUNDS} round(s), median`);
    emit({
      suite: 'backup',
      workload: `backup of ${(dbBytes / 1e6).toFixed(0)} MB (libSQL + RocksDB), encrypted container`,
      unit: 'MB/s',
      better: 'higher',
      aico: { name: 'aico-data backup()', value: median(ours) },
      peer: { name: 'better-sqlite3 backup() (plaintext)', value: median(theirs) },
    });
    emit({
      suite: 'backup',
      workload: `restore of ${(dbBytes / 1e6).toFixed(0)} MB (authenticate + write)`,
      unit: 'MB/s',
      better: 'higher',
      aico: { name: 'aico-data restoreBackup()', value: median(restores) },
      peer: { name: 'fs.copyFile of the backup file', value: median(copies) },
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
