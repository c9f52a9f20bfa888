/**
 * The demo: opens a fresh encrypted data folder and exercises each layer that exists,
 * printing what it did and how long it took.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataLayer } from '../data-layer.js';
import { buildInfo } from '../native/index.js';

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
    await data.sql.exec(`CREATE TABLE IF NOT EXISTS demo_messages(
      id INTEGER PRIMARY KEY, day INTEGER NOT NULL, role TEXT NOT NULL, content TEXT NOT NULL,
      sentiment REAL NOT NULL, response_time_ms INTEGER)`);
    const rand = rng(42);
    const N = 50_000;
    t0 = process.hrtime.bigint();
    const rows = Array.from({ length: N }, (_, i) => {
      const role = i % 2 === 0 ? 'user' : 'assistant';
      return {
        sql: 'INSERT INTO demo_messages(day, role, content, sentiment, response_time_ms) VALUES (?, ?, ?, ?, ?)',
        params: [Math.floor((i / N) * 90), role, `message ${i} about ${['music', 'work', 'family', 'travel'][i % 4]}`, rand() * 2 - 1, role === 'assistant' ? Math.round(200 + rand() * 1800) : null],
      };
    });
    for (let i = 0; i < rows.length; i += 5000) await data.sql.batch(rows.slice(i, i + 5000));
    console.log(`ingested ${N.toLocaleString('en-US')} messages over 90 days in ${ms(t0)}`);

    t0 = process.hrtime.bigint();
    const daily = await data.sql.query<{ day: number; n: number; sentiment: number }>(
      'SELECT day, count(*) AS n, round(avg(sentiment), 3) AS sentiment FROM demo_messages WHERE day >= 60 GROUP BY day ORDER BY day DESC LIMIT 5',
    );
    console.log(`last days (30-day window, SQL) in ${ms(t0)}:`);
    for (const d of daily) console.log(`  day ${d.day}: ${d.n} messages, mean sentiment ${d.sentiment}`);

    t0 = process.hrtime.bigint();
    let hits = 0;
    for (let i = 1; i <= 10_000; i++) if (data.sql.queryOneSync('SELECT id FROM demo_messages WHERE id = ?', [i])) hits++;
    console.log(`10,000 point reads (sync API) in ${ms(t0)} (${hits} hits)`);

    const canary = 'DEMO-CANARY-do-not-leak';
    await data.sql.execute('INSERT INTO demo_messages(day, role, content, sentiment) VALUES (0, ?, ?, 0)', ['user', canary]);
    await data.close();
    const leaks = readdirSync(dir).filter((f) => readFileSync(join(dir, f)).includes(canary));
    console.log(`plaintext check: canary found in ${leaks.length} of ${readdirSync(dir).length} files in the data folder`);
  } finally {
    await data.close();
  }
}
