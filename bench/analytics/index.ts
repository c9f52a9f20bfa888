/**
 * bench/analytics: aico-data's DuckDB analytics side by side with its peers in one run.
 *
 *  1. ETL libSQL -> DuckDB, rows/s: `analytics.sync()` (Rust: SQLite statement -> DuckDB data
 *     chunks) against `@duckdb/node-api`'s appender fed from JavaScript with the same rows read
 *     from the same encrypted libSQL store.
 *  2. The seed's daily report over all messages: `analytics.reports.dailyMetrics()` against
 *     the same query run directly in `@duckdb/node-api` on the same data, and against the
 *     same numbers computed in SQLite (the aico-data libSQL store itself).
 *  3. Incremental sync, sealed snapshot write, restore versus full rebuild.
 *
 *   npx tsx bench/analytics/index.ts            (AICO_BENCH_MESSAGES=1000000 by default)
 */
import { DuckDBInstance, DuckDBTimestampValue, type DuckDBAppender } from '@duckdb/node-api';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFolder, type NativeFolder } from '../../src/native/index.js';
import { openAnalyticsStore } from '../../src/stores/analytics/index.js';
import { SqlStore } from '../../src/stores/sql/index.js';
import { measure, report } from '../lib/measure.js';
import { emit, usPerOp } from '../lib/results.js';

const N = Number(process.env.AICO_BENCH_MESSAGES ?? 1_000_000);
const MS = Number(process.env.AICO_BENCH_MS ?? 3000);
const DAYS = 30;
const NOW = Date.UTC(2025, 2, 1);
const MEMORY = { memoryLimitMb: 2048, threads: 2 };

const SCHEMA = `
CREATE TABLE conversations (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, title TEXT, created_at TEXT, updated_at TEXT, deleted_at TEXT);
CREATE TABLE messages (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, conversation_id TEXT NOT NULL, user_id TEXT NOT NULL,
  role TEXT NOT NULL, content TEXT NOT NULL, created_at TEXT NOT NULL, sentiment REAL, response_time_ms INTEGER,
  model TEXT, prompt_tokens INTEGER, completion_tokens INTEGER, deleted_at TEXT);
CREATE TABLE memories (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, user_id TEXT NOT NULL, type TEXT NOT NULL, content TEXT NOT NULL,
  importance REAL, created_at TEXT, updated_at TEXT, deleted_at TEXT);`;

/** The columns both ETL paths copy, in the analytics table's order (core mapping of `messages`). */
const COLUMNS = 'id, conversation_id, user_id, role, content, sentiment, response_time_ms, model, prompt_tokens, completion_tokens, created_at';
const DUCK_TABLE = `CREATE TABLE messages (id VARCHAR, conversation_id VARCHAR, user_id VARCHAR, role VARCHAR, content VARCHAR,
  sentiment DOUBLE, response_time_ms BIGINT, model VARCHAR, prompt_tokens BIGINT, completion_tokens BIGINT, created_at TIMESTAMP)`;
const SEED_QUERY = `SELECT strftime(date_trunc('day', created_at), '%Y-%m-%d') AS day, count(*) AS message_count,
  avg(sentiment) AS avg_sentiment, approx_quantile(response_time_ms, 0.95) AS p95_response_time_ms
  FROM messages WHERE created_at > TIMESTAMP '2025-03-01' - INTERVAL ${DAYS} DAY GROUP BY 1 ORDER BY 1 DESC`;
/** The same numbers in SQLite: it has no percentile function, so p95 is the nearest rank via a window. */
const SQLITE_QUERY = `WITH m AS (
  SELECT substr(created_at, 1, 10) AS day, sentiment, response_time_ms,
         row_number() OVER (PARTITION BY substr(created_at, 1, 10) ORDER BY response_time_ms) AS rn,
         count(*) OVER (PARTITION BY substr(created_at, 1, 10)) AS cnt
  FROM messages WHERE created_at > ? AND deleted_at IS NULL)
SELECT day, count(*) AS message_count, avg(sentiment) AS avg_sentiment,
       min(CASE WHEN rn >= 0.95 * cnt THEN response_time_ms END) AS p95_response_time_ms
FROM m GROUP BY day ORDER BY day DESC`;

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const secs = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;

async function fill(sql: SqlStore, n: number, from = 0): Promise<void> {
  const CHUNK = 20_000;
  for (let start = from; start < from + n; start += CHUNK) {
    const stmts = [];
    for (let i = start; i < Math.min(from + n, start + CHUNK); i++) {
      const at = new Date(NOW - 1 - ((i * 7_919_113) % (DAYS * 86_400_000))).toISOString();
      stmts.push({
        sql: 'INSERT INTO messages (id, conversation_id, user_id, role, content, created_at, sentiment, response_time_ms, model, prompt_tokens, completion_tokens) VALUES (?,?,?,?,?,?,?,?,?,?,?)',
        params: [`m${i}`, `c${i % 5000}`, `u${i % 7}`, i % 2 ? 'assistant' : 'user', `message ${i}: how was your day, did the walk help?`, at, ((i * 37) % 201) / 100 - 1, (i * 131) % 5000, 'llama', 20 + (i % 50), 80 + (i % 300)],
      });
    }
    await sql.batch(stmts);
  }
}

/** The peer ETL: rows read from libSQL in JavaScript, appended one value at a time. */
async function peerEtl(sql: SqlStore, app: DuckDBAppender): Promise<number> {
  const PAGE = 50_000;
  const text = (v: unknown) => (v === null ? app.appendNull() : app.appendVarchar(v as string));
  const real = (v: unknown) => (v === null ? app.appendNull() : app.appendDouble(v as number));
  const int = (v: unknown) => (v === null ? app.appendNull() : app.appendBigInt(BigInt(v as number)));
  let last = 0;
  let rows = 0;
  for (;;) {
    const page = await sql.queryRaw(`SELECT seq, ${COLUMNS} FROM messages WHERE seq > ? AND deleted_at IS NULL ORDER BY seq LIMIT ${PAGE}`, [last]);
    if (page.length === 0) break;
    for (const r of page) {
      text(r[1]), text(r[2]), text(r[3]), text(r[4]), text(r[5]), real(r[6]), int(r[7]), text(r[8]), int(r[9]), int(r[10]);
      app.appendTimestamp(new DuckDBTimestampValue(BigInt(Date.parse(r[11] as string)) * 1000n));
      app.endRow();
    }
    rows += page.length;
    last = page[page.length - 1]![0] as number;
  }
  app.flushSync();
  return rows;
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'aico-bench-analytics-'));
  try {
    const folder = (await openFolder(join(root, 'data'), 'bench password', true)) as NativeFolder;
    const nativeSql = folder.openSql();
    const sql = new SqlStore(nativeSql);
    await sql.exec(SCHEMA);
    // Install change tracking first (as a running data layer has it), then load the history.
    const tracker = await openAnalyticsStore(folder, nativeSql, { ...MEMORY, snapshots: false });
    await tracker.sync();
    await tracker.close();
    let t0 = process.hrtime.bigint();
    await fill(sql, N);
    console.log(`# bench/analytics: ${fmt(N)} messages over ${DAYS} days (encrypted libSQL, change-tracking triggers on)`);
    console.log(`setup: inserted ${fmt(N)} messages into libSQL in ${secs(t0).toFixed(1)} s (${fmt(N / secs(t0))} rows/s)`);

    // 1. ETL
    const etl: { name: string; rowsPerSec: number; s: number }[] = [];
    for (let run = 0; run < 3; run++) {
      const store = await openAnalyticsStore(folder, nativeSql, { ...MEMORY, snapshots: false, installTracking: false });
      t0 = process.hrtime.bigint();
      const r = await store.sync();
      const s = secs(t0);
      const rows = r.tables.reduce((a, t) => a + t.inserted, 0);
      etl.push({ name: 'aico-data sync (Rust)', rowsPerSec: rows / s, s });
      await store.close();
    }
    for (let run = 0; run < 3; run++) {
      const inst = await DuckDBInstance.create(':memory:', { threads: '2', memory_limit: '2GB' });
      const conn = await inst.connect();
      await conn.run(DUCK_TABLE);
      const app = await conn.createAppender('messages');
      t0 = process.hrtime.bigint();
      const rows = await peerEtl(sql, app);
      const s = secs(t0);
      app.closeSync();
      etl.push({ name: '@duckdb/node-api appender fed from JS', rowsPerSec: rows / s, s });
      conn.closeSync();
      inst.closeSync();
    }
    const best = (name: string) => Math.max(...etl.filter((e) => e.name === name).map((e) => e.rowsPerSec));
    const ours = best('aico-data sync (Rust)');
    const peer = best('@duckdb/node-api appender fed from JS');
    console.log('\n### ETL libSQL -> DuckDB, full copy of messages (best of 3)');
    console.log('| implementation | rows/s | ratio vs node-api |');
    console.log('|---|---:|---:|');
    console.log(`| aico-data sync (Rust) | ${fmt(ours)} | ${(ours / peer).toFixed(2)}x |`);
    console.log(`| @duckdb/node-api appender fed from JS | ${fmt(peer)} | 1.00x |`);
    emit({
      suite: 'analytics',
      workload: `ETL libSQL -> DuckDB, ${fmt(N)} messages (best of 3)`,
      unit: 'rows/s',
      better: 'higher',
      aico: { name: 'aico-data sync (Rust)', value: ours },
      peer: { name: '@duckdb/node-api appender fed from JS', value: peer },
      goal: { on: 'ratio', min: 3 },
    });

    // 2. The seed's daily report
    const analytics = await openAnalyticsStore(folder, nativeSql, MEMORY);
    await analytics.sync();
    const inst = await DuckDBInstance.create(':memory:', { threads: '2', memory_limit: '2GB' });
    const conn = await inst.connect();
    await conn.run(DUCK_TABLE);
    const app = await conn.createAppender('messages');
    await peerEtl(sql, app);
    app.closeSync();
    const ourDays = await analytics.reports.dailyMetrics({ days: DAYS, nowMs: NOW });
    const peerDays = (await conn.runAndReadAll(SEED_QUERY)).getRowObjects();
    if (ourDays.length !== peerDays.length || ourDays[0]!.messageCount !== Number(peerDays[0]!.message_count)) {
      throw new Error(`the two engines disagree: ${JSON.stringify(ourDays[0])} vs ${JSON.stringify(peerDays[0], (_, v) => (typeof v === 'bigint' ? Number(v) : v))}`);
    }
    const since = new Date(NOW - DAYS * 86_400_000).toISOString();
    const results = [
      await measure('aico-data reports.dailyMetrics', () => analytics.reports.dailyMetrics({ days: DAYS, nowMs: NOW }), MS),
      await measure('@duckdb/node-api same query', () => conn.runAndReadAll(SEED_QUERY), MS),
      await measure('SQLite (aico-data libSQL) same numbers', () => sql.query(SQLITE_QUERY, [since]), MS, 0),
    ];
    report(`Daily report over ${fmt(N)} messages (the seed's query)`, results, '@duckdb/node-api same query');
    for (const peerResult of results.slice(1)) {
      emit({
        suite: 'analytics',
        workload: `daily report over ${fmt(N)} messages (the seed's query)`,
        unit: 'µs/op',
        better: 'lower',
        aico: { name: results[0]!.name, value: usPerOp(results[0]!.opsPerSec) },
        peer: { name: peerResult.name, value: usPerOp(peerResult.opsPerSec) },
        ...(peerResult === results[1] ? { goal: { on: 'ratio' as const, max: 1.1 } } : {}),
      });
    }
    conn.closeSync();
    inst.closeSync();

    // 3. Incremental sync, snapshot, restore
    await fill(sql, 10_000, N);
    await sql.exec(`UPDATE messages SET sentiment = 0 WHERE seq % 1000 = 0; DELETE FROM messages WHERE seq % 1000 = 1`);
    t0 = process.hrtime.bigint();
    const inc = await analytics.sync();
    const m = inc.tables.find((t) => t.name === 'messages')!;
    console.log(`\nincremental sync: +${fmt(m.inserted)} ~${fmt(m.updated)} -${fmt(m.deleted)} rows in ${(secs(t0) * 1000).toFixed(0)} ms`);
    const snap = await analytics.snapshot();
    console.log(`sealed snapshot: ${fmt(snap.rows)} rows, ${(snap.bytes / 1048576).toFixed(1)} MiB in ${snap.ms.toFixed(0)} ms`);
    await analytics.close();
    t0 = process.hrtime.bigint();
    const restored = await openAnalyticsStore(folder, nativeSql, MEMORY);
    const openedS = secs(t0);
    const first = await restored.sync();
    const restoreS = secs(t0);
    const info = restored.status().restored;
    await restored.close();
    t0 = process.hrtime.bigint();
    const rebuilt = await openAnalyticsStore(folder, nativeSql, { ...MEMORY, snapshots: false });
    await rebuilt.sync();
    const rebuildS = secs(t0);
    await rebuilt.close();
    const full = first.tables.some((t) => t.full);
    console.log(
      `reopen: restore ${info?.ms.toFixed(0)} ms (open ${(openedS * 1000).toFixed(0)} ms) + catch-up sync = ${(restoreS * 1000).toFixed(0)} ms` +
        `${full ? ' (rebuilt!)' : ''} vs full rebuild ${(rebuildS * 1000).toFixed(0)} ms (${(rebuildS / restoreS).toFixed(1)}x)`,
    );

    nativeSql.close();
    folder.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
