import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDataLayer, type DataLayer } from '../../src/index.js';
import { filesContaining, tempDir } from '../helpers/folders.js';
import { alive } from '../helpers/processes.js';

// data.memories over the real stores: encrypted libSQL (+ FTS5) and a real Chroma server that
// the data layer starts on first use.
const PASSWORD = 'memories facade password';
const opened: { data: DataLayer; cleanup: () => void }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) {
    await o.data.close();
    o.cleanup();
  }
});

async function open(options: { vectors?: false; outbox?: { pollMs: number } } = {}) {
  const t = tempDir('aico-memories-');
  const dir = join(t.dir, 'data');
  const data = await openDataLayer({ dir, password: PASSWORD, analytics: false, kv: false, ...options });
  opened.push({ data, cleanup: t.cleanup });
  const user = await data.services.onboarding.onboardNewUser({ name: 'Ana' });
  return { data, dir, userId: user.user.id };
}


describe('data.memories (libSQL + Chroma)', () => {
  it('starts the Chroma server only on first use and stops it on close', async () => {
    // No background dispatch: it would index the onboarding memory and start the server.
    const { data } = await open({ outbox: { pollMs: 0 } });
    expect(data.vectors).toBeDefined();
    expect(data.vectors!.status().state).toBe('idle');
    expect(data.memories.semantic).toBe(true);
    await data.vectors!.ready();
    const { pid, state } = data.vectors!.status();
    expect(state).toBe('running');
    expect(pid && alive(pid)).toBe(true);
    await data.close();
    expect(alive(pid!)).toBe(false);
  });

  it('remembers into both stores, recalls hybrid, forgets from all of them', async () => {
    const { data, userId } = await open();
    const other = (await data.services.onboarding.onboardNewUser({ name: 'Bob' })).user.id;
    const [tea, shifts, spiders] = await data.memories.rememberMany([
      { userId, type: 'preference', content: 'Ana loves green tea in the morning', importance: 0.9 },
      { userId, type: 'semantic', content: 'Ana works night shifts at the hospital', importance: 0.5 },
      { userId, type: 'semantic', content: 'Ana is afraid of spiders', importance: 0.2 },
    ]);
    await data.memories.remember({ userId: other, type: 'preference', content: 'Bob drinks green tea too', importance: 1 });

    // Provenance of the embedding is recorded on the memory in libSQL.
    const stored = await data.repos.memories.get(tea!.id);
    expect(stored?.embeddingModel).toBe(data.vectors!.embedder.modelId);
    expect(stored?.embeddingDimension).toBe(data.vectors!.embedder.dimension);
    expect((await data.vectors!.memories.get({ ids: [tea!.id] }))[0]?.text).toBe(tea!.content);

    const hits = await data.memories.recall('which tea does she drink?', { userId, limit: 3 });
    expect(hits[0]!.item.id).toBe(tea!.id);
    expect(hits.every((h) => h.item.userId === userId)).toBe(true);
    for (let i = 1; i < hits.length; i++) expect(hits[i - 1]!.score).toBeGreaterThanOrEqual(hits[i]!.score);

    // Importance alone orders the candidates. The onboarding memory ("User Ana joined AICO",
    // importance 0.8) is indexed too: the outbox carries every memory in libSQL to Chroma.
    const welcome = (await data.repos.memories.getByUser(userId, { type: 'system' })).items[0]!;
    const byImportance = await data.memories.recall('Ana', { userId, limit: 4, weights: { vector: 0, keyword: 0, importance: 1 } });
    expect(byImportance.map((h) => h.item.id)).toEqual([tea!.id, welcome.id, shifts!.id, spiders!.id]);

    expect(await data.memories.forget(tea!.id)).toBe(true);
    expect(await data.repos.memories.get(tea!.id)).toBeUndefined();
    expect(await data.vectors!.memories.get({ ids: [tea!.id] })).toEqual([]);
    expect((await data.repos.memories.getByContext('green tea', { userId })).map((h) => h.item.id)).not.toContain(tea!.id);
    expect((await data.memories.recall('green tea', { userId })).map((h) => h.item.id)).not.toContain(tea!.id);
    expect(await data.memories.forget(tea!.id)).toBe(false);
  });

  it('leaves no memory text in plaintext in the Chroma folder', async () => {
    const { data, dir, userId } = await open();
    const canary = 'CANARY-7f3a-memory-text';
    await data.memories.remember({ userId, type: 'semantic', content: `the secret is ${canary}` });
    expect((await data.memories.recall('secret', { userId }))[0]?.item.content).toContain(canary);
    await data.close();
    expect(existsSync(join(dir, 'chroma'))).toBe(true);
    expect(filesContaining(join(dir, 'chroma'), canary)).toEqual([]);
    expect(filesContaining(dir, canary)).toEqual([]);
  });

  it('runs keyword-only with vectors: false', async () => {
    const { data, userId } = await open({ vectors: false });
    expect(data.vectors).toBeUndefined();
    expect(data.memories.semantic).toBe(false);
    const m = await data.memories.remember({ userId, type: 'preference', content: 'Ana loves green tea' });
    expect(m.embeddingModel).toBeNull();
    expect((await data.memories.recall('green tea', { userId }))[0]?.item.id).toBe(m.id);
    expect(await data.memories.forget(m.id)).toBe(true);
    expect(await data.memories.recall('green tea', { userId })).toEqual([]);
  });

  it('refuses bad arguments with INVALID_ARGUMENT', async () => {
    const { data, userId } = await open({ vectors: false });
    await expect(data.memories.remember(null as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(data.memories.rememberMany('x' as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(data.memories.recall('tea', { userId, limit: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
  it('one recall API: mode picks keyword, vector or hybrid, with one hit shape', async () => {
    const { data, userId } = await open();
    const [tea, spiders] = await data.memories.rememberMany([
      { userId, type: 'preference', content: 'Ana loves green tea in the morning' },
      { userId, type: 'semantic', content: 'Ana is afraid of spiders' },
    ]);
    const ids = (hits: { item: { id: string } }[]) => hits.map((h) => h.item.id);
    // Words no memory holds: the keyword side finds nothing, the vector side still ranks neighbours.
    const unrelated = 'qqqq zzzz';
    expect(await data.memories.recall(unrelated, { userId, mode: 'keyword' })).toEqual([]);
    const vector = await data.memories.recall(unrelated, { userId, mode: 'vector', limit: 10 });
    expect(ids(vector)).toEqual(expect.arrayContaining([tea!.id, spiders!.id]));
    // A shared word: every mode finds the memory, each hit is { item: Memory, score: number }.
    for (const mode of ['keyword', 'vector', 'hybrid'] as const) {
      const hits = await data.memories.recall('green tea', { userId, mode, limit: 1 });
      expect(ids(hits), mode).toEqual([tea!.id]);
      expect(hits[0]!.item.content).toBe(tea!.content);
      expect(typeof hits[0]!.score).toBe('number');
    }
    expect(await data.memories.recall('green tea', { userId })).toEqual(await data.memories.recall('green tea', { userId, mode: 'hybrid' }));
    await expect(data.memories.recall('tea', { userId, mode: 'semantic' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it("mode: 'vector' without vectors is UNAVAILABLE; keyword and hybrid still answer", async () => {
    const { data, userId } = await open({ vectors: false });
    const tea = await data.memories.remember({ userId, type: 'preference', content: 'Ana loves green tea' });
    await expect(data.memories.recall('tea', { userId, mode: 'vector' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    for (const mode of ['keyword', 'hybrid'] as const) expect((await data.memories.recall('tea', { userId, mode })).map((h) => h.item.id)).toEqual([tea.id]);
  });
});
