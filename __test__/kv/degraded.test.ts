/**
 * Issue 21: a damaged KV store does not lock the user out. The attack: corrupt `<dir>/kv`
 * (CURRENT pointing at a manifest that does not exist, the way a flipped byte in it does), then
 * open through the public API. Before: `openDataLayer` failed with CORRUPT. Now: the layer opens,
 * `data.kv` calls throw a typed CORRUPT naming `aico-data repair`, `degradations()` says so, libSQL
 * and analytics work, the outbox keeps the cache work (skipped, not dead-lettered), and
 * `repairKv()` salvages the store with RocksDB's repair: the values come back.
 */
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createConversation, createMessage } from '../../src/domain/index.js';
import { isAicoError, openDataLayer, type DataLayer, type OpenDataLayerOptions } from '../../src/index.js';
import { tempDir } from '../helpers/folders.js';

const PASSWORD = 'degraded kv password';
const t = tempDir('kv-degraded-');
afterAll(() => t.cleanup());

const open = (dir: string, extra: Partial<OpenDataLayerOptions> = {}) =>
  openDataLayer({ dir, password: PASSWORD, vectors: false, ...extra } as OpenDataLayerOptions);

async function populate(dir: string): Promise<{ userId: string; conversationId: string }> {
  const data = await open(dir);
  try {
    const { user } = await data.services.onboarding.onboardNewUser({ name: 'degraded' });
    const conversation = createConversation({ userId: user.id });
    await data.repos.conversations.save(conversation);
    for (let i = 0; i < 10; i++) data.kv.put('config', `c${i}`, Buffer.from(`value ${i}`));
    data.kv.queue.enqueue('jobs', Buffer.from('job 1'));
    await data.outbox?.drain();
    return { userId: user.id, conversationId: conversation.id };
  } finally {
    await data.close();
  }
}

describe('degraded KV store', () => {
  it('a damaged KV store: the layer opens, kv throws typed CORRUPT naming repair, the rest works, repair salvages it', async () => {
    const dir = join(t.dir, 'a');
    const { userId, conversationId } = await populate(dir);
    writeFileSync(join(dir, 'kv', 'CURRENT'), 'MANIFEST-999999\n');

    let data: DataLayer | undefined = await open(dir);
    try {
      const d = data.degradations();
      expect(d.map((x) => x.store)).toEqual(['kv']);
      let err: unknown;
      try {
        data.kv.get('config', 'c1');
      } catch (e) {
        err = e;
      }
      expect(isAicoError(err) && err.code).toBe('CORRUPT');
      expect(String((err as { hint: string }).hint)).toMatch(/repair/);
      await expect(data.kv.getAsync('config', 'c1')).rejects.toMatchObject({ code: 'CORRUPT' });
      // Primary data and analytics work fully.
      const m = createMessage({ conversationId, userId, role: 'user', content: 'while kv is degraded' });
      await data.repos.conversations.saveMessage(m);
      expect((await data.sql.query('SELECT id FROM messages WHERE id = ?', [m.id])).length).toBe(1);
      await data.outbox!.drain();
      const rows = await data.analytics!.query<{ n: number }>('SELECT count(*) AS n FROM messages');
      const [primary] = await data.sql.query<{ n: number }>('SELECT count(*) AS n FROM messages');
      expect(Number(rows[0]!.n)).toBe(Number(primary!.n));
      // Cache work is kept for the repaired store, never dead-lettered.
      const st = await data.outbox!.status();
      expect(st.dead).toBe(0);
      const skipped = await data.sql.query<{ n: number }>(`SELECT count(*) AS n FROM outbox_skipped WHERE target = 'rocksdb'`);
      expect(Number(skipped[0]!.n)).toBeGreaterThan(0);
      await expect(data.repairKv()).resolves.toMatchObject({ method: expect.stringMatching(/repair|rebuild/) });
    } finally {
      await data.close();
      data = undefined;
    }

    // Repaired (the call above ran while data.kv was the degraded store): the values are back.
    data = await open(dir);
    try {
      expect(data.degradations()).toEqual([]);
      for (let i = 0; i < 10; i++) expect(data.kv.get('config', `c${i}`)?.toString()).toBe(`value ${i}`);
      expect(readdirSync(dir).some((n) => n.startsWith('kv.damaged-'))).toBe(true);
    } finally {
      await data.close();
    }
  }, 120_000);

  it('repairKv reports per namespace and keeps the damaged files aside, sealed', async () => {
    const dir = join(t.dir, 'b');
    await populate(dir);
    const data = await open(dir, { kv: false });
    try {
      const r = await data.repairKv();
      expect(r.method).toBe('repair');
      expect(r.openError).toBeNull();
      expect(r.walRecovery).toBe('pointInTime');
      const config = r.namespaces.find((n) => n.name === 'config')!;
      expect(config).toMatchObject({ before: 10, after: 10, lost: 0 });
      expect(r.lostMessages).toEqual([]);
      expect(existsSync(join(r.damagedCopy!, 'CURRENT'))).toBe(true);
      // The copy holds sealed values only: no plaintext value in any of its files.
      for (const f of readdirSync(r.damagedCopy!)) {
        const bytes = (await import('node:fs')).readFileSync(join(r.damagedCopy!, f));
        expect(bytes.includes(Buffer.from('value 3')), f).toBe(false);
      }
    } finally {
      await data.close();
    }
  }, 120_000);

  it('repairKv refuses while the RocksDB store is open in the layer (LOCKED)', async () => {
    const dir = join(t.dir, 'c');
    await populate(dir);
    const data = await open(dir);
    try {
      await expect(data.repairKv()).rejects.toMatchObject({ code: 'LOCKED' });
    } finally {
      await data.close();
    }
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);
});
