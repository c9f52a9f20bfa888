/**
 * One composition root (`src/compose.ts`): a failed open and `close()` unwind the same stack, so
 * a failure late in the open (after RocksDB, Chroma and the bus are up) leaves nothing open:
 * the same process can open the folder again with a writable KV store, and no vector server of
 * the failed open runs on.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDataLayer, type DataLayer } from '../../src/index.js';
import { DisposalStack } from '../../src/util/disposal-stack.js';
import { processAlive } from '../../src/util/process-alive.js';
import { tempDir } from '../helpers/folders.js';

const PASSWORD = 'composition password';
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('DisposalStack', () => {
  it('runs disposers last-registered first, all of them, and throws the first error after the rest', async () => {
    const order: string[] = [];
    const stack = new DisposalStack();
    stack.defer(() => order.push('a'));
    expect(stack.use('b', (v) => order.push(v))).toBe('b');
    stack.defer(() => {
      order.push('c');
      throw new Error('c failed');
    });
    stack.defer(async () => {
      order.push('d');
      throw new Error('d failed');
    });
    await expect(stack.disposeAsync()).rejects.toThrow('d failed');
    expect(order).toEqual(['d', 'c', 'b', 'a']);
    await stack.disposeAsync(); // idempotent: nothing runs twice
    expect(order).toHaveLength(4);
    expect(() => stack.defer(() => undefined)).toThrow(/already disposed/);
  });
});

describe('composition root: open failure and close share one order', () => {
  it('an open that fails after every store is up closes them all (KV writable again, no Chroma server left)', async () => {
    const t = tempDir('aico-compose-');
    cleanups.push(t.cleanup);
    const dir = join(t.dir, 'data');
    // Make the folder with a Chroma index, so the next open starts a server.
    const first = await openDataLayer({ dir, password: PASSWORD });
    const u = await first.services.onboarding.onboardNewUser({ name: 'Ana' });
    await first.memories.remember({ userId: u.user.id, type: 'semantic', content: 'Ana likes tea' });
    await first.outbox!.drain();
    await first.close();

    // The outbox options are checked when the dispatcher is built: after SQL, analytics, KV,
    // vectors and the bus, so the whole stack so far unwinds.
    await expect(openDataLayer({ dir, password: PASSWORD, outbox: { batchSize: 0 } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const pidFile = join(t.dir, 'data', 'chroma.pid');
    if (existsSync(pidFile)) {
      const { pid } = JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number };
      expect(processAlive(pid)).toBe(false);
    }

    const again: DataLayer = await openDataLayer({ dir, password: PASSWORD });
    cleanups.push(() => again.close());
    expect(again.kv.readOnly).toBe(false);
    expect(await again.memories.recall('tea', { userId: u.user.id })).not.toHaveLength(0);
  });

  it('`await using` closes the layer at the end of its scope', async () => {
    const t = tempDir('aico-compose-');
    cleanups.push(t.cleanup);
    let seen: DataLayer | undefined;
    {
      await using data = await openDataLayer({ dir: join(t.dir, 'data'), password: PASSWORD, vectors: false });
      seen = data;
      expect(data.closed).toBe(false);
    }
    expect(seen.closed).toBe(true);
    await expect(seen.sql.query('SELECT 1')).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
