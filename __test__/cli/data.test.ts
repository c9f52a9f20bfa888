/**
 * Commands over a folder with data: `analytics` (reports, SQL, `--json`), `recall`, `status`
 * row counts, `doctor`, and the demo. The fixture is written with the library; the command
 * reads it in its own process.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConversation, createMessage } from '../../src/domain/index.js';
import { openDataLayer } from '../../src/index.js';
import { tempDir } from '../helpers/folders.js';
import { ensureBuilt, json, runCli } from './helpers.js';

const PW = 'cli data password';
const HOUR = 3_600_000;
let tmp: ReturnType<typeof tempDir>;
let dir: string;
const env = () => ({ AICO_DATA_PASSWORD: PW, AICO_DATA_DIR: dir });

/** The fixture: message times and sentiments, and the day each falls on (UTC). */
const now = Date.now();
const MESSAGES = [
  { at: now - 1 * HOUR, sentiment: 0.5, responseTimeMs: 300 },
  { at: now - 1 * HOUR, sentiment: 0.1, responseTimeMs: 500 },
  { at: now - 1 * HOUR, sentiment: -0.3, responseTimeMs: 900 },
  { at: now - 50 * HOUR, sentiment: 0.8, responseTimeMs: 700 },
  { at: now - 50 * HOUR, sentiment: 0.2, responseTimeMs: 100 },
];
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
let userId: string;
/** A second user, forgotten by the forget-user test (which runs last). */
let otherId: string;
/** Every message as libSQL holds it (onboarding adds a welcome message), read with the library. */
let stored: Array<{ at: number; sentiment: number | null; responseTimeMs: number | null; role: string }> = [];

beforeAll(async () => {
  await ensureBuilt();
  tmp = tempDir('aico-cli-data-');
  dir = join(tmp.dir, 'data');
  const data = await openDataLayer({ dir, password: PW });
  try {
    const { user } = await data.services.onboarding.onboardNewUser({ name: 'Cli Tester' });
    userId = user.id;
    const chat = createConversation({ userId, createdAt: new Date(now - 60 * HOUR) });
    await data.repos.conversations.save(chat);
    for (const [i, m] of MESSAGES.entries()) {
      await data.repos.conversations.saveMessage(
        createMessage({ conversationId: chat.id, userId, role: i % 2 ? 'assistant' : 'user', content: `message ${i}`, createdAt: new Date(m.at), sentimentScore: m.sentiment, responseTimeMs: m.responseTimeMs }),
      );
    }
    await data.memories.rememberMany([
      { userId, type: 'relationship', content: 'Sister Mara lives in Lisbon', importance: 0.9 },
      { userId, type: 'preference', content: 'Drinks green tea in the morning', importance: 0.6 },
      { userId, type: 'episodic', content: 'Went running along the river on Saturday', importance: 0.4 },
    ]);
    const other = await data.services.onboarding.onboardNewUser({ name: 'Forget Me' });
    otherId = other.user.id;
    const otherChat = createConversation({ userId: otherId });
    await data.repos.conversations.save(otherChat);
    await data.repos.conversations.saveMessage(createMessage({ conversationId: otherChat.id, userId: otherId, role: 'user', content: 'please forget me', createdAt: new Date(now - 2 * HOUR) }));
    await data.memories.remember({ userId: otherId, type: 'preference', content: 'Likes being forgotten', importance: 0.5 });
    stored = (await data.sql.query<{ created_at: string; sentiment: number | null; response_time_ms: number | null; role: string }>('SELECT created_at, sentiment, response_time_ms, role FROM messages')).map(
      (m) => ({ at: Date.parse(m.created_at), sentiment: m.sentiment, responseTimeMs: m.response_time_ms, role: m.role }),
    );
  } finally {
    await data.close();
  }
});
afterAll(() => tmp?.cleanup());

describe('analytics', () => {
  it("daily --json gives the seed query's numbers for the fixture days", async () => {
    const r = await runCli(['analytics', 'daily', '--days', '30', '--json'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    const rows: Array<{ day: string; messageCount: number; avgSentiment: number }> = json(r);
    expect(stored.length).toBeGreaterThanOrEqual(MESSAGES.length);
    const expected = new Map<string, { n: number; scores: number[] }>();
    for (const m of stored) {
      const e = expected.get(dayOf(m.at)) ?? { n: 0, scores: [] };
      e.n++;
      if (m.sentiment !== null) e.scores.push(m.sentiment);
      expected.set(dayOf(m.at), e);
    }
    expect(rows.map((x) => x.day).sort()).toEqual([...expected.keys()].sort());
    for (const row of rows) {
      const e = expected.get(row.day)!;
      expect(row.messageCount).toBe(e.n);
      if (e.scores.length) expect(row.avgSentiment).toBeCloseTo(e.scores.reduce((a, b) => a + b, 0) / e.scores.length, 9);
    }
  });

  it('a SELECT runs over the analytics tables; table output by default', async () => {
    const asJson = await runCli(['analytics', 'SELECT count(*) AS n, max(response_time_ms) AS slowest FROM messages', '--json'], { env: env() });
    expect(asJson.code, asJson.stderr).toBe(0);
    expect(json(asJson)).toEqual([{ n: stored.length, slowest: Math.max(...stored.map((m) => m.responseTimeMs ?? 0)) }]);
    const table = await runCli(['analytics', 'SELECT role, count(*) AS n FROM messages GROUP BY role ORDER BY role'], { env: env() });
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^role\s+n$/);
    for (const role of new Set(stored.map((m) => m.role))) {
      expect(table.stdout).toMatch(new RegExp(`^${role}\\s+${stored.filter((m) => m.role === role).length}$`, 'm'));
    }
  });

  it('an unknown report exits 4; a write statement is refused with exit 2', async () => {
    const unknown = await runCli(['analytics', 'weekly-magic'], { env: env() });
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('fix: use one of daily, heatmap');
    const write = await runCli(['analytics', 'SELECT 1; DELETE FROM messages'], { env: env() });
    expect(write.code).toBe(2);
    expect(write.stderr).toContain('error INVALID_ARGUMENT');
  });
});

describe('recall and status', () => {
  it('recall finds the memory about Lisbon (hybrid and keyword-only)', async () => {
    for (const extra of [[], ['--keyword']]) {
      const r = await runCli(['recall', 'who lives in Lisbon?', '--user', userId, '--json', ...extra], { env: env() });
      expect(r.code, r.stderr).toBe(0);
      const hits: Array<{ content: string }> = json(r);
      expect(hits[0]?.content).toBe('Sister Mara lives in Lisbon');
    }
  });

  it('recall without --user in a folder of two users exits 2', async () => {
    const r = await runCli(['recall', 'Lisbon'], { env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('pass --user ID');
  });

  it('status counts the fixture rows', async () => {
    const s = json(await runCli(['status', '--json'], { env: env() }));
    expect(s.sql.rows.messages).toBe(stored.length);
    expect(s.sql.rows.users).toBe(2);
    expect(s.sql.rows.memories).toBeGreaterThanOrEqual(4);
    expect(s.files.map((f: { store: string }) => f.store)).toContain('vectors (Chroma)');
  });
});

describe('doctor', () => {
  it('finds the binding, the engines, a Chroma server, disk and an unlockable key file', async () => {
    const r = await runCli(['doctor', '--json'], { env: env() });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const report: { ok: boolean; checks: Array<{ name: string; status: string }> } = json(r);
    const status = (name: string) => report.checks.find((c) => c.name === name)?.status;
    expect(report.ok).toBe(true);
    for (const name of ['node', 'native binding', 'libSQL', 'DuckDB', 'chroma server', 'disk', 'key file', 'unlock', 'libSQL quick_check']) expect(status(name), name).toBe('ok');
  });

  it('a wrong password fails the unlock check: exit 8 and the code in the report', async () => {
    const r = await runCli(['doctor', '--dir', dir], { env: { AICO_DATA_PASSWORD: 'wrong' } });
    expect(r.code).toBe(8);
    expect(r.stdout).toMatch(/^FAIL unlock\s+WRONG_PASSWORD/m);
    expect(r.stderr).toContain('doctor: 1 check(s) failed: unlock');
  });
});

describe('demo', () => {
  it('runs end to end into a given folder, which status then reads', async () => {
    const demoDir = join(tmp.dir, 'demo');
    const r = await runCli(['demo', '--dir', demoDir, '--messages', '500', '--days', '31', '--keep'], { timeoutMs: 180_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // Exactly the count asked for (it used to overshoot by ~18%).
    expect(r.stdout).toMatch(/^- ingest: 500 messages in /m);
    expect(r.stdout).toMatch(/load average [\d.]+ at the end/);
    for (const step of ['onboard', 'ingest', 'remember', 'recall', 'analytics ETL', '30-day report', 'cache', 'plaintext check']) expect(r.stdout).toMatch(new RegExp(`^- ${step}: `, 'm'));
    expect(r.stdout).toMatch(/canary memory found in 0 of \d+ files/);
    // Not a terminal: progress comes as plain lines on stderr.
    expect(r.stderr).toMatch(/^ {2}ingest: [\d,]+ messages in .* messages\/s\)$/m);
    const s = json(await runCli(['status', '--json', '--dir', demoDir], { env: { AICO_DATA_PASSWORD: 'demo password: change me' } }));
    expect(s.sql.rows.messages).toBeGreaterThanOrEqual(500);
    expect(s.sql.rows.users).toBe(1);
  });

  it('without --keep removes the --dir folder it created; honours AICO_DATA_PASSWORD; --help states the true default', async () => {
    const demoDir = join(tmp.dir, 'demo-gone');
    const r = await runCli(['demo', '--dir', demoDir, '--messages', '300', '--days', '31'], { env: { AICO_DATA_PASSWORD: 'my own demo password' }, timeoutMs: 180_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`data folder ${demoDir} removed`);
    expect(existsSync(demoDir)).toBe(false);
    expect(r.stdout + r.stderr).not.toContain('my own demo password');

    const kept = join(tmp.dir, 'demo-own-password');
    const k = await runCli(['demo', '--dir', kept, '--messages', '300', '--days', '31', '--keep'], { env: { AICO_DATA_PASSWORD: 'my own demo password' }, timeoutMs: 180_000 });
    expect(k.code, k.stdout + k.stderr).toBe(0);
    expect(k.stdout).toContain('<your AICO_DATA_PASSWORD>');
    const s = await runCli(['status', '--json', '--dir', kept], { env: { AICO_DATA_PASSWORD: 'my own demo password' } });
    expect(s.code, s.stderr).toBe(0);

    const help = await runCli(['demo', '--help']);
    expect(help.stdout).toContain('(default 50000)');
    const { generateHistory } = await import('../../src/cli/demo-history.js');
    const total = generateHistory({ minMessages: 50_000, days: 90, anchor: new Date() }).reduce((n, c) => n + c.messages.length, 0);
    expect(total).toBe(50_000);
  }, 400_000);

  it('refuses a folder that is not empty', async () => {
    const r = await runCli(['demo', '--dir', dir, '--messages', '500']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not empty');
  });
});

describe('forget-user', () => {
  it('needs --yes; then removes the user from every store, status --user proves it, the other user stays', async () => {
    const refused = await runCli(['forget-user', otherId], { env: env() });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('add --yes');
    const before = json(await runCli(['status', '--user', otherId, '--json'], { env: env() }));
    expect(before.clean).toBe(false);
    expect(before.libsql.messages).toBeGreaterThanOrEqual(1);

    const r = await runCli(['forget-user', otherId, '--yes', '--json'], { env: env() });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(json(r).clean).toBe(true);

    // The proof prints, and the id no longer names a user: exit 4 (NOT_FOUND), not a success.
    const afterRun = await runCli(['status', '--user', otherId, '--json'], { env: env() });
    expect(afterRun.code, afterRun.stderr).toBe(4);
    expect(afterRun.stderr).toContain('never created, or forgotten');
    const after = json(afterRun);
    expect(after.clean).toBe(true);
    expect(Object.values(after.libsql).every((n) => n === 0)).toBe(true);
    expect(after.chroma).toBe(0);
    const kept = json(await runCli(['status', '--user', userId, '--json'], { env: env() }));
    expect(kept.libsql.messages).toBeGreaterThanOrEqual(MESSAGES.length);
  });
});
