import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AicoDataError, openDataLayer, type DataLayer } from '../../src/index.js';
import { tempDir } from '../helpers/folders.js';

let data: DataLayer;
let cleanup: () => void;
beforeEach(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  data = await openDataLayer({ dir: join(t.dir, 'd'), password: 'pw' });
  await data.sql.exec('CREATE TABLE t(id INTEGER PRIMARY KEY, a, b TEXT UNIQUE)');
});
afterEach(async () => {
  await data.close();
  cleanup();
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AicoDataError);
    return (e as AicoDataError).code;
  }
  return undefined;
}
async function codeOfAsync(p: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await p();
  } catch (e) {
    expect(e).toBeInstanceOf(AicoDataError);
    return (e as AicoDataError).code;
  }
  return undefined;
}

describe('statements and values', () => {
  it('round-trips null, integers, bigints, reals, text and blobs', async () => {
    const big = 2n ** 62n + 5n;
    const values = [null, 42, big, 1.25, 'héllo ✓ 🧠', Buffer.from([0, 1, 254, 255]), new Uint8Array([7, 8])];
    for (const v of values) await data.sql.execute('INSERT INTO t(a) VALUES (?)', [v]);
    const rows = await data.sql.query<{ a: unknown }>('SELECT a FROM t ORDER BY id');
    expect(rows.map((r) => r.a)).toEqual([null, 42, big, 1.25, 'héllo ✓ 🧠', Buffer.from([0, 1, 254, 255]), Buffer.from([7, 8])]);
    expect(typeof rows[2]!.a).toBe('bigint');
    expect(data.sql.querySync('SELECT typeof(a) AS t FROM t WHERE id = 3')).toEqual([{ t: 'integer' }]);
    expect(data.sql.queryOneSync('SELECT ? AS yes, ? AS no', [true, false])).toEqual({ yes: 1, no: 0 });
    expect(data.sql.queryOneSync('SELECT 9007199254740993 AS x')).toEqual({ x: 9007199254740993n });
  });

  it('binds named parameters with or without a sigil', async () => {
    await data.sql.execute('INSERT INTO t(a, b) VALUES (:a, @b)', { a: 1, ':b': 'x' });
    expect(await data.sql.queryOne('SELECT a, b FROM t WHERE b = $b', { b: 'x' })).toEqual({ a: 1, b: 'x' });
  });

  it('returns raw rows and reports changes and rowids', async () => {
    const r = await data.sql.execute('INSERT INTO t(a) VALUES (1), (2)');
    expect(r).toEqual({ changes: 2, lastInsertRowid: 2 });
    expect(await data.sql.queryRaw('SELECT id, a FROM t ORDER BY id')).toEqual([[1, 1], [2, 2]]);
    expect(data.sql.queryRawSync('SELECT count(*) FROM t')).toEqual([[2]]);
    expect(await data.sql.queryOne('SELECT * FROM t WHERE id = 99')).toBeUndefined();
    expect(data.sql.executeSync('DELETE FROM t WHERE a = ?', [1]).changes).toBe(1);
  });

  it('refuses unsupported parameter types with INVALID_ARGUMENT', async () => {
    const bad: unknown[] = [() => 1, Symbol('s'), { nested: 1 }, [1, 2], new Date(), undefined, 2n ** 70n];
    for (const v of bad) {
      expect(codeOf(() => data.sql.executeSync('INSERT INTO t(a) VALUES (?)', [v as never]))).toBe('INVALID_ARGUMENT');
      expect(await codeOfAsync(() => data.sql.execute('INSERT INTO t(a) VALUES (?)', [v as never]))).toBe('INVALID_ARGUMENT');
    }
    expect(codeOf(() => data.sql.querySync('SELECT ?', 'not params' as never))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => data.sql.querySync('SELECT ?, ?', [1]))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => data.sql.querySync(42 as never))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => data.sql.querySync('SELECT :a', { b: 1 }))).toBe('INVALID_ARGUMENT');
    expect(data.sql.querySync('SELECT count(*) AS n FROM t')).toEqual([{ n: 0 }]);
  });

  it('maps SQL and constraint errors', async () => {
    expect(await codeOfAsync(() => data.sql.query('SELEC 1'))).toBe('SQL_ERROR');
    expect(codeOf(() => data.sql.querySync('SELECT * FROM missing'))).toBe('SQL_ERROR');
    await data.sql.execute("INSERT INTO t(b) VALUES ('dup')");
    expect(await codeOfAsync(() => data.sql.execute("INSERT INTO t(b) VALUES ('dup')"))).toBe('CONSTRAINT');
    expect(codeOf(() => data.sql.querySync("SELECT readfile('/etc/hostname')"))).toBe('NOT_AUTHORIZED');
    expect(codeOf(() => data.sql.execSync('PRAGMA key = "x"'))).toBe('NOT_AUTHORIZED');
  });

  it('runs atomic batches', async () => {
    const err = await codeOfAsync(() =>
      data.sql.batch([
        { sql: "INSERT INTO t(b) VALUES ('1')" },
        "INSERT INTO t(b) VALUES ('2')",
        { sql: 'INSERT INTO t(b) VALUES (?)', params: ['1'] },
      ]),
    );
    expect(err).toBe('CONSTRAINT');
    expect(await data.sql.query('SELECT * FROM t')).toEqual([]);
    const ok = await data.sql.batch(["INSERT INTO t(b) VALUES ('1')", { sql: 'INSERT INTO t(b) VALUES (?)', params: ['2'] }]);
    expect(ok.map((r) => r.changes)).toEqual([1, 1]);
    expect(data.sql.batchSync(["INSERT INTO t(b) VALUES ('3')"])).toHaveLength(1);
  });

  it('fails with CLOSED after close', async () => {
    await data.close();
    expect(codeOf(() => data.sql.querySync('SELECT 1'))).toBe('CLOSED');
    expect(await codeOfAsync(() => data.sql.query('SELECT 1'))).toBe('CLOSED');
    expect(await codeOfAsync(() => data.sql.execute('INSERT INTO t(a) VALUES (1)'))).toBe('CLOSED');
    expect(codeOf(() => data.crypto.seal('chroma', Buffer.from('x')))).toBe('CLOSED');
    expect(await codeOfAsync(() => data.changePassword('pw', 'x'))).toBe('CLOSED');
  });
});

describe('transactions', () => {
  it('commits on success and rolls back when the callback throws', async () => {
    const out = await data.sql.transaction(async (tx) => {
      await tx.execute("INSERT INTO t(b) VALUES ('in')");
      expect(await tx.queryOne('SELECT count(*) AS n FROM t')).toEqual({ n: 1 });
      return 'done';
    });
    expect(out).toBe('done');
    const boom = new Error('boom');
    await expect(
      data.sql.transaction(async (tx) => {
        await tx.execute("INSERT INTO t(b) VALUES ('lost')");
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await data.sql.query('SELECT b FROM t')).toEqual([{ b: 'in' }]);
  });

  it('uses savepoints for nested transactions', async () => {
    await data.sql.transaction(async (tx) => {
      await tx.execute("INSERT INTO t(b) VALUES ('outer')");
      await tx
        .transaction(async (inner) => {
          await inner.execute("INSERT INTO t(b) VALUES ('inner')");
          throw new Error('undo inner only');
        })
        .catch(() => undefined);
      await tx.transaction((inner) => inner.execute("INSERT INTO t(b) VALUES ('inner2')"));
    });
    expect((await data.sql.query('SELECT b FROM t ORDER BY id')).map((r) => r.b)).toEqual(['outer', 'inner2']);
  });

  it('makes other writers wait and keeps uncommitted rows from readers', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let holding!: () => void;
    const written = new Promise<void>((r) => (holding = r));
    const tx = data.sql.transaction(async (t) => {
      await t.execute("INSERT INTO t(b) VALUES ('tx')");
      holding();
      await gate;
    });
    await Promise.race([written, tx]); // the transaction holds the writer (or failed: `tx` says why)
    // many async writers queue in JS without starving the transaction of worker threads
    const writes = Array.from({ length: 12 }, (_, i) => data.sql.execute('INSERT INTO t(b) VALUES (?)', [`w${i}`]));
    expect(await data.sql.query('SELECT * FROM t')).toEqual([]);
    expect(codeOf(() => data.sql.executeSync("INSERT INTO t(b) VALUES ('sync')"))).toBe('BUSY');
    release();
    await tx;
    await Promise.all(writes);
    expect(await data.sql.queryOne('SELECT count(*) AS n FROM t')).toEqual({ n: 13 });
  });

  it('supports synchronous transactions', () => {
    expect(() =>
      data.sql.transactionSync((tx) => {
        tx.executeSync("INSERT INTO t(b) VALUES ('x')");
        throw new Error('no');
      }),
    ).toThrow('no');
    const n = data.sql.transactionSync((tx) => {
      tx.executeSync("INSERT INTO t(b) VALUES ('y')");
      tx.transactionSync((inner) => inner.executeSync("INSERT INTO t(b) VALUES ('z')"));
      return tx.queryOneSync<{ n: number }>('SELECT count(*) AS n FROM t')!.n;
    });
    expect(n).toBe(2);
    expect(codeOf(() => data.sql.transactionSync((async () => 1) as never))).toBe('INVALID_ARGUMENT');
    expect(data.sql.querySync('SELECT count(*) AS n FROM t')).toEqual([{ n: 2 }]);
  });

  it('refuses statements on a finished transaction', async () => {
    let saved: Parameters<Parameters<typeof data.sql.transaction>[0]>[0] | undefined;
    await data.sql.transaction(async (tx) => {
      saved = tx;
    });
    expect(await codeOfAsync(() => saved!.execute('INSERT INTO t(a) VALUES (1)'))).toBe('INVALID_ARGUMENT');
  });
});

describe('pool', () => {
  it('serves concurrent async readers and reports stats', async () => {
    await data.sql.batch(Array.from({ length: 100 }, (_, i) => ({ sql: 'INSERT INTO t(a) VALUES (?)', params: [i] })));
    const results = await Promise.all(Array.from({ length: 40 }, () => data.sql.queryOne<{ s: number }>('SELECT sum(a) AS s FROM t')));
    expect(results.every((r) => r!.s === 4950)).toBe(true);
    const s = data.sql.stats();
    expect(s.readersOpen).toBeGreaterThanOrEqual(1);
    expect(s.readersOpen).toBeLessThanOrEqual(s.readersMax);
    expect(data.sql.healthCheck()).toBe(0);
    expect(data.sql.integrityCheck(true)).toEqual([]);
  });
});
