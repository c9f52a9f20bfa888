/**
 * Issue 15 item 13: a local process without the password attacks the managed Chroma server
 * (Chroma 1.0 has no authentication of its own) with plain HTTP, as an attacker would.
 */
import { readlinkSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDataLayer, type DataLayer } from '../../src/index.js';
import { tempDir } from '../helpers/folders.js';

const PASSWORD = 'vector attack password';
const API = '/api/v2/tenants/default_tenant/databases/default_database';
const opened: { data: DataLayer; cleanup: () => void }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) {
    await o.data.close();
    o.cleanup();
  }
});

async function open(server: Record<string, unknown> = {}) {
  const t = tempDir('aico-vattack-');
  const dir = join(t.dir, 'data');
  const data = await openDataLayer({ dir, password: PASSWORD, analytics: false, kv: false, vectors: { server } });
  opened.push({ data, cleanup: t.cleanup });
  const user = await data.services.onboarding.onboardNewUser({ name: 'Ana' });
  const userId = user.user.id;
  const memory = await data.memories.remember({ userId, type: 'preference', content: 'Ana loves green tea in the morning', importance: 1 });
  // The memory reaches Chroma through the outbox.
  await data.outbox!.drain();
  expect(await indexed(data, memory.id)).toBe(true);
  return { data, dir, userId, memoryId: memory.id, url: data.vectors!.status().url! };
}

/** True when the memory is in Chroma (read through the owner's own client). */
async function indexed(data: DataLayer, id: string): Promise<boolean> {
  return (await data.vectors!.memories.get({ ids: [id] })).length === 1;
}

/** What the owner's client sees (with the token), to aim the attack at real ids. */
async function ownerCollections(data: DataLayer): Promise<{ id: string; name: string }[]> {
  const s = data.vectors!._server;
  const r = await fetch(s.url + API + '/collections', { headers: s.authHeaders });
  expect(r.status).toBe(200);
  return (await r.json()) as { id: string; name: string }[];
}

describe('attack: a local process talks to the managed Chroma server without the token', () => {
  it('cannot list, read or delete; the owner keeps recalling', async () => {
    const { data, userId, memoryId, url } = await open();
    const collections = await ownerCollections(data);
    const memories = collections.find((c) => c.name.startsWith('aico_memories_'))!;
    expect(memories).toBeDefined();

    // The attacker knows the port (it can see it listening) and even the collection id.
    const list = await fetch(url + API + '/collections');
    expect(list.status).toBe(401);
    expect(await list.text()).not.toContain(memories.id);
    const read = await fetch(url + API + `/collections/${memories.id}/get`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ include: ['metadatas', 'embeddings'] }),
    });
    expect(read.status).toBe(401);
    expect(await read.text()).not.toContain(memoryId);
    const del = await fetch(url + API + `/collections/${memories.name}`, { method: 'DELETE' });
    expect(del.status).toBe(401);
    // A guessed token of the right shape is no better.
    const forged = await fetch(url + API + '/collections', { headers: { 'x-chroma-token': 'A'.repeat(43) } });
    expect(forged.status).toBe(401);
    const bearer = await fetch(url + API + '/collections', { headers: { authorization: 'Bearer x' } });
    expect(bearer.status).toBe(401);

    // Nothing was lost: the collection is there and recall still finds the memory by vector.
    expect((await ownerCollections(data)).map((c) => c.id)).toContain(memories.id);
    expect(await indexed(data, memoryId)).toBe(true);
    const hits = await data.memories.recall('green tea', { userId });
    expect(hits.map((h) => h.item.id)).toContain(memoryId);
  });

  it('cannot reach the server itself: its port is in another network namespace, its socket owner-only', async () => {
    const { data } = await open();
    const s = data.vectors!._server;
    expect(s.isolated).toBe(true);
    // The wrapper (and the Chroma server it runs) lives in a network namespace of its own, so
    // its TCP port does not exist on this machine's loopback.
    expect(readlinkSync(`/proc/${s.pid}/ns/net`)).not.toBe(readlinkSync('/proc/self/ns/net'));
    // Its port inside the namespace (8000) is not listening here (or is someone else's).
    const outcome = await new Promise<string>((resolve) => {
      const c = connect(8000, '127.0.0.1');
      c.once('connect', () => {
        c.write('GET /api/v2/heartbeat HTTP/1.0\r\n\r\n');
        let body = '';
        c.on('data', (d) => (body += d.toString()));
        c.on('close', () => resolve(/nanosecond heartbeat/.test(body) ? 'chroma' : 'other'));
      });
      c.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(outcome).not.toBe('chroma');
    // The bridge socket into the namespace: a 0600 socket in a 0700 folder of this user.
    const run = `${data.vectors!.status().persistDir}.run`;
    expect(statSync(run).mode & 0o777).toBe(0o700);
    expect(statSync(run).uid).toBe(process.getuid!());
  });

  it('a server restarted after a crash is isolated again, with a new token', async () => {
    const { data, userId, memoryId } = await open();
    const s = data.vectors!._server;
    const before = s.authHeaders['x-chroma-token'];
    const oldUrl = s.url!;
    s.crashForTest();
    expect(await indexed(data, memoryId)).toBe(true);
    expect((await data.memories.recall('green tea', { userId })).map((h) => h.item.id)).toContain(memoryId);
    expect(s.isolated).toBe(true);
    expect(s.authHeaders['x-chroma-token']).not.toBe(before);
    // The old token does not open the new server.
    const r = await fetch(s.url + API + '/collections', { headers: { 'x-chroma-token': before! } }).catch(() => undefined);
    expect(r === undefined || r.status === 401).toBe(true);
    const old = await fetch(oldUrl + API + '/collections', { headers: { 'x-chroma-token': before! } }).then((x) => x.status, (e: { cause?: { code?: string } }) => e.cause?.code);
    expect(old === 'ECONNREFUSED' || old === 401).toBe(true);
  });

  it('insecureSharedLoopback (explicit, insecure): deletion by anyone succeeds, repair rebuilds from libSQL with no loss', async () => {
    const { data, userId, memoryId, url } = await open({ insecureSharedLoopback: true });
    expect(data.vectors!._server.isolated).toBe(false);
    const list = await fetch(url + API + '/collections');
    expect(list.status).toBe(200);
    const memories = ((await list.json()) as { name: string }[]).find((c) => c.name.startsWith('aico_memories_'))!;
    expect((await fetch(url + API + `/collections/${memories.name}`, { method: 'DELETE' })).status).toBe(200);
    // The index is gone (a typed error or an empty answer, never a raw one); libSQL still has
    // the memory, and repair refills Chroma from it.
    await data.vectors!.memories.get({ ids: [memoryId] }).then(
      (r) => expect(r).toEqual([]),
      (e: { code?: string }) => expect(['NOT_FOUND', 'UNAVAILABLE']).toContain(e.code),
    );
    const repaired = await data.repair();
    expect(repaired.after.ok).toBe(true);
    expect(await indexed(data, memoryId)).toBe(true);
    expect((await data.memories.recall('green tea', { userId })).map((h) => h.item.id)).toContain(memoryId);
  });
});
