/**
 * The demo: opens a fresh encrypted data folder and exercises each layer that exists,
 * printing what it did and how long it took.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataLayer } from '../data-layer.js';
import { createConversation, createMemory, createMessage } from '../domain/index.js';
import { buildInfo } from '../native/index.js';

/** Every regular file below `dir`. */
function filesBelow(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    const st = statSync(p);
    return st.isDirectory() ? filesBelow(p) : st.isFile() ? [p] : [];
  });
}

export interface DemoOptions {
  dir?: string;
}

function ms(t0: bigint): string {
  return `${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1)} ms`;
}

/** Deterministic pseudo-random numbers (mulberry32) so every run ingests the same history. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function runDemo(opts: DemoOptions = {}): Promise<void> {
  const dir = opts.dir ?? join(mkdtempSync(join(tmpdir(), 'aico-demo-')), 'data');
  const info = buildInfo();
  console.log(`aico-data demo — SQLite ${info.sqliteVersion} (${info.libsqlCipher}), DuckDB ${info.duckdbVersion}`);
  console.log(`data folder: ${dir}`);

  let t0 = process.hrtime.bigint();
  const data = await openDataLayer({ dir, password: process.env.AICO_DEMO_PASSWORD ?? 'demo password: change me' });
  console.log(`opened (Argon2id unlock + encrypted libSQL) in ${ms(t0)}; key id ${data.keyId}`);
  try {
    const rand = rng(42);
    t0 = process.hrtime.bigint();
    const { user } = await data.services.onboarding.onboardNewUser({ name: 'Demo User' });
    console.log(`onboarded ${user.name} (${user.id}) in ${ms(t0)}`);

    // 50,000 messages over the last 90 days, generated deterministically, through the repositories.
    const N = 50_000;
    const topics = ['music', 'work', 'family', 'travel', 'cooking', 'sleep'];
    const now = Date.now();
    const start = now - 90 * 86_400_000;
    t0 = process.hrtime.bigint();
    let conversation = createConversation({ userId: user.id, createdAt: new Date(start) });
    for (let i = 0; i < N; i += 2000) {
      await data.unitOfWork(async (tx) => {
        for (let k = i; k < Math.min(N, i + 2000); k++) {
          const at = new Date(start + Math.floor((k / N) * 90 * 86_400_000));
          if (k % 40 === 0) {
            conversation = createConversation({ userId: user.id, createdAt: at });
            await tx.conversations.save(conversation);
          }
          const role = k % 2 === 0 ? 'user' : 'assistant';
          await tx.conversations.saveMessage(
            createMessage({
              conversationId: conversation.id,
              userId: user.id,
              role,
              content: `message ${k} about ${topics[k % topics.length]}`,
              createdAt: at,
              sentimentScore: Math.round((rand() * 2 - 1) * 1000) / 1000,
              responseTimeMs: role === 'assistant' ? Math.round(200 + rand() * 1800) : null,
            }),
          );
        }
      });
    }
    console.log(`ingested ${N.toLocaleString('en-US')} messages over 90 days (repositories, unit of work) in ${ms(t0)}`);

    for (const [content, importance] of [
      ['Prefers jazz while working late', 0.8],
      ['Sister is called Mara and lives in Lisbon', 0.9],
      ['Sleeps badly before travel', 0.6],
    ] as const) {
      await data.repos.memories.save(createMemory({ userId: user.id, type: 'semantic', content, importance }));
    }
    t0 = process.hrtime.bigint();
    const recalled = await data.repos.memories.getByContext('jazz while working', { userId: user.id, limit: 3 });
    console.log(`recall "jazz while working" in ${ms(t0)}: ${recalled.map((r) => r.item.content).join(' | ') || '(nothing)'}`);

    if (data.analytics) {
      t0 = process.hrtime.bigint();
      const synced = await data.analytics.sync();
      const rows = synced.tables.reduce((n, t) => n + t.inserted, 0);
      console.log(`analytics ETL libSQL -> DuckDB: ${rows.toLocaleString('en-US')} rows in ${ms(t0)}`);
      t0 = process.hrtime.bigint();
      const daily = await data.analytics.reports.dailyMetrics({ days: 30 });
      console.log(`30-day report (DuckDB, seed query) in ${ms(t0)}; newest days:`);
      for (const d of daily.slice(0, 5)) {
        console.log(`  ${d.day}: ${d.messageCount} messages, mean sentiment ${d.avgSentiment?.toFixed(3)}, p95 response ${Math.round(d.p95ResponseTimeMs ?? 0)} ms`);
      }
    }

    t0 = process.hrtime.bigint();
    let hits = 0;
    const ids = data.sql.queryRawSync('SELECT id FROM messages LIMIT 10000').map((r) => r[0]);
    for (const id of ids) if (data.sql.queryOneSync('SELECT content FROM messages WHERE id = ?', [id!])) hits++;
    console.log(`${ids.length.toLocaleString('en-US')} point reads (sync API) in ${ms(t0)} (${hits} hits)`);

    const canary = 'DEMO-CANARY-do-not-leak';
    await data.repos.memories.save(createMemory({ userId: user.id, type: 'semantic', content: canary, importance: 0.5 }));
    await data.close();
    const files = filesBelow(dir);
    const leaks = files.filter((f) => readFileSync(f).includes(canary));
    console.log(`plaintext check: canary found in ${leaks.length} of ${files.length} files in the data folder`);
  } finally {
    await data.close();
  }
}
