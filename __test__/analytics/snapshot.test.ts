import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AnalyticsEvent } from '../../src/stores/analytics/index.js';
import { filesContaining } from '../helpers/folders.js';
import { CANARY, Fixture } from './fixture.js';

let fx: Fixture;
let events: AnalyticsEvent[];
const onEvent = (e: AnalyticsEvent) => void events.push(e);
beforeEach(async () => {
  fx = await Fixture.create();
  events = [];
});
afterEach(async () => {
  await fx.dispose();
});

const snapshotPath = () => join(fx.dir, 'analytics.snapshot');
const messagesOf = (r: { tables: { name: string; full: boolean; inserted: number }[] }) => r.tables.find((t) => t.name === 'messages')!;

describe('sealed snapshots', () => {
  it('no plaintext in the data folder or the temp directory after sync, queries and close', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'aico-analytics-tmp-'));
    const oldTmp = process.env.TMPDIR;
    process.env.TMPDIR = tmp; // any temp file DuckDB or SQLite made now would land here
    try {
      await fx.seed(2, 2000, 10);
      const analytics = await fx.open({ onEvent, memoryLimitMb: 128 });
      await analytics.sync();
      await analytics.query('SELECT a.content, b.content FROM messages a JOIN messages b USING (conversation_id) ORDER BY 1, 2 LIMIT 5');
      const hits = await analytics.query<{ n: number }>('SELECT count(*) AS n FROM messages WHERE content LIKE $p', { p: `%${CANARY}%` });
      expect(hits).toEqual([{ n: 2000 }]); // the canary is really in DuckDB...
      expect(await analytics.close()).not.toBeNull();
      expect(existsSync(snapshotPath())).toBe(true);
      // ...and nowhere on disk
      expect(filesContaining(fx.dir, CANARY)).toEqual([]);
      expect(filesContaining(fx.dir, 'message 1 ')).toEqual([]);
      expect(filesContaining(tmp, CANARY)).toEqual([]);
      expect(existsSync(join(process.cwd(), '.tmp'))).toBe(false);
    } finally {
      if (oldTmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = oldTmp;
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('reopening restores the snapshot and syncs only what changed meanwhile', async () => {
    await fx.seed(2, 300, 5);
    const first = await fx.open({ onEvent });
    expect(messagesOf(await first.sync()).full).toBe(true);
    const written = await first.close();
    expect(written).toMatchObject({ tables: 4 });

    await fx.sql.execute("INSERT INTO messages (id, conversation_id, user_id, role, content) VALUES ('late', 'c0', 'u0', 'user', 'x')");
    const second = await fx.open({ onEvent });
    expect(events.map((e) => e.kind)).toContain('snapshot_restored');
    expect(second.status().restored?.rows).toBe(written!.rows);
    const r = messagesOf(await second.sync());
    expect(r).toMatchObject({ full: false, inserted: 1 });
    expect(await second.query('SELECT count(*) AS n FROM messages')).toEqual([{ n: 301 }]);
  });

  for (const [what, damage] of [
    ['tampered', (p: string) => {
      const b = readFileSync(p);
      b[Math.floor(b.length / 2)] ^= 0x10;
      writeFileSync(p, b);
    }],
    ['truncated', (p: string) => writeFileSync(p, readFileSync(p).subarray(0, 100))],
    ['garbage', (p: string) => writeFileSync(p, Buffer.alloc(4096, 7))],
  ] as const) {
    it(`a ${what} snapshot is rebuilt from libSQL, with a warning and the same numbers`, async () => {
      await fx.seed(3, 200, 5);
      const a = await fx.open({ onEvent });
      await a.sync();
      const before = await a.reports.dailyMetrics({ days: 30 });
      await a.close();
      damage(snapshotPath());
      const b = await fx.open({ onEvent });
      const warn = events.find((e) => e.kind === 'snapshot_rejected');
      expect(warn?.level).toBe('warn');
      expect(warn?.message).toContain('[CORRUPT]');
      expect(messagesOf(await b.sync()).full).toBe(true);
      expect(await b.reports.dailyMetrics({ days: 30 })).toEqual(before);
    });
  }

  it("another password's snapshot is rebuilt, never WRONG_PASSWORD", async () => {
    await fx.seed(2, 50, 3);
    const other = await Fixture.create();
    try {
      await other.seed(1, 5, 1);
      const o = await other.open({ onEvent: () => undefined });
      await o.sync();
      await o.close();
      copyFileSync(join(other.dir, 'analytics.snapshot'), snapshotPath());
    } finally {
      await other.dispose();
    }
    const a = await fx.open({ onEvent });
    expect(events.map((e) => e.kind)).toContain('snapshot_rejected');
    const r = messagesOf(await a.sync());
    expect(r).toMatchObject({ full: true, inserted: 50 });
  });
});
