import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AicoDataError, openDataLayer, Statement, type DataLayer } from '../../src/index.js';
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

describe('prepared statements', () => {
  it('get, all, run, raw and pluck, sync and async, with positional and named parameters', async () => {
    const ins = data.sql.prepare('INSERT INTO t(a, b) VALUES (:a, :b)');
    expect(ins).toBeInstanceOf(Statement);
    expect(ins.readonly).toBe(false);
    expect(ins.runSync({ a: 1, b: 'one' })).toEqual({ changes: 1, lastInsertRowid: 1 });
    expect(await ins.run({ a: 2, b: 'two' })).toEqual({ changes: 1, lastInsertRowid: 2 });
    const byId = data.sql.prepare<{ id: number; a: number; b: string }>('SELECT id, a, b FROM t WHERE id = ?');
    expect(byId.readonly).toBe(true);
    expect(byId.columns).toEqual(['id', 'a', 'b']);
    expect(byId.source).toBe('SELECT id, a, b FROM t WHERE id = ?');
    expect(byId.getSync([1])).toEqual({ id: 1, a: 1, b: 'one' });
    // The second call reuses the keys made by the first: same result shape.
    expect(byId.getSync([2])).toEqual({ id: 2, a: 2, b: 'two' });
    expect(byId.getSync([3])).toBeUndefined();
    expect(await byId.get([2])).toEqual({ id: 2, a: 2, b: 'two' });
    const all = data.sql.prepare('SELECT id, b FROM t ORDER BY id');
    expect(all.allSync()).toEqual([{ id: 1, b: 'one' }, { id: 2, b: 'two' }]);
    expect(await all.all()).toEqual([{ id: 1, b: 'one' }, { id: 2, b: 'two' }]);
    expect(all.raw().allSync()).toEqual([[1, 'one'], [2, 'two']]);
    expect(await all.raw().get()).toEqual([1, 'one']);
    expect(all.pluck().allSync()).toEqual([1, 2]);
    expect(await all.pluck<number>().all()).toEqual([1, 2]);
    expect(data.sql.prepare('SELECT count(*) FROM t').pluck().getSync()).toBe(2);
  });

  it('checks the SQL once, at prepare time, with typed errors', () => {
    expect(codeOf(() => data.sql.prepare('SELEC nonsense'))).toBe('SQL_ERROR');
    expect(codeOf(() => data.sql.prepare('SELECT * FROM missing'))).toBe('SQL_ERROR');
    expect(codeOf(() => data.sql.prepare(42 as never))).toBe('INVALID_ARGUMENT');
    const byId = data.sql.prepare('SELECT id FROM t WHERE id = ?');
    expect(codeOf(() => byId.getSync())).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => byId.getSync([{}] as never))).toBe('INVALID_ARGUMENT');
  });

  it('a prepared statement cannot reach the file system: the authorizer runs when it is made', () => {
    // The attack: prepare once, hoping later calls skip the check. They never get a statement.
    for (const sql of ["SELECT readfile('/etc/passwd')", "SELECT writefile('/tmp/aico-x', 'x')", "SELECT * FROM fsdir('/')", 'PRAGMA key = 1', "ATTACH 'x.db' AS x"]) {
      expect(codeOf(() => data.sql.prepare(sql)), sql).toBe('NOT_AUTHORIZED');
    }
  });

  it('runMany inserts many rows in one call, all or none, and names the bad set', async () => {
    const ins = data.sql.prepare('INSERT INTO t(a, b) VALUES (?, ?)');
    const rows = Array.from({ length: 1000 }, (_, i) => [i, `b${i}`]);
    expect(ins.runManySync(rows)).toEqual({ changes: 1000, lastInsertRowid: 1000 });
    const count = data.sql.prepare('SELECT count(*) FROM t').pluck<number>();
    expect(count.getSync()).toBe(1000);
    // A duplicate in the middle: nothing of this call stays.
    expect(await codeOfAsync(() => ins.runMany([[1, 'new-1'], [2, 'b5'], [3, 'new-3']]))).toBe('CONSTRAINT');
    expect(count.getSync()).toBe(1000);
    const err = (() => {
      try {
        ins.runManySync([[1, 'x1'], [2]]);
      } catch (e) {
        return e as AicoDataError;
      }
    })();
    expect(err?.code).toBe('INVALID_ARGUMENT');
    expect(err?.message).toContain('parameter set 2');
    expect(count.getSync()).toBe(1000);
    expect(codeOf(() => ins.runManySync('nope' as never))).toBe('INVALID_ARGUMENT');
    expect(await ins.runMany([[7, 'async-1'], [8, 'async-2']])).toEqual({ changes: 2, lastInsertRowid: 1002 });
  });

  it('sync calls join the open transactionSync; nested transactionSync calls are savepoints', () => {
    const ins = data.sql.prepare('INSERT INTO t(a, b) VALUES (?, ?)');
    const count = data.sql.prepare('SELECT count(*) FROM t').pluck<number>();
    const seen = data.sql.transactionSync(() => {
      ins.runSync([1, 'x']);
      // Inside: the transaction's own view (a pooled reader would not see the row yet).
      const inside = count.getSync();
      data.sql.executeSync('INSERT INTO t(a, b) VALUES (2, ?)', ['y']);
      expect(() =>
        data.sql.transactionSync(() => {
          ins.runSync([3, 'z']);
          throw new Error('undo the savepoint only');
        }),
      ).toThrow('undo the savepoint only');
      return [inside, data.sql.queryOneSync<{ n: number }>('SELECT count(*) AS n FROM t')?.n];
    });
    expect(seen).toEqual([1, 2]);
    expect(count.getSync()).toBe(2);
    // A failing transaction leaves nothing, statements included.
    expect(() =>
      data.sql.transactionSync(() => {
        ins.runManySync([[4, 'p'], [5, 'q']]);
        throw new Error('roll back');
      }),
    ).toThrow('roll back');
    expect(count.getSync()).toBe(2);
    // A statement prepared inside a transaction may use a table that transaction created.
    data.sql.transactionSync(() => {
      data.sql.execSync('CREATE TABLE fresh(x)');
      data.sql.prepare('INSERT INTO fresh VALUES (?)').runSync([1]);
    });
    expect(data.sql.prepare('SELECT x FROM fresh').pluck().allSync()).toEqual([1]);
  });

  it('on(tx) binds a view to an async transaction', async () => {
    const ins = data.sql.prepare('INSERT INTO t(a, b) VALUES (?, ?)');
    const count = data.sql.prepare('SELECT count(*) FROM t').pluck<number>();
    await expect(
      data.sql.transaction(async (tx) => {
        await ins.on(tx).run([1, 'in-tx']);
        await ins.on(tx).runMany([[2, 'a'], [3, 'b']]);
        expect(await count.on(tx).get()).toBe(3);
        expect(await count.get()).toBe(0); // outside it, nothing committed yet
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(count.getSync()).toBe(0);
    let handle: unknown;
    await data.sql.transaction(async (tx) => {
      handle = tx;
      await ins.on(tx).run([1, 'kept']);
    });
    expect(count.getSync()).toBe(1);
    // A view bound to an ended transaction refuses instead of writing outside it.
    expect(await codeOfAsync(() => ins.on(handle as never).run([2, 'late']))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => ins.on({} as never))).toBe('INVALID_ARGUMENT');
    expect(count.getSync()).toBe(1);
  });

  it('follows a schema change: new columns get new keys', () => {
    data.sql.executeSync("INSERT INTO t(a, b) VALUES (1, 'one')");
    const star = data.sql.prepare('SELECT * FROM t');
    expect(star.getSync()).toEqual({ id: 1, a: 1, b: 'one' });
    data.sql.execSync('ALTER TABLE t ADD COLUMN c TEXT');
    data.sql.execSync("UPDATE t SET c = 'see'");
    // Readers and the writer both re-prepare; the statement's kept keys follow. The string API
    // too: its cached statements re-prepare the same way (they once kept the old columns).
    expect(data.sql.queryOneSync('SELECT * FROM t')).toEqual({ id: 1, a: 1, b: 'one', c: 'see' });
    expect(star.getSync()).toEqual({ id: 1, a: 1, b: 'one', c: 'see' });
    expect(star.getSync()).toEqual({ id: 1, a: 1, b: 'one', c: 'see' });
    data.sql.execSync('ALTER TABLE t RENAME COLUMN c TO d');
    expect(star.getSync()).toEqual({ id: 1, a: 1, b: 'one', d: 'see' });
  });

  it('fails with CLOSED after close() and after the data layer closes, losing nothing', async () => {
    const ins = data.sql.prepare('INSERT INTO t(a, b) VALUES (?, ?)');
    const raw = ins.raw();
    ins.runSync([1, 'x']);
    ins.close();
    expect(ins.closed).toBe(true);
    expect(codeOf(() => ins.runSync([2, 'y']))).toBe('CLOSED');
    expect(codeOf(() => raw.allSync())).toBe('CLOSED'); // every view of it
    const count = data.sql.prepare('SELECT count(*) FROM t').pluck<number>();
    expect(count.getSync()).toBe(1);
    await data.close();
    expect(codeOf(() => count.getSync())).toBe('CLOSED');
    expect(await codeOfAsync(() => count.get())).toBe('CLOSED');
    data = await openDataLayer({ dir: data.dir, password: 'pw' });
    expect(data.sql.prepare('SELECT b FROM t').pluck().allSync()).toEqual(['x']);
  });
});

describe('prepared statements: iterate', () => {
  const fill = (n: number) => data.sql.prepare('INSERT INTO t(a, b) VALUES (?, ?)').runManySync(Array.from({ length: n }, (_, i) => [i, `row ${i}`]));

  it('iterateSync and iterate give the rows of all(), in every shape, across batch boundaries', async () => {
    fill(1000);
    const st = data.sql.prepare<{ id: number; a: number; b: string }>('SELECT id, a, b FROM t WHERE a >= ? ORDER BY id');
    const all = st.allSync([3]);
    expect(all).toHaveLength(997);
    expect([...st.iterateSync([3])]).toEqual(all);
    const viaAsync: unknown[] = [];
    for await (const r of st.iterate([3])) viaAsync.push(r);
    expect(viaAsync).toEqual(all);
    expect([...st.raw().iterateSync([3])]).toEqual(all.map((r) => [r.id, r.a, r.b]));
    expect([...st.pluck<number>().iterateSync([3])]).toEqual(all.map((r) => r.id));
    expect([...data.sql.prepare('SELECT * FROM t WHERE a < 0').iterateSync()]).toEqual([]);
    expect(data.sql.stats().readersOpen).toBeLessThanOrEqual(data.sql.stats().readersMax);
  });

  it('a break gives the reader back: more early exits than the pool has readers', async () => {
    // More rows than the cursor reads ahead (a batch taken, one in the slot, one waiting to be sent).
    fill(3000);
    const st = data.sql.prepare<{ id: number }>('SELECT id FROM t ORDER BY id');
    const max = data.sql.stats().readersMax;
    for (let i = 0; i < max * 3; i++) {
      for (const r of st.iterateSync()) {
        expect(r.id).toBe(1);
        break;
      }
      for await (const r of st.iterate()) {
        expect(r.id).toBe(1);
        break;
      }
    }
    // Every reader is free again: as many concurrent reads as the pool has readers all succeed.
    const sums = await Promise.all(Array.from({ length: max }, () => data.sql.queryOne<{ n: number }>('SELECT count(*) AS n FROM t')));
    expect(sums.every((s) => s!.n === 3000)).toBe(true);
  });

  it('reads one snapshot without blocking writes; inside transactionSync it sees the transaction', async () => {
    fill(700);
    const st = data.sql.prepare<{ id: number }>('SELECT id FROM t ORDER BY id');
    let seen = 0;
    for (const r of st.iterateSync()) {
      if (seen++ === 0) data.sql.executeSync('INSERT INTO t(a, b) VALUES (?, ?)', [-1, 'during']);
      expect(r.id).toBeLessThanOrEqual(700);
    }
    expect(seen).toBe(700);
    expect(data.sql.queryOneSync<{ n: number }>('SELECT count(*) AS n FROM t')!.n).toBe(701);
    const inTx = data.sql.transactionSync(() => {
      data.sql.executeSync("INSERT INTO t(a, b) VALUES (-2, 'in tx')");
      return [...st.iterateSync()].length;
    });
    expect(inTx).toBe(702);
  });

  it('refuses statements that write (INVALID_ARGUMENT at the call); closing stops an iteration with CLOSED, losing nothing', async () => {
    fill(900);
    const ins = data.sql.prepare('INSERT INTO t(a) VALUES (1) RETURNING id');
    expect(codeOf(() => ins.iterateSync())).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => ins.iterate())).toBe('INVALID_ARGUMENT');

    const st = data.sql.prepare<{ id: number }>('SELECT id FROM t ORDER BY id');
    const it1 = st.iterateSync();
    expect(it1.next().value).toEqual({ id: 1 });
    st.close();
    expect(codeOf(() => [...it1])).toBe('CLOSED');
    expect(codeOf(() => st.iterateSync())).toBe('CLOSED');

    const again = data.sql.prepare<{ id: number }>('SELECT id FROM t ORDER BY id');
    const it2 = again.iterate()[Symbol.asyncIterator]();
    expect((await it2.next()).value).toEqual({ id: 1 });
    const dir = data.dir;
    await data.close();
    // The rows read ahead end; the next batch is CLOSED, not a silent end of the rows.
    await expect((async () => {
      for (;;) if ((await it2.next()).done) return 'ended';
    })()).rejects.toMatchObject({ code: 'CLOSED' });
    data = await openDataLayer({ dir, password: 'pw' });
    expect(data.sql.queryOneSync<{ n: number }>('SELECT count(*) AS n FROM t')!.n).toBe(900);
  });
});
