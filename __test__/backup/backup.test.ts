import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync, truncateSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAicoError, restoreBackup, type BackupProgress, type BackupResult, type DataLayer } from '../../src/index.js';
import { tempDir } from '../helpers/folders.js';
import { waitFor } from '../helpers/wait.js';
import { CANARY, KV_CANARY, PASSWORD, open, prefix, seed, snapshotOf, startWriter, ticksOf } from './helpers.js';

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isAicoError(e), `expected an AicoDataError ${code}, got ${String(e)}`).toBe(true);
  expect((e as { code: string }).code).toBe(code);
}

describe('backup and restore (real libSQL, DuckDB, RocksDB)', () => {
  const t = tempDir('aico-backup-');
  const src = join(t.dir, 'src');
  const file = join(t.dir, 'companion.aicobak');
  let data: DataLayer;
  let before: Record<string, unknown>;
  let result: BackupResult;
  const progress: BackupProgress[] = [];
  let written = 0;

  beforeAll(async () => {
    data = await open(src);
    await seed(data);
    await data.sql.exec('CREATE TABLE ticks(n INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    // Incompressible bytes, so that the backup spans several 1 MiB chunks.
    await data.sql.exec('CREATE TABLE blobs(id INTEGER PRIMARY KEY, b BLOB NOT NULL)');
    for (let i = 0; i < 24; i++) await data.sql.execute('INSERT INTO blobs(b) VALUES (?)', [randomBytes(64 * 1024)]);
    before = await snapshotOf(data);
    // The backup runs while a writer appends to libSQL and RocksDB.
    const writer = startWriter(data);
    await waitFor(() => writer.written() >= 3, { timeoutMs: 30_000, what: 'the writer writing' }); // writes are under way
    result = await data.backup(file, { onProgress: (p) => progress.push(p), metadata: { app: 'test' } });
    written = await writer.stop();
  }, 120_000);

  afterAll(async () => {
    await data?.close();
    t.cleanup();
  });

  it('writes one file while writes continue, and reports progress', () => {
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).size).toBe(result.bytes);
    expect(result.keyId).toBe(data.keyId);
    expect(result.sqlPages).toBeGreaterThan(0);
    expect(result.files).toBeGreaterThan(1); // aico.db + the RocksDB checkpoint
    expect(written).toBeGreaterThan(0);
    const last = progress.at(-1)!;
    expect(last.phase).toBe('write');
    expect(last.done).toBe(last.total);
    expect(last.total).toBeGreaterThan(0);
    // no scratch or partial files are left behind
    expect(readdirSync(src).filter((n) => n.startsWith('.backup-'))).toEqual([]);
    expect(readdirSync(t.dir).filter((n) => n.includes('.partial-'))).toEqual([]);
  });

  it('never contains plaintext: canaries of libSQL and RocksDB values are absent', () => {
    const bytes = readFileSync(file);
    for (const needle of [CANARY, KV_CANARY, 'fact 0: likes jazz', 'CREATE TABLE', 'SQLite format 3']) {
      expect(bytes.includes(Buffer.from(needle)), needle).toBe(false);
      expect(bytes.includes(Buffer.from(needle, 'utf16le')), `${needle} (utf16)`).toBe(false);
    }
  });

  it('restores into an empty folder with identical query results and a consistent cut of the concurrent writes', async () => {
    const dest = join(t.dir, 'restored');
    const seen: BackupProgress[] = [];
    const r = await restoreBackup({ file, dir: dest, password: PASSWORD, onProgress: (p) => seen.push(p) });
    expect(r.keyId).toBe(data.keyId);
    expect(r.backupId).toBe(result.backupId);
    expect(r.manifest.format).toBe('aico-data-backup/1');
    expect(r.manifest.app.schemaVersions.users).toBeGreaterThan(0);
    expect(r.manifest.app.metadata).toEqual({ app: 'test' });
    expect(r.manifest.chroma).toBe('rebuild');
    expect(r.manifest.files.map((f) => f.name)).toContain('aico.db');
    expect(seen.at(-1)).toMatchObject({ phase: 'restore' });
    expect(seen.at(-1)!.done).toBe(seen.at(-1)!.total);

    const restored = await open(dest, { create: false });
    try {
      expect(restored.keyId).toBe(data.keyId);
      expect({ ...(await snapshotOf(restored)), blobs: await restored.sql.queryRaw('SELECT id, b FROM blobs ORDER BY id') }).toEqual({
        ...before,
        blobs: await data.sql.queryRaw('SELECT id, b FROM blobs ORDER BY id'),
      });
      // The canary is in the restored data (so the scan above looked for something real).
      const rows = (await restored.sql.queryRaw('SELECT count(*) FROM messages WHERE content LIKE ?', [`%${CANARY}%`])) as number[][];
      expect(rows[0]![0]).toBe(60);
      // Each store is a consistent snapshot: ticks 1..n with no gap, at most what was written.
      const ticks = await ticksOf(restored);
      expect(ticks.sql).toEqual(prefix(ticks.sql.length));
      expect(ticks.kv).toEqual(prefix(ticks.kv.length));
      expect(ticks.sql.length).toBeLessThanOrEqual(written);
      expect(ticks.kv.length).toBeGreaterThanOrEqual(ticks.sql.length - 1); // KV checkpoint is taken after the libSQL copy
      const live = await ticksOf(data);
      expect(live.sql.slice(0, ticks.sql.length)).toEqual(ticks.sql);
      // The restored folder is a normal, writable one.
      await restored.sql.execute('INSERT INTO ticks(n, body) VALUES (?, ?)', [1e9, 'after restore']);
    } finally {
      await restored.close();
    }
  });

  it('refuses a wrong password with WRONG_PASSWORD and leaves the folder missing', async () => {
    const dest = join(t.dir, 'wrong-password');
    await expectCode(restoreBackup({ file, dir: dest, password: 'not the password' }), 'WRONG_PASSWORD');
    expect(existsSync(dest)).toBe(false);
  });

  it('refuses a tampered backup with CORRUPT, wherever the change is', async () => {
    const bytes = readFileSync(file);
    // header magic, header key file, first chunk, a middle chunk, the last byte
    const offsets = [2, 100, 300, Math.floor(bytes.length / 2), bytes.length - 1];
    for (const [i, at] of offsets.entries()) {
      const bad = Buffer.from(bytes);
      bad[at] = bad[at]! ^ 0x04;
      const f = join(t.dir, `tampered-${i}.aicobak`);
      writeFileSync(f, bad);
      const dest = join(t.dir, `tampered-${i}`);
      mkdirSync(dest);
      await expectCode(restoreBackup({ file: f, dir: dest, password: PASSWORD }), 'CORRUPT');
      // An existing empty folder is left empty: nothing of an unauthenticated backup stays.
      expect(readdirSync(dest)).toEqual([]);
    }
  });

  it('refuses a truncated backup with CORRUPT (inside a chunk and at a chunk boundary)', async () => {
    const bytes = readFileSync(file);
    // The first chunk ends at 248 (header) + 4 + 1 MiB + 41 when the backup spans several chunks.
    const boundary = 248 + 4 + (1 << 20) + 41;
    const cuts = [100, 260, Math.floor(bytes.length / 2), bytes.length - 1, ...(bytes.length > boundary ? [boundary] : [])];
    expect(bytes.length).toBeGreaterThan(boundary);
    for (const [i, cut] of cuts.entries()) {
      const f = join(t.dir, `truncated-${i}.aicobak`);
      writeFileSync(f, bytes);
      truncateSync(f, cut);
      const dest = join(t.dir, `truncated-${i}`);
      await expectCode(restoreBackup({ file: f, dir: dest, password: PASSWORD }), 'CORRUPT');
      expect(existsSync(dest)).toBe(false);
    }
    const f = join(t.dir, 'appended.aicobak');
    writeFileSync(f, Buffer.concat([bytes, Buffer.from([0])]));
    await expectCode(restoreBackup({ file: f, dir: join(t.dir, 'appended'), password: PASSWORD }), 'CORRUPT');
  });

  it('refuses bad arguments: a non-empty folder, an existing output file, a missing backup', async () => {
    const busy = join(t.dir, 'busy');
    mkdirSync(busy);
    writeFileSync(join(busy, 'keep.txt'), 'mine');
    await expectCode(restoreBackup({ file, dir: busy, password: PASSWORD }), 'INVALID_ARGUMENT');
    expect(readFileSync(join(busy, 'keep.txt'), 'utf8')).toBe('mine');
    await expectCode(data.backup(file), 'INVALID_ARGUMENT');
    await expectCode(restoreBackup({ file: join(t.dir, 'nope'), dir: join(t.dir, 'n'), password: PASSWORD }), 'INVALID_ARGUMENT');
    await expectCode(restoreBackup({ file, dir: '', password: PASSWORD }), 'INVALID_ARGUMENT');
    await expectCode(data.backup(join(t.dir, 'x.aicobak'), { metadata: [] as unknown as Record<string, unknown> }), 'INVALID_ARGUMENT');
  });
});
