/**
 * Part 5, concurrency: 8 worker threads in 2 processes (4 each), every thread with its own
 * DataLayer on one data folder, mix transactional writes (async and sync), repository writes,
 * snapshot reads and KV operations for a fixed time. Then: no BUSY surfaced before the
 * configured busy timeout, no deadlock (every thread reports within the deadline + grace), no
 * reader ever saw a half-applied transaction, and the totals add up. RocksDB admits one writer:
 * the first opener writes KV, every other thread gets a read-only KV store.
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createConversation } from '../../src/domain/index.js';
import { openDataLayer } from '../../src/index.js';
import { tempDir } from '../helpers/folders.js';
import { startChild } from './lib/child.js';
import { BASE_SEED, scale } from './lib/config.js';
import { report } from './lib/results.js';
import type { WorkerTally } from './fixtures/conc-worker.js';

const CHILD = fileURLToPath(new URL('./fixtures/conc-process.ts', import.meta.url));
const DURATION_MS = scale(8_000, 60_000);
const BUSY_TIMEOUT_MS = 5_000;
const PROCESSES = 2;
const WORKERS_PER_PROCESS = 4;
const PASSWORD = 'concurrency test password';

const t = tempDir('aico-rel-conc-');
afterAll(() => t.cleanup());

type Outcome = { pid?: number; deadlock?: boolean; results?: Array<WorkerTally | { id: string; crashed: string }> };

describe('concurrency: 8 worker threads in 2 processes on one folder', () => {
  it(`${DURATION_MS / 1000} s of mixed reads and writes: no early BUSY, no deadlock, totals add up`, async () => {
    const dir = join(t.dir, 'data');
    const setup = await openDataLayer({ dir, password: PASSWORD, analytics: false, kv: false });
    await setup.sql.exec('CREATE TABLE conc_events (id INTEGER PRIMARY KEY, worker TEXT NOT NULL, n INTEGER NOT NULL); CREATE TABLE conc_counter (id INTEGER PRIMARY KEY, total INTEGER NOT NULL); INSERT INTO conc_counter VALUES (1, 0);');
    const { user } = await setup.services.onboarding.onboardNewUser({ name: 'concurrency' });
    const conversation = createConversation({ userId: user.id });
    await setup.repos.conversations.save(conversation);
    await setup.close();

    const children = Array.from({ length: PROCESSES }, (_, p) =>
      startChild(CHILD, [dir, PASSWORD, String(p), String(WORKERS_PER_PROCESS), String(DURATION_MS), String(BUSY_TIMEOUT_MS), user.id, conversation.id, String(BASE_SEED + p * 100)]),
    );
    const outcomes: Outcome[] = [];
    for (const c of children) {
      const { code } = await c.exited;
      const line = c.lines.at(-1);
      const parsed = line ? (JSON.parse(line) as Outcome) : {};
      expect(code, `child exit; stderr: ${c.stderr().slice(-800)}`).toBe(0);
      outcomes.push(parsed);
    }
    expect(outcomes.filter((o) => o.deadlock)).toEqual([]);
    const all = outcomes.flatMap((o) => o.results ?? []);
    const crashed = all.filter((r): r is { id: string; crashed: string } => 'crashed' in r);
    expect(crashed).toEqual([]);
    const tallies = all as WorkerTally[];
    expect(tallies).toHaveLength(PROCESSES * WORKERS_PER_PROCESS);

    const check = await openDataLayer({ dir, password: PASSWORD, create: false, analytics: false, kv: { readOnly: true } });
    try {
      const events = await check.sql.queryOne<{ n: number }>('SELECT count(*) AS n FROM conc_events');
      const counter = await check.sql.queryOne<{ total: number }>('SELECT total FROM conc_counter WHERE id = 1');
      const perWorker = await check.sql.query<{ worker: string; n: number }>('SELECT worker, count(*) AS n FROM conc_events GROUP BY worker');
      const messages = await check.sql.queryOne<{ n: number }>('SELECT count(*) AS n FROM messages WHERE conversation_id = ?', [conversation.id]);
      const committed = tallies.reduce((s, x) => s + x.committed, 0);
      const saved = tallies.reduce((s, x) => s + x.messages, 0);
      const kvWriters = tallies.filter((x) => x.kvWriter);
      const kvFound = kvWriters.length === 1 ? [...check.kv.keysSync('cache', { prefix: `${kvWriters[0]!.id}-` })].length : -1;
      const errors: Record<string, number> = {};
      for (const x of tallies) for (const [k, v] of Object.entries(x.errors)) errors[k] = (errors[k] ?? 0) + v;
      const figures = {
        'committed transactions': committed,
        'rows found': events!.n,
        'counter': counter!.total,
        'messages saved/found': `${saved}/${messages!.n}`,
        'snapshot reads': tallies.reduce((s, x) => s + x.reads, 0),
        'kv writes/found': `${kvWriters.reduce((s, x) => s + x.kvWrites, 0)}/${kvFound}`,
        'kv reads (read-only threads)': tallies.reduce((s, x) => s + x.kvReads, 0),
        'BUSY (early)': `${tallies.reduce((s, x) => s + x.busy, 0)} (${tallies.reduce((s, x) => s + x.busyEarly, 0)})`,
        'slowest op ms': Math.max(...tallies.map((x) => x.maxOpMs)),
      };
      const problems: string[] = [];
      if (events!.n !== committed) problems.push(`conc_events has ${events!.n} rows, workers committed ${committed}`);
      if (counter!.total !== committed) problems.push(`counter ${counter!.total} != committed ${committed}`);
      for (const x of tallies) {
        const rows = perWorker.find((p) => p.worker === x.id)?.n ?? 0;
        if (rows !== x.committed) problems.push(`${x.id}: ${rows} rows, committed ${x.committed}`);
      }
      if (messages!.n !== saved) problems.push(`messages: ${messages!.n} found, ${saved} saved`);
      if (kvWriters.length !== 1) problems.push(`${kvWriters.length} threads got a writable KV store (RocksDB admits one)`);
      else if (kvFound !== kvWriters[0]!.kvWrites) problems.push(`kv: ${kvFound} keys found, ${kvWriters[0]!.kvWrites} written`);
      const violations = tallies.reduce((s, x) => s + x.invariantViolations, 0);
      if (violations > 0) problems.push(`${violations} reads saw a half-applied transaction`);
      const early = tallies.reduce((s, x) => s + x.busyEarly, 0);
      if (early > 0) problems.push(`${early} BUSY errors surfaced before the ${BUSY_TIMEOUT_MS} ms timeout`);
      const other = Object.entries(errors).filter(([k]) => k !== 'BUSY');
      if (other.length > 0) problems.push(`errors other than BUSY: ${JSON.stringify(Object.fromEntries(other))}`);
      const integrity = check.sql.integrityCheck(true);
      if (integrity.length > 0) problems.push(`integrity_check: ${integrity.join('; ')}`);
      report({
        part: '5 concurrency',
        tried: `seconds of 8 worker threads in 2 processes on one folder (busy timeout ${BUSY_TIMEOUT_MS} ms)`,
        count: DURATION_MS / 1000,
        failures: problems.length,
        figures,
        ...(problems.length ? { notes: problems.join('; ') } : {}),
      });
      expect(problems).toEqual([]);
      expect(committed).toBeGreaterThan(0);
    } finally {
      await check.close();
    }
  }, DURATION_MS + 180_000);
});
