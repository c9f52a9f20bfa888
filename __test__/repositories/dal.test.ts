/** The data access layer over the real encrypted SQL store. */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataAccessLayer, createUnitOfWork } from '../../src/dal/index.js';
import { openDataLayer, type DataLayer } from '../../src/index.js';
import { expectCode } from '../schema/support.js';
import { tempDir } from '../helpers/folders.js';
import { PASSWORD } from './helpers.js';

let data: DataLayer;
let dal: DataAccessLayer;
let cleanup: () => void;
beforeEach(async () => {
  const t = tempDir('aico-dal-');
  cleanup = t.cleanup;
  data = await openDataLayer({ dir: join(t.dir, 'data'), password: PASSWORD });
  await data.sql.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE)');
  dal = new DataAccessLayer(data.sql);
});
afterEach(async () => {
  await data.close();
  cleanup();
});

const bodies = async () => (await dal.fetchAll<{ body: string }>('SELECT body FROM notes ORDER BY id')).map((r) => r.body);

describe('DataAccessLayer', () => {
  it('executes, fetches all and fetches one', async () => {
    expect((await dal.execute('INSERT INTO notes (body) VALUES (?), (?)', ['a', 'b'])).changes).toBe(2);
    expect(await bodies()).toEqual(['a', 'b']);
    expect(await dal.fetchOne('SELECT body FROM notes WHERE body = :b', { b: 'b' })).toEqual({ body: 'b' });
    expect(await dal.fetchOne('SELECT body FROM notes WHERE body = ?', ['zzz'])).toBeUndefined();
    await expectCode(dal.execute('INSERT INTO notes (body) VALUES (?)', ['a']), 'CONSTRAINT');
    await expectCode(dal.fetchAll('SELEKT nothing'), 'SQL_ERROR');
    expect(() => new DataAccessLayer(null as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('commits a transaction, rolls it back on throw, and nests savepoints', async () => {
    await dal.transaction(async (tx) => {
      expect(tx.inTransaction).toBe(true);
      await tx.execute('INSERT INTO notes (body) VALUES (?)', ['kept']);
    });
    await expect(
      dal.transaction(async (tx) => {
        await tx.execute('INSERT INTO notes (body) VALUES (?)', ['dropped']);
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    await dal.transaction(async (tx) => {
      await tx.execute('INSERT INTO notes (body) VALUES (?)', ['outer']);
      await tx
        .transaction(async (inner) => {
          await inner.execute('INSERT INTO notes (body) VALUES (?)', ['inner']);
          throw new Error('inner only');
        })
        .catch(() => undefined);
      expect(await tx.fetchAll('SELECT body FROM notes WHERE body = ?', ['inner'])).toEqual([]);
    });
    expect(await bodies()).toEqual(['kept', 'outer']);
    expect(dal.inTransaction).toBe(false);
  });

  it('routes calls on the root layer inside a transaction into it (no deadlock on the single writer)', async () => {
    let outsideSaw: unknown[] = ['not read'];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let holding!: () => void;
    const written = new Promise<void>((r) => (holding = r));
    const done = dal.transaction(async () => {
      await dal.execute('INSERT INTO notes (body) VALUES (?)', ['ambient']); // the root layer, not `tx`
      expect(await dal.fetchAll('SELECT body FROM notes')).toEqual([{ body: 'ambient' }]); // sees its own write
      holding();
      await gate;
    });
    await Promise.race([written, done]); // the transaction holds its uncommitted write (or failed: `done` says why)
    outsideSaw = await dal.fetchAll('SELECT body FROM notes'); // another context: the committed state
    release();
    await done;
    expect(outsideSaw).toEqual([]);
    expect(await bodies()).toEqual(['ambient']);
  });

  it('gives a unit of work over repositories built per transaction', async () => {
    const uow = createUnitOfWork(dal, (tx) => ({
      add: (body: string) => tx.execute('INSERT INTO notes (body) VALUES (?)', [body]),
    }));
    await uow(async (r) => {
      await r.add('one');
      await r.add('two');
    });
    await expect(
      uow(async (r) => {
        await r.add('three');
        await r.add('one'); // UNIQUE: the whole unit is rolled back
      }),
    ).rejects.toMatchObject({ code: 'CONSTRAINT' });
    expect(await bodies()).toEqual(['one', 'two']);
    await expectCode(uow(null as never), 'INVALID_ARGUMENT');
  });
});
