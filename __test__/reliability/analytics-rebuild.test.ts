/**
 * Issue 21 (4): a rejected or missing analytics snapshot is rebuilt from libSQL before the first
 * query or report answers. Before: the first `query('SELECT count(*) FROM messages')` after a
 * damaged snapshot threw `SQL_ERROR: Catalog Error: Table with name messages does not exist`.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createConversation, createMessage } from '../../src/domain/index.js';
import { openDataLayer, type OpenDataLayerOptions } from '../../src/index.js';
import { tempDir } from '../helpers/folders.js';

const PASSWORD = 'analytics rebuild password';
const t = tempDir('analytics-rebuild-');
afterAll(() => t.cleanup());

async function populate(dir: string): Promise<void> {
  const data = await openDataLayer({ dir, password: PASSWORD, vectors: false } as OpenDataLayerOptions);
  try {
    const { user } = await data.services.onboarding.onboardNewUser({ name: 'a' });
    const c = createConversation({ userId: user.id });
    await data.repos.conversations.save(c);
    for (let i = 0; i < 25; i++) await data.repos.conversations.saveMessage(createMessage({ conversationId: c.id, userId: user.id, role: 'user', content: `m${i}` }));
    await data.outbox?.drain();
    await data.analytics!.sync();
  } finally {
    await data.close();
  }
}

describe('analytics rebuilt before it answers', () => {
  for (const damage of ['flip', 'delete'] as const) {
    it(`snapshot ${damage === 'flip' ? 'rejected (a flipped byte)' : 'missing'}: the first query and the first report answer from libSQL`, async () => {
      const dir = join(t.dir, damage);
      await populate(dir);
      const snap = join(dir, 'analytics.snapshot');
      if (damage === 'delete') rmSync(snap);
      else {
        const b = readFileSync(snap);
        b[Math.floor(b.length / 2)]! ^= 0xff;
        writeFileSync(snap, b);
      }
      const events: string[] = [];
      // outbox off: nothing else syncs analytics, so only the rebuild-before-query path can answer.
      const data = await openDataLayer({ dir, password: PASSWORD, vectors: false, outbox: false, analytics: { onEvent: (e) => events.push(e.kind) } } as OpenDataLayerOptions);
      try {
        expect(data.degradations().map((d) => d.store)).toEqual(['analytics']);
        const [first, report] = await Promise.all([
          data.analytics!.query<{ n: number }>('SELECT count(*) AS n FROM messages'),
          data.analytics!.reports.dailyMetrics(),
        ]);
        const [primary] = await data.sql.query<{ n: number }>('SELECT count(*) AS n FROM messages');
        expect(Number(first[0]!.n)).toBe(Number(primary!.n));
        expect(Number(primary!.n)).toBeGreaterThan(0);
        expect(Array.isArray(report)).toBe(true);
        expect(events).toContain('rebuilt_from_libsql');
        if (damage === 'flip') expect(events).toContain('snapshot_rejected');
        expect(data.degradations()).toEqual([]);
      } finally {
        await data.close();
      }
    }, 120_000);
  }
});
