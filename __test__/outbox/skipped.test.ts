import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, openAll, seedUser } from './helpers.js';

afterEach(closeAll);

const skipped = (data: { sql: { query<T>(s: string): Promise<T[]> } }) =>
  data.sql.query<{ target: string; n: number }>(`SELECT target, count(*) AS n FROM outbox_skipped GROUP BY target ORDER BY target`);

// A derived store that is off in one open (vectors: false, kv: false) must not silently miss
// what happens meanwhile: the rows are recorded and replayed when it is back.
describe('outbox: derived stores that are off for a while', () => {
  it('replays to Chroma what happened while vectors were off: creates, edits and forgets', async () => {
    const first = await openAll({ analytics: false });
    const { data, dir } = first;
    const { userId } = await seedUser(data);
    const [kept, edited, forgotten] = await data.memories.rememberMany([
      { userId, type: 'semantic', content: 'Ana keeps bees' },
      { userId, type: 'semantic', content: 'Ana plays the cello' },
      { userId, type: 'semantic', content: 'Ana lives in Porto' },
    ]);
    expect((await data.verifyConsistency()).ok).toBe(true);
    await data.close();

    const off = (await openAll({ dir, analytics: false, vectors: false, outbox: { pollMs: 0 } })).data;
    const added = await off.memories.remember({ userId, type: 'semantic', content: 'Ana learned to sail' });
    await off.repos.memories.save({ ...edited!, content: 'Ana plays the viola now' });
    expect(await off.memories.forget(forgotten!.id)).toBe(true);
    await off.outbox!.drain();
    expect((await skipped(off)).map((r) => r.target)).toEqual(['chroma']);
    await off.close();

    const back = (await openAll({ dir, analytics: false, outbox: { pollMs: 0 } })).data;
    await back.outbox!.drain();
    expect(await skipped(back)).toEqual([]);
    const byId = new Map((await back.vectors!.memories.get()).map((r) => [r.id, r.text]));
    expect(byId.get(kept!.id)).toBe('Ana keeps bees');
    expect(byId.get(edited!.id)).toBe('Ana plays the viola now');
    expect(byId.get(added.id)).toBe('Ana learned to sail');
    expect(byId.has(forgotten!.id)).toBe(false);
    expect((await back.verifyConsistency()).ok).toBe(true);
  });

  it('fills a Chroma index created beside existing memories, and records nothing for stores never created', async () => {
    const { data, dir } = await openAll({ analytics: false, vectors: false, kv: false, outbox: { pollMs: 0 } });
    const { userId } = await seedUser(data);
    const ms = await data.memories.rememberMany(Array.from({ length: 30 }, (_, i) => ({ userId, type: 'semantic' as const, content: `fact number ${i}` })));
    await data.outbox!.drain();
    // Neither Chroma nor RocksDB ever existed here: nothing to keep for them.
    expect(await skipped(data)).toEqual([]);
    expect(existsSync(join(dir, 'chroma')) || existsSync(join(dir, 'kv'))).toBe(false);
    await data.close();

    const now = (await openAll({ dir, analytics: false, outbox: { pollMs: 0 } })).data;
    await now.outbox!.drain();
    const ids = new Set((await now.vectors!.memories.get()).map((r) => r.id));
    for (const m of ms) expect(ids.has(m.id)).toBe(true);
    expect(await skipped(now)).toEqual([]);
    expect((await now.verifyConsistency()).ok).toBe(true);
  });
});
