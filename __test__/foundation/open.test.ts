import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync, truncateSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AicoDataError, openDataLayer, type DataLayer } from '../../src/index.js';
import { filesBelow, filesContaining, tempDir } from '../helpers/folders.js';

const PASSWORD = 'correct horse battery staple';
let cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function fresh(): Promise<{ dir: string; data: DataLayer }> {
  const t = tempDir();
  const data = await openDataLayer({ dir: join(t.dir, 'data'), password: PASSWORD });
  cleanups.push(t.cleanup, () => data.close());
  return { dir: join(t.dir, 'data'), data };
}

async function expectCode(p: Promise<unknown> | (() => unknown), code: string): Promise<AicoDataError> {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${code}`).toBeInstanceOf(AicoDataError);
  expect((err as AicoDataError).code).toBe(code);
  return err as AicoDataError;
}

describe('opening a data folder', () => {
  it('creates the folder, key file and an encrypted database', async () => {
    const { dir, data } = await fresh();
    expect(data.created).toBe(true);
    expect(existsSync(join(dir, 'aico-data.key'))).toBe(true);
    expect(data.keyId).toMatch(/^[0-9a-f]{32}$/);
    await data.sql.exec('CREATE TABLE t(x)');
    await data.close();
    const header = readFileSync(join(dir, 'aico.db')).subarray(0, 16).toString('latin1');
    expect(header).not.toBe('SQLite format 3\0');
    const again = await openDataLayer({ dir, password: PASSWORD });
    cleanups.push(() => again.close());
    expect(again.created).toBe(false);
    const tables = (await again.sql.query<{ name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table'")).map((r) => r.name);
    expect(tables).toContain('t');
    expect(tables).toContain('_aico_schema_metadata'); // core schemas applied at open
  });

  it('keeps a canary string out of every file, and Python sqlite3 cannot read the database', async () => {
    const { dir, data } = await fresh();
    const canary = `CANARY-${Math.random().toString(36).slice(2)}-secret`;
    await data.sql.exec('CREATE TABLE m(id INTEGER PRIMARY KEY, body TEXT)');
    await data.sql.batch(Array.from({ length: 300 }, (_, i) => ({ sql: 'INSERT INTO m(body) VALUES (?)', params: [`${canary} ${i}`] })));
    expect(filesContaining(dir, canary)).toEqual([]); // WAL included
    await data.close();
    expect(filesContaining(dir, canary)).toEqual([]);
    const py = `import sqlite3,sys\ntry:\n  sqlite3.connect(sys.argv[1]).execute('select count(*) from sqlite_master').fetchall(); print('READABLE')\nexcept Exception as e: print('ERR', e)`;
    const out = execFileSync('python3', ['-c', py, join(dir, 'aico.db')]).toString();
    expect(out).toMatch(/^ERR .*not a database/);
  });

  it('rejects a wrong password before touching any file', async () => {
    const { dir, data } = await fresh();
    await data.sql.exec('CREATE TABLE t(x); INSERT INTO t VALUES (1)');
    await data.close();
    const before = filesBelow(dir);
    await expectCode(openDataLayer({ dir, password: 'wrong' }), 'WRONG_PASSWORD');
    expect(filesBelow(dir)).toEqual(before);
  });

  for (const damage of ['truncated', 'random'] as const) {
    it(`reports a ${damage} key file as CORRUPT and overwrites nothing`, async () => {
      const { dir, data } = await fresh();
      await data.close();
      const key = join(dir, 'aico-data.key');
      if (damage === 'truncated') truncateSync(key, 40);
      else writeFileSync(key, Buffer.from(Array.from({ length: 160 }, (_, i) => (i * 31 + 7) % 256)));
      const before = filesBelow(dir);
      await expectCode(openDataLayer({ dir, password: PASSWORD }), 'CORRUPT');
      expect(filesBelow(dir)).toEqual(before);
    });

    it(`reports a ${damage} database as CORRUPT and overwrites nothing`, async () => {
      const { dir, data } = await fresh();
      await data.sql.exec('CREATE TABLE t(x); INSERT INTO t SELECT randomblob(1000) FROM generate_series(1, 200)');
      await data.close();
      const db = join(dir, 'aico.db');
      const size = readFileSync(db).length;
      if (damage === 'truncated') truncateSync(db, Math.floor(size / 3));
      else writeFileSync(db, Buffer.from(Array.from({ length: size }, (_, i) => (i * 7919) % 251)));
      const before = filesBelow(dir);
      const err = await (async () => {
        try {
          const d = await openDataLayer({ dir, password: PASSWORD });
          cleanups.push(() => d.close());
          const problems = d.sql.integrityCheck();
          await d.sql.query('SELECT count(*) FROM t');
          return problems.length > 0 ? new AicoDataError('CORRUPT', problems.join('; ')) : undefined;
        } catch (e) {
          return e as AicoDataError;
        }
      })();
      expect(err?.code).toBe('CORRUPT');
      expect(filesBelow(dir).get(db)).toEqual(before.get(db));
    });
  }

  it('reports a missing database beside an existing key file as CORRUPT', async () => {
    const { dir, data } = await fresh();
    await data.close();
    writeFileSync(join(dir, 'aico.db'), '');
    await expectCode(openDataLayer({ dir, password: PASSWORD }), 'CORRUPT');
  });

  it('reports a folder that cannot be written as IO', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    let target: string;
    if (process.getuid?.() === 0) {
      // root ignores permission bits: use a path under a regular file instead (ENOTDIR)
      writeFileSync(join(t.dir, 'file'), 'x');
      target = join(t.dir, 'file', 'data');
    } else {
      mkdirSync(join(t.dir, 'ro'));
      chmodSync(join(t.dir, 'ro'), 0o500);
      target = join(t.dir, 'ro', 'data');
    }
    await expectCode(openDataLayer({ dir: target, password: PASSWORD }), 'IO');
    // read-only /proc is read-only for root too
    await expectCode(openDataLayer({ dir: '/proc/aico-data-test', password: PASSWORD }), 'IO');
  });

  it('validates its options', async () => {
    await expectCode(openDataLayer({ dir: '', password: PASSWORD }), 'INVALID_ARGUMENT');
    await expectCode(openDataLayer({ dir: '/tmp/x', password: '' }), 'INVALID_ARGUMENT');
    // @ts-expect-error wrong type on purpose
    await expectCode(openDataLayer({ dir: 42, password: PASSWORD }), 'INVALID_ARGUMENT');
    const t = tempDir();
    cleanups.push(t.cleanup);
    await expectCode(openDataLayer({ dir: t.dir + '/d', password: PASSWORD, kdf: { memoryKib: 1024 } }), 'INVALID_ARGUMENT');
    await expectCode(openDataLayer({ dir: t.dir + '/none', password: PASSWORD, create: false }), 'IO');
  });
});

describe('changing the password', () => {
  it('rewraps the key without re-encrypting data', async () => {
    const { dir, data } = await fresh();
    await data.sql.exec("CREATE TABLE t(x); INSERT INTO t VALUES ('kept')");
    await expectCode(data.changePassword('not it', 'new password'), 'WRONG_PASSWORD');
    await data.changePassword(PASSWORD, 'new password');
    await data.close();
    const db = readFileSync(join(dir, 'aico.db'));
    await expectCode(openDataLayer({ dir, password: PASSWORD }), 'WRONG_PASSWORD');
    const again = await openDataLayer({ dir, password: 'new password' });
    cleanups.push(() => again.close());
    expect(await again.sql.queryOne('SELECT x FROM t')).toEqual({ x: 'kept' });
    expect(readFileSync(join(dir, 'aico.db')).equals(db)).toBe(true);
  });
});

describe('crypto', () => {
  it('seals with associated data and detects tampering', async () => {
    const { data } = await fresh();
    const aad = Buffer.from('memories:42');
    const sealed = data.crypto.seal('chroma', Buffer.from('a secret memory'), aad);
    expect(sealed.includes(Buffer.from('a secret memory'))).toBe(false);
    expect(data.crypto.open('chroma', sealed, aad).toString()).toBe('a secret memory');
    await expectCode(() => data.crypto.open('chroma', sealed, Buffer.from('memories:43')), 'CORRUPT');
    await expectCode(() => data.crypto.open('sync', sealed, aad), 'CORRUPT');
    const flipped = Buffer.from(sealed);
    flipped[30] ^= 1;
    await expectCode(() => data.crypto.open('chroma', flipped, aad), 'CORRUPT');
    expect(data.crypto.hmac('chroma/hmac', Buffer.from('x'))).toEqual(data.crypto.hmac('chroma/hmac', Buffer.from('x')));
    expect(data.crypto.hmac('chroma/hmac', Buffer.from('x'))).not.toEqual(data.crypto.hmac('sync/hmac', Buffer.from('x')));
    await expectCode(() => data.crypto.seal('libsql', Buffer.from('x')), 'INVALID_ARGUMENT');
    await expectCode(() => data.crypto.seal('chroma', 'text' as unknown as Buffer), 'INVALID_ARGUMENT');
  });
});
