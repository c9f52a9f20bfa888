/**
 * The HTML reports render in a real browser: `aico-data report` (analytics charts and store
 * sizes) and `bench/results/latest.html` (each ratio against its goal) are loaded by headless
 * Chromium; the DOM it builds must hold every chart with the expected marks per series, and
 * a PNG screenshot is taken (kept in the temp folder for a person to look at with
 * AICO_KEEP_RENDERS=1). Skipped, with the reason in the test name, only where no Chromium is
 * installed (`apt-get install chromium`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderBenchHtml, type BenchReportLike } from '../../bench/report-html.js';
import { renderAnalyticsReport } from '../../src/cli/report/analytics-report.js';
import { tempDir } from '../helpers/folders.js';
import { ensureBuilt, ROOT, runCli } from './helpers.js';

function findChromium(): string | undefined {
  for (const bin of ['chromium', 'chromium-browser', 'google-chrome']) {
    const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return undefined;
}
const CHROMIUM = findChromium();

/** Runs headless Chromium on `file` with a fresh profile; `mode` is the one output it gives. */
function chromium(file: string, mode: { dumpDom: true } | { screenshot: string }): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'aico-chromium-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${profile}`,
    '--window-size=800,2400',
    ...('dumpDom' in mode ? ['--dump-dom'] : [`--screenshot=${mode.screenshot}`]),
    `file://${file}`,
  ];
  return new Promise((resolveRun, reject) => {
    const child = spawn(CHROMIUM!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`chromium exited ${code}: ${err.slice(-2000)}`));
      else resolveRun(out);
    });
  });
}

/** The `<svg data-chart=NAME>` element of the DOM, and how many marks of each series it holds. */
function chart(dom: string, name: string): { svg: string; marks: (series: string) => number } {
  const m = new RegExp(`<svg[^>]*data-chart="${name}"[\\s\\S]*?</svg>`).exec(dom);
  expect(m, `chart ${name} is in the rendered DOM`).not.toBeNull();
  const svg = m![0];
  return { svg, marks: (series) => (svg.match(new RegExp(`data-series="${series}"`, 'g')) ?? []).length };
}

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47]);
let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir('aico-render-');
});
afterAll(() => {
  if (process.env.AICO_KEEP_RENDERS === '1') console.log(`renders kept in ${tmp.dir}`);
  else tmp?.cleanup();
});

describe.skipIf(!CHROMIUM)(`HTML reports in headless Chromium${CHROMIUM ? '' : ' (skipped: no chromium on this machine; apt-get install chromium)'}`, () => {
  it('bench/results/latest.html: one ratio bar per row with a peer, a goal mark per ratio goal', async () => {
    const report = JSON.parse(readFileSync(join(ROOT, 'bench', 'results', 'latest.json'), 'utf8')) as BenchReportLike;
    const file = join(tmp.dir, 'bench.html');
    writeFileSync(file, renderBenchHtml(report));
    const dom = await chromium(file, { dumpDom: true });
    const withRatio = report.rows.filter((r) => r.ratio !== null);
    expect(withRatio.length).toBeGreaterThan(0);
    for (const suite of new Set(withRatio.map((r) => r.suite))) {
      const rows = withRatio.filter((r) => r.suite === suite);
      const c = chart(dom, `ratio-${suite}`);
      expect(c.marks('ratio'), suite).toBe(rows.length);
      const goals = rows.reduce((n, r) => n + (r.goal?.on === 'ratio' ? Number(r.goal.min !== undefined) + Number(r.goal.max !== undefined) : 0), 0);
      expect(c.marks('goal'), suite).toBe(goals);
      // Bars have a drawn width (not a collapsed chart).
      for (const w of c.svg.matchAll(/data-series="ratio"[^>]*width="([\d.]+)"/g)) expect(Number(w[1])).toBeGreaterThan(0);
    }
    const png = join(tmp.dir, 'bench.png');
    await chromium(file, { screenshot: png });
    expect(readFileSync(png).subarray(0, 4).equals(PNG_MAGIC)).toBe(true);
    expect(statSync(png).size).toBeGreaterThan(20_000);
  }, 200_000);

  it('the analytics page draws each series from given figures: bars per day, gaps for days without sentiment, 7 x 24 heatmap', async () => {
    const now = new Date('2026-12-01T12:00:00Z');
    const day = (i: number) => new Date(now.getTime() - i * 86_400_000).toISOString().slice(0, 10);
    const file = join(tmp.dir, 'synthetic.html');
    writeFileSync(
      file,
      renderAnalyticsReport({
        generatedAt: now,
        days: 10,
        daily: [0, 1, 2, 5].map((i) => ({ day: day(i), messageCount: 10 * (i + 1), avgSentiment: i === 2 ? null : 0.1 * i, p95ResponseTimeMs: 1000 + i })),
        heatmap: { cells: [], grid: Array.from({ length: 7 }, (_, d) => Array.from({ length: 24 }, (_, h) => d * h)) },
        lengths: [{ minMessages: 1, maxMessages: 5, conversations: 3, avgMessages: 2, cumulativeShare: 0.5 }, { minMessages: 6, maxMessages: 9, conversations: 3, avgMessages: 7, cumulativeShare: 1 }],
        stores: [{ store: 'sql (libSQL)', files: 3, bytes: 4 * 1048576 }, { store: 'kv (RocksDB)', files: 9, bytes: 1048576 }],
        rows: { messages: 100 },
      }),
    );
    const dom = await chromium(file, { dumpDom: true });
    expect(chart(dom, 'daily-messages').marks('daily-messages')).toBe(10);
    // Three days with a sentiment: three dots and one path (split where a day has none).
    expect(chart(dom, 'avg-sentiment').marks('avg-sentiment')).toBe(3 + 1);
    expect(chart(dom, 'avg-sentiment').svg).toMatch(/d="M[\d.]+,[\d.]+M[\d.]+,[\d.]+L[\d.]+,[\d.]+"/);
    expect(chart(dom, 'heatmap').marks('heatmap')).toBe(168);
    expect(chart(dom, 'conversation-lengths').marks('conversation-lengths')).toBe(2);
    expect(chart(dom, 'store-sizes').marks('store-sizes')).toBe(2);
  }, 120_000);

  it('aico-data report: every chart drew its series, from a folder with messages', async () => {
    await ensureBuilt();
    // Imported here: the bench test above needs no native addon.
    const { createConversation, createMessage } = await import('../../src/domain/index.js');
    const { openDataLayer } = await import('../../src/index.js');
    const dir = join(tmp.dir, 'data');
    const PW = 'render password';
    const data = await openDataLayer({ dir, password: PW, vectors: false });
    const now = Date.now();
    try {
      const { user } = await data.services.onboarding.onboardNewUser({ name: 'Render' });
      for (let c = 0; c < 6; c++) {
        const chat = createConversation({ userId: user.id, createdAt: new Date(now - c * 86_400_000 - 3_600_000) });
        await data.repos.conversations.save(chat);
        for (let i = 0; i <= c * 2; i++) {
          await data.repos.conversations.saveMessage(
            createMessage({ conversationId: chat.id, userId: user.id, role: i % 2 ? 'assistant' : 'user', content: `m ${c}/${i}`, createdAt: new Date(now - c * 86_400_000 - 3_600_000 + i * 1000), sentimentScore: ((i % 5) - 2) / 4, responseTimeMs: 100 + 50 * i }),
          );
        }
      }
    } finally {
      await data.close();
    }
    const file = join(tmp.dir, 'report.html');
    const r = await runCli(['report', '--out', file, '--days', '14'], { env: { AICO_DATA_PASSWORD: PW, AICO_DATA_DIR: dir } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const html = readFileSync(file, 'utf8');
    // Self-contained: nothing to fetch (no src/href to a URL, a CSP that forbids it).
    expect(html).toContain("default-src 'none'");
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
    const dom = await chromium(file, { dumpDom: true });
    expect(chart(dom, 'daily-messages').marks('daily-messages')).toBe(14);
    expect(chart(dom, 'avg-sentiment').marks('avg-sentiment')).toBeGreaterThanOrEqual(6 + 1); // 6 dots + the line
    expect(chart(dom, 'p95-response').marks('p95-response')).toBeGreaterThanOrEqual(2);
    expect(chart(dom, 'heatmap').marks('heatmap')).toBe(7 * 24);
    expect(chart(dom, 'conversation-lengths').marks('conversation-lengths')).toBeGreaterThan(0);
    expect(chart(dom, 'store-sizes').marks('store-sizes')).toBeGreaterThanOrEqual(2);
    // The bars of the days with messages have height; the line has a path.
    const heights = [...chart(dom, 'daily-messages').svg.matchAll(/height="([\d.]+)" class="bar"/g)].map((m) => Number(m[1]));
    expect(heights.filter((h) => h > 0).length).toBeGreaterThanOrEqual(6);
    expect(chart(dom, 'avg-sentiment').svg).toMatch(/<path data-series="avg-sentiment" d="M[\d.]+,[\d.]+L/);
    const png = join(tmp.dir, 'report.png');
    await chromium(file, { screenshot: png });
    expect(readFileSync(png).subarray(0, 4).equals(PNG_MAGIC)).toBe(true);
    expect(statSync(png).size).toBeGreaterThan(20_000);
  }, 300_000);
});
