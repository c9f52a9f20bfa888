/**
 * The Chroma scrub behind `forgetUser` copies each collection into a fresh one, drops the
 * original and renames the copy.
 * - A write racing the copy landed in the original after its page was copied, was acknowledged
 *   (the outbox marked it done), and went with the dropped original: the outbox crash suite saw
 *   25 memories missing from Chroma. The scrub now holds the connection alone.
 * - A crash between the drop and the rename, or during the copy, left the half-done state until
 *   the next forgetUser: the next open settles it before any request resolves a collection.
 */
import { ChromaClient } from 'chromadb';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDataLayer, type DataLayer } from '../../src/index.js';
import { tempDir } from '../helpers/folders.js';

const PASSWORD = 'scrub crash password';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function open(dir: string): Promise<DataLayer> {
  const data = await openDataLayer({ dir, password: PASSWORD });
  cleanups.push(() => data.close().catch(() => undefined));
  return data;
}

function raw(data: DataLayer): ChromaClient {
  const server = data.vectors!._server;
  const u = new URL(server.url!);
  return new ChromaClient({ host: u.hostname, port: Number(u.port), headers: server.authHeaders });
}

/** A folder with `n` memories of one user, delivered to Chroma; its open layer and the ids. */
async function seeded(n: number): Promise<{ dir: string; data: DataLayer; ids: string[] }> {
  const t = tempDir('aico-scrub-crash-');
  cleanups.push(t.cleanup);
  const dir = join(t.dir, 'data');
  const data = await open(dir);
  const u = await data.services.onboarding.onboardNewUser({ name: 'Ana' });
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await data.memories.remember({ userId: u.user.id, type: 'semantic', content: `fact ${i} about tea` })).id);
  await data.outbox!.drain();
  return { dir, data, ids };
}

describe('Chroma scrub: no acknowledged memory is lost to a crash or a racing write', () => {
  it('a crash between dropping a collection and renaming its copy: the next open takes the copy back', async () => {
    const { dir, data, ids } = await seeded(5);
    // The state a kill leaves after the copy is complete and the original dropped: only the copy.
    const client = raw(data);
    const col = (await client.listCollections()).find((c) => c.name.startsWith('aico_memories_'))!;
    const original = col.name;
    await col.modify({ name: `${original}__scrub` });
    await data.close();

    const again = await open(dir);
    expect((await again.verifyConsistency()).ok).toBe(true);
    expect((await again.vectors!.memories.get({ ids })).map((r) => r.id).sort()).toEqual([...ids].sort());
    const names = (await raw(again).listCollections()).map((c) => c.name).filter((n) => n.startsWith('aico_memories_'));
    expect(names).toEqual([original]);
    // And a scrub after that keeps them too.
    await again.forgetUser('no-such-user').catch(() => undefined);
    expect((await again.vectors!.memories.get({ ids })).length).toBe(ids.length);
  });

  it('a copy cut short beside its original is dropped; the original stays whole', async () => {
    const { dir, data, ids } = await seeded(3);
    const client = raw(data);
    const col = (await client.listCollections()).find((c) => c.name.startsWith('aico_memories_'))!;
    await client.createCollection({ name: `${col.name}__scrub`, embeddingFunction: null } as never);
    await data.close();

    const again = await open(dir);
    expect((await again.vectors!.memories.get({ ids })).length).toBe(ids.length);
    const names = (await raw(again).listCollections()).map((c) => c.name).filter((n) => n.startsWith('aico_memories_'));
    expect(names).toEqual([col.name]);
    expect((await again.verifyConsistency()).ok).toBe(true);
  });

  it('memories written while forgetUser scrubs Chroma are all there afterwards', async () => {
    const t = tempDir('aico-scrub-race-');
    cleanups.push(t.cleanup);
    const data = await open(join(t.dir, 'data'));
    const ana = await data.services.onboarding.onboardNewUser({ name: 'Ana' });
    const bob = await data.services.onboarding.onboardNewUser({ name: 'Bob' });
    for (let i = 0; i < 40; i++) await data.memories.remember({ userId: bob.user.id, type: 'semantic', content: `old fact ${i}` });
    await data.memories.remember({ userId: ana.user.id, type: 'semantic', content: 'Ana likes chess' });
    await data.outbox!.drain();
    // Bob keeps writing through the scrub: each write goes through the outbox to Chroma.
    const written: string[] = [];
    let scrubbing = true;
    const writer = (async () => {
      for (let i = 0; scrubbing || i < 5; i++) written.push((await data.memories.remember({ userId: bob.user.id, type: 'semantic', content: `new fact ${i}` })).id);
    })();
    const status = await data.forgetUser(ana.user.id);
    scrubbing = false;
    await writer;
    await data.outbox!.drain();
    expect(status.clean).toBe(true);
    expect(written.length).toBeGreaterThan(0);
    expect((await data.vectors!.memories.get({ ids: written })).length).toBe(written.length);
    expect((await data.verifyConsistency()).ok).toBe(true);
  });
});
