import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AicoDataError } from '../../src/errors.js';
import type { AnalyticsStore } from '../../src/stores/analytics/index.js';
import { Fixture, NOW_MS } from './fixture.js';

let fx: Fixture;
let analytics: AnalyticsStore;
beforeEach(async () => {
  fx = await Fixture.create();
  analytics = await fx.open({ onEvent: () => undefined });
});
afterEach(async () => {
  await fx.dispose();
});

async function codeOf(p: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await p();
  } catch (e) {
    expect(e).toBeInstanceOf(AicoDataError);
    return (e as AicoDataError).code;
  }
  return undefined;
}

const liveMessages = (sql: string) => fx.sql.query(`SELECT id, role, content, sentiment, response_time_ms FROM messages WHERE deleted_at IS NULL ${sql}`);

describe('sync', () => {
  it('copies everything first, then only inserts, updates and deletes', async () => {
    await fx.seed(3, 120, 10);
    const first = await analytics.sync();
    const m = () => first.tables.find((t) => t.name === 'messages')!;
    expect(m()).toMatchObject({ inserted: 120, updated: 0, deleted: 0, full: true });
    expect(first.ms).toBeGreaterThan(0);
    expect(await analytics.query('SELECT id, role, content, sentiment, response_time_ms FROM messages ORDER BY id')).toEqual(await liveMessages('ORDER BY id'));

    await fx.sql.exec(`
      INSERT INTO messages (id, conversation_id, user_id, role, content) VALUES ('n1', 'c0', 'u0', 'user', 'new');
      UPDATE messages SET sentiment = 0.5 WHERE id IN ('m1', 'm2');
      UPDATE messages SET deleted_at = '2025-03-01T00:00:00Z' WHERE id = 'm3';
      DELETE FROM messages WHERE id IN ('m4', 'm5');`);
    const next = await analytics.sync();
    expect(next.tables.find((t) => t.name === 'messages')).toEqual({ name: 'messages', inserted: 1, updated: 2, deleted: 3, full: false, coerced: 0 });
    expect(await analytics.query('SELECT id, role, content, sentiment, response_time_ms FROM messages ORDER BY id')).toEqual(await liveMessages('ORDER BY id'));
    const again = await analytics.sync();
    expect(again.tables.every((t) => t.inserted + t.updated + t.deleted === 0 && !t.full)).toBe(true);
  });

  it('requestSync debounces several requests into one sync', async () => {
    await fx.seed(1, 5, 1);
    const a = analytics.requestSync();
    const b = analytics.requestSync();
    expect(a).toBe(b);
    const r = await a;
    expect(r.tables.find((t) => t.name === 'messages')!.inserted).toBe(5);
    expect(analytics.status().lastSync?.watermark).toBe(r.watermark);
  });
});

describe('reports', () => {
  it("the seed's daily query equals the same numbers computed in libSQL", async () => {
    await fx.seed(4, 900, 40);
    await analytics.sync();
    const days = await analytics.reports.dailyMetrics({ days: 30, nowMs: NOW_MS });
    const since = new Date(NOW_MS - 30 * 86_400_000).toISOString();
    const byHand = await fx.sql.query<{ day: string; n: number; avg: number }>(
      'SELECT substr(created_at, 1, 10) AS day, count(*) AS n, avg(sentiment) AS avg FROM messages WHERE created_at > ? GROUP BY 1 ORDER BY 1 DESC',
      [since],
    );
    expect(days.length).toBe(byHand.length);
    days.forEach((d, i) => {
      expect(d.day).toBe(byHand[i]!.day);
      expect(d.messageCount).toBe(byHand[i]!.n);
      expect(d.avgSentiment).toBeCloseTo(byHand[i]!.avg, 9);
      expect(d.p95ResponseTimeMs).toBeGreaterThanOrEqual(0);
      expect(d.p95ResponseTimeMs).toBeLessThan(5000);
    });
  });

  it('heatmap, conversation lengths, engagement and sentiment trends', async () => {
    await fx.seed(4, 400, 28);
    await analytics.sync();
    const heat = await analytics.reports.activityHeatmap({ days: 28, nowMs: NOW_MS });
    expect(heat.grid).toHaveLength(7);
    expect(heat.grid.flat().reduce((a, b) => a + b, 0)).toBe(400);
    const lengths = await analytics.reports.conversationLengths();
    expect(lengths).toEqual([{ minMessages: 64, maxMessages: 127, conversations: 4, avgMessages: 100, cumulativeShare: 1 }]);
    const weeks = await analytics.reports.engagementTrend({ weeks: 8, nowMs: NOW_MS, userId: 'u1' });
    expect(weeks.length).toBeGreaterThanOrEqual(4);
    expect(weeks.every((w) => w.userId === 'u1')).toBe(true);
    expect(weeks[0]!.changeFromPreviousWeek).toBeNull();
    expect(weeks.at(-1)!.cumulativeMessages).toBe(200);
    const senti = await analytics.reports.sentimentTrend({ days: 28, nowMs: NOW_MS, windowDays: 7 });
    expect(senti.length).toBeGreaterThan(20);
    expect(senti.every((d) => d.movingAvgSentiment >= -1 && d.movingAvgSentiment <= 1)).toBe(true);
    expect(await codeOf(() => analytics.reports.dailyMetrics({ days: 0 }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(() => analytics.reports.dailyMetrics({ utcOffsetMinutes: 5000 }))).toBe('INVALID_ARGUMENT');
  });
});

describe('queries', () => {
  it('accepts only a single SELECT; files and writes are out of reach', async () => {
    await fx.seed(1, 3, 1);
    await analytics.sync();
    for (const sql of ['DELETE FROM messages', "UPDATE messages SET content = 'x'", 'DROP TABLE messages', "SET temp_directory = '/tmp'", 'SELECT 1; SELECT 2']) {
      expect(await codeOf(() => analytics.query(sql)), sql).toBe('INVALID_ARGUMENT');
    }
    for (const sql of ["COPY messages TO '/tmp/aico-leak.csv'", "SELECT * FROM read_csv('/etc/passwd')"]) {
      expect(['INVALID_ARGUMENT', 'NOT_AUTHORIZED', 'SQL_ERROR'], sql).toContain(await codeOf(() => analytics.query(sql)));
    }
    expect(await codeOf(() => analytics.query('SELEC 1'))).toBe('SQL_ERROR');
    expect(await codeOf(() => analytics.query('SELECT ? AS a'))).toBe('INVALID_ARGUMENT');
    expect(await analytics.query('SELECT count(*) AS n FROM messages')).toEqual([{ n: 3 }]);
  });

  it('binds positional and named parameters; returns rows, arrays and Arrow IPC', async () => {
    await fx.seed(2, 20, 2);
    await analytics.sync();
    const named = await analytics.query<{ n: number }>('SELECT count(*) AS n FROM messages WHERE role = $role', { role: 'user' });
    const positional = await analytics.queryRaw('SELECT count(*) FROM messages WHERE role = ?', ['user']);
    expect(named).toEqual([{ n: 10 }]);
    expect(positional).toEqual([[10]]);
    const [row] = await analytics.query("SELECT TIMESTAMP '2025-01-02 03:04:05' AS ts, true AS b, 2.5 AS d");
    expect(row).toEqual({ ts: '2025-01-02T03:04:05.000Z', b: 1, d: 2.5 });
    const ipc = await analytics.queryArrow('SELECT id, sentiment FROM messages WHERE role = $role', { role: 'user' });
    expect(Buffer.isBuffer(ipc)).toBe(true);
    expect(ipc.readUInt32LE(0)).toBe(0xffffffff); // IPC stream continuation marker before the schema
    expect(ipc.includes(Buffer.from('sentiment'))).toBe(true);
  });

  it('a closed store refuses with CLOSED', async () => {
    await analytics.close();
    expect(analytics.closed).toBe(true);
    expect(await codeOf(() => analytics.sync())).toBe('CLOSED');
    expect(await codeOf(() => analytics.query('SELECT 1'))).toBe('CLOSED');
    expect(await analytics.close()).toBeNull();
  });
});
