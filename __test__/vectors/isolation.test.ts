/**
 * Issue 15 item 13 at the server level (no data layer): the managed Chroma server's own port is
 * in a private network namespace, its bridge socket is owner-only, and the loopback proxy
 * refuses every request without this process's token. A raw `fetch`, as another local
 * process would send it.
 */
import { ChromaClient } from 'chromadb';
import { readlinkSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChromaServer } from '../../src/stores/vectors/server/manager.js';
import { tempDir } from '../helpers/folders.js';

const API = '/api/v2/tenants/default_tenant/databases/default_database';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function started(options = {}) {
  const t = tempDir('aico-isolation-');
  const server = new ChromaServer(join(t.dir, 'chroma'), options);
  cleanups.push(t.cleanup, () => server.stop());
  const url = await server.ensure();
  const u = new URL(url);
  const owner = new ChromaClient({ host: u.hostname, port: Number(u.port), headers: server.authHeaders });
  const col = await owner.getOrCreateCollection({ name: 'secrets', embeddingFunction: null });
  await col.add({ ids: ['memory-4711'], embeddings: [[0.1, 0.2, 0.3]], metadatas: [{ userId: 'token-of-ana' }] });
  return { server, url, owner, col, dir: t.dir };
}

describe('isolated managed Chroma server', () => {
  it('refuses list, read and delete without the token (401); the owner keeps everything', async () => {
    const { url, owner, col } = await started();
    const list = await fetch(url + API + '/collections');
    expect(list.status).toBe(401);
    expect(await list.text()).not.toContain(col.id);
    const read = await fetch(url + API + `/collections/${col.id}/get`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"include":["metadatas","embeddings"]}' });
    expect(read.status).toBe(401);
    expect(await read.text()).not.toContain('memory-4711');
    expect((await fetch(url + API + '/collections/secrets', { method: 'DELETE' })).status).toBe(401);
    expect((await fetch(url + API + '/collections', { headers: { 'x-chroma-token': 'A'.repeat(43) } })).status).toBe(401);
    // The chromadb client without the token: a typed refusal, not data.
    const u = new URL(url);
    await expect(new ChromaClient({ host: u.hostname, port: Number(u.port) }).listCollections()).rejects.toThrow(/Unauthorized/);
    // Heartbeat only says that the server is up.
    expect((await fetch(url + '/api/v2/heartbeat')).status).toBe(200);
    const again = await owner.getCollection({ name: 'secrets', embeddingFunction: null } as never);
    expect((await again.get({})).ids).toEqual(['memory-4711']);
  });

  it('runs the server in another network namespace, bridged by a 0600 socket in a 0700 folder', async () => {
    const { server, dir } = await started();
    expect(server.isolated).toBe(true);
    expect(readlinkSync(`/proc/${server.pid}/ns/net`)).not.toBe(readlinkSync('/proc/self/ns/net'));
    const run = join(dir, 'chroma.run');
    expect(statSync(run).mode & 0o777).toBe(0o700);
    const sockets = readdirSync(run);
    expect(sockets).toEqual([expect.stringMatching(new RegExp(`^${process.pid}-[0-9a-f]{12}\\.sock$`))]);
    const st = statSync(join(run, sockets[0]!));
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o077).toBe(0);
  });

  it('after a crash the new server is isolated again with a new token; the old token is void', async () => {
    const { server, col } = await started();
    const before = server.authHeaders['x-chroma-token']!;
    server.crashForTest();
    const url = await server.recover();
    expect(server.isolated).toBe(true);
    expect(server.authHeaders['x-chroma-token']).not.toBe(before);
    expect((await fetch(url + API + '/collections', { headers: { 'x-chroma-token': before } })).status).toBe(401);
    const ok = await fetch(url + API + '/collections', { headers: server.authHeaders });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { id: string }[]).map((c) => c.id)).toContain(col.id);
  });

  it('insecureSharedLoopback (explicit): the port is shared and open to anyone, as documented', async () => {
    const { server, url, col } = await started({ insecureSharedLoopback: true });
    expect(server.isolated).toBe(false);
    expect(server.authHeaders).toEqual({});
    const list = await fetch(url + API + '/collections');
    expect(list.status).toBe(200);
    expect(await list.text()).toContain(col.id);
  });

  it('scrub leaves no byte of a deleted record in the server files', async () => {
    const { server, col, dir } = await started();
    const { filesContaining } = await import('../helpers/folders.js');
    await col.delete({ ids: ['memory-4711'] });
    expect(filesContaining(dir, 'memory-4711').length).toBeGreaterThan(0);
    await server.vacuum();
    // vacuum alone cannot purge Chroma's log before its index is persisted: the scrub copies.
    const { ChromaConnection } = await import('../../src/stores/vectors/connection.js');
    await new ChromaConnection(server).scrub();
    expect(filesContaining(dir, 'memory-4711')).toEqual([]);
  });
});
