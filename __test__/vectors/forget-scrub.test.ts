/**
 * Issue 15 item 14: after `forgetUser` reports `clean: true`, no file of the folder may still
 * hold the user id or the id of one of their memories (deleted RocksDB keys before compaction,
 * Chroma's log and SQLite free pages), read as an attacker with the folder would: a byte scan.
 * When something cannot be removed, `residue` must say so, and the scan must agree with it.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDataLayer, type DataLayer } from '../../src/index.js';
import { conversationCachePrefix, userCachePrefix } from '../../src/outbox/cache-keys.js';
import { filesContaining, tempDir } from '../helpers/folders.js';

const PASSWORD = 'forget scrub password';
const opened: { data: DataLayer; cleanup: () => void }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) {
    await o.data.close().catch(() => undefined);
    o.cleanup();
  }
});

async function seeded() {
  const t = tempDir('aico-forget-scrub-');
  const dir = join(t.dir, 'data');
  const data = await openDataLayer({ dir, password: PASSWORD });
  opened.push({ data, cleanup: t.cleanup });
  const users: { userId: string; memoryId: string; conversationId: string }[] = [];
  for (const name of ['Ana', 'Bob']) {
    const u = await data.services.onboarding.onboardNewUser({ name });
    const m = await data.memories.remember({ userId: u.user.id, type: 'preference', content: `${name} loves green tea` });
    users.push({ userId: u.user.id, memoryId: m.id, conversationId: u.conversation.id });
  }
  await data.outbox!.drain();
  for (const u of users) {
    await data.kv.putJson('cache', conversationCachePrefix(u.userId, u.conversationId) + 'ctx', 1);
    await data.kv.putJson('session', userCachePrefix(u.userId) + 'token', 'abc');
  }
  // Keys reach SST files (as they do in a long-running app), not only the write-ahead log.
  (data.kv as unknown as { flush(): void }).flush();
  return { data, dir, ana: users[0]!, bob: users[1]! };
}

describe('forgetUser leaves no bytes of the user on disk', () => {
  it('a byte scan of every file finds neither the user id nor the memory id; the other user keeps everything', async () => {
    const { data, dir, ana, bob } = await seeded();
    // The attack works on what is there before: ids are in the KV and Chroma files.
    expect(filesContaining(dir, ana.userId).some((p) => p.includes(`${dir}/kv/`))).toBe(true);
    expect(filesContaining(dir, ana.memoryId).some((p) => p.includes(`${dir}/chroma/`))).toBe(true);

    const status = await data.forgetUser(ana.userId);
    expect(status).toMatchObject({ clean: true, chroma: 0, rocksdb: 0, outboxPending: 0, residue: [] });
    expect(filesContaining(dir, ana.userId)).toEqual([]);
    expect(filesContaining(dir, ana.memoryId)).toEqual([]);

    // No loss for Bob: his memory is found by its vector, his cache entries are there.
    expect(await data.vectors!.memories.get({ ids: [bob.memoryId] })).toHaveLength(1);
    const hits = await data.memories.recall('green tea', { userId: bob.userId });
    expect(hits.map((h) => h.item.id)).toContain(bob.memoryId);
    const bobLeft = await data.forgetStatus(bob.userId);
    expect(bobLeft.chroma).toBeGreaterThanOrEqual(1);
    expect(bobLeft.rocksdb).toBe(2);
    expect((await data.verifyConsistency()).ok).toBe(true);

    // And after close (memtables flushed, files final) the scan is still empty.
    await data.close();
    expect(filesContaining(dir, ana.userId)).toEqual([]);
    expect(filesContaining(dir, ana.memoryId)).toEqual([]);
  });

  it('when the scrub cannot run (a server that is not ours), residue names what remains, and the scan agrees', async () => {
    const { data, dir, ana } = await seeded();
    // The vector server dies for good: the scrub of Chroma cannot run.
    const server = data.vectors!._server;
    const vacuum = server.vacuum.bind(server);
    server.vacuum = async () => {
      throw Object.assign(new Error('vacuum refused for the test'), { code: 'UNAVAILABLE' });
    };
    try {
      const status = await data.forgetUser(ana.userId);
      expect(status.clean).toBe(false);
      expect(status.residue).toHaveLength(1);
      expect(status.residue[0]).toMatch(/^chroma: the deleted memory ids/);
      // What the report says remains is exactly what the scan finds: Chroma's files, not KV's.
      const left = [...filesContaining(dir, ana.userId), ...filesContaining(dir, ana.memoryId)];
      expect(left.length).toBeGreaterThan(0);
      expect(left.every((p) => p.startsWith(join(dir, 'chroma') + '/'))).toBe(true);
    } finally {
      server.vacuum = vacuum;
    }
    // The next forgetUser finishes the job.
    expect((await data.forgetUser(ana.userId)).clean).toBe(true);
    expect(filesContaining(dir, ana.memoryId)).toEqual([]);
  });
});
