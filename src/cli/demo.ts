/**
 * The demo, the README's main job: a fresh encrypted data folder, an onboarded user, a
 * deterministic 90-day history of 50k+ messages, memories with embeddings and recall, the
 * seed's 30-day analytics query and the other reports, the cache, and a summary with timings.
 * Offline: the Chroma server comes from an npm package and embeddings from a local embedder.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataLayer, type DataLayer } from '../data-layer.js';
import { createConversation, createMessage, type Memory, type NewMemory, type SearchHit } from '../domain/index.js';
import { AicoDataError, invalidArgument, isAicoError } from '../errors.js';
import { buildInfo } from '../native/index.js';
import { track } from './context.js';
import { tapBus, waitForOutbox } from './demo-bus.js';
import { generateHistory } from './demo-history.js';
import { storeFiles } from './folder-files.js';
import { formatBytes, formatTable, out } from './output.js';
import { createProgress, formatDuration } from './progress.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Data folder to create (must not exist or be empty). Default: a fresh temporary folder. */
  dir?: string;
  /** Messages to ingest (default 50,000). */
  messages?: number;
  /** Days of history (default 90). */
  days?: number;
  /** Keep the data folder (the temporary one, or what the demo created in `dir`); removed otherwise. */
  keep?: boolean;
}

/** One line of the summary. */
interface Step {
  step: string;
  ms: number;
  detail: string;
}

const DEMO_PASSWORD = 'demo password: change me';
const CANARY = 'DEMO-CANARY-do-not-leak';
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** What the companion has learned about the demo user. */
function demoMemories(userId: string): NewMemory[] {
  const m = (type: NewMemory['type'], content: string, importance: number, category: string): NewMemory => ({ userId, type, content, importance, category });
  return [
    m('preference', 'Prefers quiet jazz piano while working late at night', 0.8, 'music'),
    m('relationship', 'Sister Mara lives in Lisbon and visits next month', 0.9, 'family'),
    m('episodic', 'Sleeps badly the night before travelling', 0.6, 'health'),
    m('preference', 'Likes spicy food, especially lentil soup', 0.5, 'food'),
    m('episodic', 'Ran along the river on Saturday mornings in October', 0.4, 'health'),
    m('semantic', 'Works as a product designer; deadlines often move', 0.7, 'work'),
    m('relationship', 'Has a difficult relationship with their brother', 0.7, 'family'),
    m('preference', 'Bakes bread on Sunday mornings', 0.5, 'food'),
    m('episodic', 'Booked a weekend train trip to the coast', 0.5, 'travel'),
    m('semantic', 'Does yoga twice a week to help with back pain', 0.6, 'health'),
    m('preference', 'Enjoyed the cello concert more than expected', 0.4, 'music'),
    m('semantic', 'Speaks Portuguese with the family', 0.5, 'family'),
  ];
}

const PROMPTS = ['what music helps me focus late at night?', 'who is coming to visit from Lisbon?', 'I have a trip tomorrow and feel restless'];

function filesBelow(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    const st = statSync(p);
    return st.isDirectory() ? filesBelow(p) : st.isFile() ? [p] : [];
  });
}

/** Runs `fn`, records its time as a summary step, returns its result. */
async function timed<T>(steps: Step[], step: string, fn: () => Promise<T>, detail: (r: T) => string): Promise<T> {
  const t0 = performance.now();
  const r = await fn();
  const ms = performance.now() - t0;
  const d = detail(r);
  steps.push({ step, ms, detail: d });
  out(`- ${step}: ${d} (${formatDuration(ms)})`);
  return r;
}

async function ingest(data: DataLayer, userId: string, messages: number, days: number): Promise<{ messages: number; conversations: number }> {
  const anchor = new Date();
  anchor.setUTCHours(0, 0, 0, 0);
  const history = generateHistory({ minMessages: messages, days, anchor });
  const total = history.reduce((n, c) => n + c.messages.length, 0);
  const progress = createProgress({ label: '  ingest', total, unit: 'messages' });
  const BATCH = 2000;
  let done = 0;
  let i = 0;
  while (i < history.length) {
    // One transaction per ~2000 messages: whole conversations, never split.
    const chunk: typeof history = [];
    let size = 0;
    while (i < history.length && (size === 0 || size + history[i]!.messages.length <= BATCH)) {
      size += history[i]!.messages.length;
      chunk.push(history[i++]!);
    }
    await data.unitOfWork(async (tx) => {
      for (const c of chunk) {
        const conversation = createConversation({ userId, title: c.title, createdAt: c.createdAt });
        await tx.conversations.save(conversation);
        for (const m of c.messages) {
          await tx.conversations.saveMessage(
            createMessage({
              conversationId: conversation.id,
              userId,
              role: m.role,
              content: m.content,
              createdAt: m.at,
              sentimentScore: m.sentiment,
              responseTimeMs: m.responseTimeMs,
              model: m.role === 'assistant' ? 'demo-llm' : null,
              promptTokens: m.promptTokens,
              completionTokens: m.completionTokens,
            }),
          );
        }
      }
    });
    done += size;
    progress.update(done);
  }
  progress.done();
  return { messages: total, conversations: history.length };
}

/** Memories into libSQL + Chroma; without a usable Chroma server, libSQL only (keyword recall). */
async function remember(data: DataLayer, userId: string): Promise<{ stored: number; semantic: boolean; note: string }> {
  const memories = demoMemories(userId);
  try {
    await data.memories.rememberMany(memories);
    return { stored: memories.length, semantic: data.memories.semantic, note: data.memories.semantic ? `embedded by ${data.vectors?.status().embedder} into Chroma (${data.vectors?.status().source})` : 'vectors off: keyword index only' };
  } catch (e) {
    if (!isAicoError(e, 'UNAVAILABLE')) throw e;
    // libSQL committed before the Chroma write failed: the facts are there, recall falls back to keywords.
    return { stored: memories.length, semantic: false, note: `Chroma unavailable (${e.message.split('\n')[0]}): keyword index only` };
  }
}

async function recall(data: DataLayer, userId: string, semantic: boolean): Promise<Array<{ prompt: string; hits: SearchHit<Memory>[] }>> {
  const results = [];
  for (const prompt of PROMPTS) {
    const hits = semantic ? await data.memories.recall(prompt, { userId, limit: 3 }) : await data.repos.memories.getByContext(prompt, { userId, limit: 3 });
    results.push({ prompt, hits });
  }
  return results;
}

/** Runs the demo; prints what it does and a summary. */
export async function runDemo(opts: DemoOptions = {}): Promise<void> {
  const messages = opts.messages ?? 50_000;
  const days = opts.days ?? 90;
  if (!Number.isInteger(messages) || messages < 100) throw invalidArgument('--messages must be a whole number >= 100');
  if (!Number.isInteger(days) || days < 31) throw invalidArgument('--days must be a whole number >= 31 (the 30-day report needs the history)');
  if (opts.dir && existsSync(opts.dir) && readdirSync(opts.dir).length > 0) {
    throw invalidArgument(`${opts.dir} is not empty: the demo creates a fresh data folder (omit --dir for a temporary one)`);
  }
  const temp = opts.dir ? undefined : mkdtempSync(join(tmpdir(), 'aico-demo-'));
  const dir = opts.dir ?? join(temp!, 'data');
  // Without --keep the demo removes what it made: the temporary folder, or the given folder
  // (it did not exist, or was empty) and what the demo wrote into it.
  const existed = opts.dir !== undefined && existsSync(opts.dir);
  const remove = (): void => {
    if (opts.keep) return;
    if (temp) rmSync(temp, { recursive: true, force: true });
    else if (!existed) rmSync(dir, { recursive: true, force: true });
    else for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
  };
  try {
    await demoIn(dir, messages, days, opts.keep === true);
  } catch (e) {
    // A failed run leaves no 80 MB folder behind (unless asked to keep it).
    remove();
    throw e;
  }
  remove();
  out(opts.keep ? `\nkept ${dir}: try \`AICO_DATA_PASSWORD='${passwordShown()}' aico-data status --dir ${dir}\`` : `\n(data folder ${dir} removed; keep it with --keep)`);
}

/** The demo folder's password: AICO_DATA_PASSWORD (as every command), else AICO_DEMO_PASSWORD, else a fixed one. */
function demoPassword(): string {
  return process.env.AICO_DATA_PASSWORD || process.env.AICO_DEMO_PASSWORD || DEMO_PASSWORD;
}

/** How the kept-folder hint names the password (never printing one the user chose). */
function passwordShown(): string {
  return process.env.AICO_DATA_PASSWORD ? '<your AICO_DATA_PASSWORD>' : process.env.AICO_DEMO_PASSWORD ? '<AICO_DEMO_PASSWORD>' : DEMO_PASSWORD;
}

/** The demo's steps in `dir` (removed by the caller afterwards unless `keep`). */
async function demoIn(dir: string, messages: number, days: number, _keep: boolean): Promise<void> {
  const info = buildInfo();
  const steps: Step[] = [];
  const started = performance.now();
  out(`aico-data demo: SQLite ${info.sqliteVersion} (${info.libsqlCipher}), DuckDB ${info.duckdbVersion}, node ${process.version}`);
  out(`data folder: ${dir}\n`);

  const data = await timed(steps, 'open', () => openDataLayer({ dir, password: demoPassword() }), (d) => `new folder, Argon2id unlock, encrypted libSQL + RocksDB + DuckDB, core schemas; key id ${d.keyId}`);
  const untrack = track(data); // Ctrl-C closes it
  try {
    const tap = await tapBus(data);
    const { user } = await timed(steps, 'onboard', () => data.services.onboarding.onboardNewUser({ name: 'Ada Demo', nickname: 'Ada' }), (r) => `user ${r.user.name} (${r.user.id}) with preferences and a first memory, one transaction`);

    const ingested = await timed(steps, 'ingest', () => ingest(data, user.id, messages, days), (r) => `${fmt(r.messages)} messages in ${fmt(r.conversations)} conversations over ${days} days (repositories, unit of work, FTS5 index)`);
    const ingestStep = steps[steps.length - 1]!;
    ingestStep.detail += `, ${fmt(ingested.messages / (ingestStep.ms / 1000))} messages/s`;

    if (data.outbox) {
      await timed(steps, 'outbox', () => waitForOutbox(data), (r) => `${fmt(r.applied)} committed changes applied to DuckDB, Chroma, KV${data.bus ? ' and published on the bus' : ''} by the outbox dispatcher${r.dead ? `; ${r.dead} dead letters` : ''}`);
    }

    const mem = await timed(steps, 'remember', () => remember(data, user.id), (r) => `${r.stored} memories: ${r.note}`);
    const recalled = await timed(steps, 'recall', () => recall(data, user.id, mem.semantic), (r) => `${r.length} prompts, ${mem.semantic ? 'hybrid (vectors + FTS5, RRF)' : 'keyword (FTS5)'}`);
    for (const { prompt, hits } of recalled) {
      out(`    "${prompt}"`);
      for (const h of hits) out(`      ${h.score.toFixed(3)}  ${h.item.content}`);
    }

    if (data.analytics) {
      const analytics = data.analytics;
      await timed(steps, 'analytics ETL', () => analytics.sync(), (r) => {
        const copied = r.tables.reduce((n, t) => n + t.inserted + t.updated, 0);
        const held = analytics.status().tables.reduce((n, t) => n + t.rows, 0);
        return `${fmt(held)} rows in DuckDB (in memory), ${fmt(copied)} copied from libSQL by this sync${copied < held ? ' (the outbox dispatcher synced the rest as they were committed)' : ''}`;
      });
      const daily = await timed(steps, '30-day report', () => analytics.reports.dailyMetrics({ days: 30 }), (r) => `the seed's query (count, avg sentiment, approx_quantile p95 response time per day): ${r.length} days`);
      out(formatTable(daily.slice(0, 5).map((d) => ({ day: d.day, messages: d.messageCount, 'avg sentiment': d.avgSentiment, 'p95 response ms': Math.round(d.p95ResponseTimeMs ?? 0) }))).replace(/^/gm, '    '));
      await timed(steps, 'heatmap', () => analytics.reports.activityHeatmap({ days: 30 }), (r) => {
        const top = [...r.cells].sort((a, b) => b.messages - a.messages)[0];
        return top ? `busiest hour ${String(top.hour).padStart(2, '0')}:00 on ${['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][top.weekday]} (${fmt(top.messages)} messages)` : 'no activity';
      });
      await timed(steps, 'conversation lengths', () => analytics.reports.conversationLengths(), (r) => r.map((b) => `${b.minMessages}-${b.maxMessages}: ${fmt(b.conversations)}`).join(', '));
      await timed(steps, 'engagement trend', () => analytics.reports.engagementTrend({ weeks: 4 }), (r) => {
        const last = r[r.length - 1];
        return last ? `${r.length} user-weeks; latest week ${last.week}: ${fmt(last.messages)} messages, 4-week average ${fmt(last.messages4wAvg)}` : 'no weeks';
      });
      await timed(steps, 'sentiment trend', () => analytics.reports.sentimentTrend({ days: 30, windowDays: 7 }), (r) => {
        const last = [...r].sort((a, b) => a.day.localeCompare(b.day)).pop();
        return last ? `7-day moving average ${last.movingAvgSentiment.toFixed(3)} on ${last.day}` : 'no data';
      });

      // The cache: the report from KV (sealed RocksDB) instead of DuckDB on the next ask.
      const key = `report:daily:30:${user.id}`;
      const t0 = performance.now();
      data.kv.putJson('cache', key, daily, { ttlMs: 5 * 60_000 });
      const putMs = performance.now() - t0;
      const t1 = performance.now();
      const cached = data.kv.getJson<typeof daily>('cache', key);
      const getMs = performance.now() - t1;
      if (!cached || cached.length !== daily.length) throw new AicoDataError('INTERNAL', 'the cached report did not come back');
      const reportMs = steps.find((s) => s.step === '30-day report')!.ms;
      steps.push({ step: 'cache', ms: putMs + getMs, detail: `report cached in KV (TTL 5 min): put ${putMs.toFixed(2)} ms, get ${getMs.toFixed(3)} ms vs ${reportMs.toFixed(1)} ms from DuckDB` });
      out(`- cache: ${steps[steps.length - 1]!.detail}`);
    }
    data.kv.putJson('session', `context:${user.id}`, { topic: 'travel', recalled: recalled.flatMap((r) => r.hits.map((h) => h.item.id)) }, { ttlMs: 30 * 60_000 });

    await timed(
      steps,
      'point reads',
      async () => {
        const ids = data.sql.queryRawSync('SELECT id FROM messages ORDER BY created_at DESC LIMIT 10000').map((r) => r[0]!);
        let hits = 0;
        for (const id of ids) if (data.sql.queryOneSync('SELECT content FROM messages WHERE id = ?', [id])) hits++;
        return hits;
      },
      (hits) => `${fmt(hits)} messages read by id with the synchronous API`,
    );

    await data.memories.remember({ userId: user.id, type: 'semantic', content: CANARY, importance: 0.1 }).catch(async (e: unknown) => {
      if (!isAicoError(e, 'UNAVAILABLE')) throw e;
    });

    if (tap) {
      await waitForOutbox(data);
      await tap.stop();
      const total = [...tap.counts.values()].reduce((a, b) => a + b, 0);
      steps.push({ step: 'bus', ms: 0, detail: `${fmt(total)} change events: ${[...tap.counts].sort((a, b) => b[1] - a[1]).map(([t, n]) => `${t} ${fmt(n)}`).join(', ')}` });
      out(`- bus: ${steps[steps.length - 1]!.detail}`);
      const sample = tap.samples.get('data/memory/created/v1') ?? tap.samples.values().next().value;
      if (sample) out(`    e.g. ${JSON.stringify(sample)}`);
    }
  } finally {
    untrack();
    await data.close();
  }

  const files = filesBelow(dir);
  const leaks = files.filter((f) => readFileSync(f).includes(CANARY));
  steps.push({ step: 'plaintext check', ms: 0, detail: `canary memory found in ${leaks.length} of ${files.length} files (libSQL, RocksDB, Chroma, snapshot)` });
  out(`- plaintext check: ${steps[steps.length - 1]!.detail}${leaks.length ? `: ${leaks.join(', ')}` : ''}`);

  // Times depend on the machine and what else runs on it: say both next to them.
  out(`\nsummary (${formatDuration(performance.now() - started)} in all; ${cpus().length} x ${cpus()[0]?.model.trim() ?? 'cpu'}, load average ${loadavg()[0]!.toFixed(2)} at the end):`);
  out(formatTable(steps.map((s) => ({ step: s.step, time: formatDuration(s.ms), what: s.detail })), ['step', 'time', 'what'], 110));
  out('\non disk:');
  out(formatTable(storeFiles(dir).map((f) => ({ store: f.store, files: f.files, size: formatBytes(f.bytes) }))));
  if (leaks.length > 0) throw new AicoDataError('INTERNAL', `plaintext found in ${leaks.length} file(s) of the data folder`);
}
