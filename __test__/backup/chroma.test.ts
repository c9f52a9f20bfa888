import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { restoreBackup, type DataLayer } from '../../src/index.js';
import { tempDir } from '../helpers/folders.js';
import { PASSWORD, open } from './helpers.js';

/**
 * A hybrid recall (vector similarity fused with FTS5 by reciprocal rank) as `id score` lines.
 * Equal fused scores keep the order Chroma returned them in, which a rebuilt index may change,
 * so ties are put in id order.
 */
async function recallIds(data: DataLayer, userId: string): Promise<string[]> {
  const hits = await data.memories.recall('which music does Ada like', { userId, limit: 5 });
  return hits
    .map((h) => ({ id: h.item.id, score: Number(h.score.toFixed(9)) }))
    .sort((a, b) => b.score - a.score || a.id.localeCompare(b.id))
    .map((h) => `${h.id} ${h.score}`);
}

/** Every memory a recall finds (limit above the number of memories), as a sorted id list. */
async function recalledSet(data: DataLayer, userId: string): Promise<string[]> {
  const hits = await data.memories.recall('which music does Ada like', { userId, limit: 20 });
  return hits.map((h) => h.item.id).sort();
}

// Chroma is derived from libSQL: backups and key rotation rebuild it instead of copying it.
describe('Chroma after restore and key rotation (real Chroma server)', () => {
  const t = tempDir('aico-backup-chroma-');
  afterAll(() => t.cleanup());

  it('is rebuilt from libSQL after a restore and after a rotation: same recall as before', async () => {
    const src = join(t.dir, 'src');
    const data = await open(src, { vectors: {} });
    let userId = '';
    let before: string[] = [];
    let live = 0;
    let beforeSet: string[] = [];
    try {
      const { user } = await data.services.onboarding.onboardNewUser({ name: 'Ada' });
      userId = user.id;
      const facts = ['Ada likes modal jazz', 'Ada plays the piano on Sundays', 'Ada dislikes loud music', 'Ada drinks green tea', 'Ada lives in Lisbon'];
      for (const content of facts) await data.memories.remember({ userId, type: 'semantic', content });
      await data.outbox?.drain();
      live = Number((await data.sql.queryRaw('SELECT count(*) FROM memories WHERE deleted_at IS NULL'))[0]![0]);
      expect(live).toBeGreaterThanOrEqual(5);
      expect(await data.vectors!.memories.count()).toBe(live);
      before = await recallIds(data, userId);
      beforeSet = await recalledSet(data, userId);
      expect(before.length).toBeGreaterThan(0);
      await data.backup(join(t.dir, 'b.aicobak'));
    } finally {
      await data.close();
    }

    const dest = join(t.dir, 'restored');
    const r = await restoreBackup({ file: join(t.dir, 'b.aicobak'), dir: dest, password: PASSWORD });
    expect(r.manifest.chroma).toBe('rebuild');
    expect(existsSync(join(dest, 'chroma'))).toBe(false);
    const restored = await open(dest, { vectors: {} });
    try {
      // A Chroma folder created beside existing memories is filled by the outbox on its own.
      await restored.outbox!.drain(120_000);
      expect((await restored.verifyConsistency()).ok).toBe(true);
      const repaired = await restored.repair();
      expect(repaired.fixed.chroma).toBe(0);
      expect(repaired.after.ok).toBe(true);
      expect(await restored.vectors!.memories.count()).toBe(live);
      expect(await recallIds(restored, userId)).toEqual(before);

      // Key rotation drops Chroma's folder (sealed under the old key); the next open refills it.
      const rotated = await restored.rotateKeys();
      expect(rotated.dropped).toContain('chroma');
    } finally {
      await restored.close();
    }
    const again = await open(dest, { vectors: {} });
    try {
      await again.outbox!.drain(120_000);
      expect((await again.verifyConsistency()).ok).toBe(true);
      expect(await again.vectors!.memories.count()).toBe(live);
      // The default embedder is keyed by the data key, so the new key gives other vectors (and
      // slightly other similarities): the same memories come back, not necessarily in the same order.
      expect(await recalledSet(again, userId)).toEqual(beforeSet);
    } finally {
      await again.close();
    }
  }, 180_000);
});
