/**
 * bench/repositories: the cost of the repository path (entity validation, DAL, row mapping)
 * over raw `data.sql` calls on the same encrypted store, with a hand-written better-sqlite3
 * equivalent (plaintext, synchronous, same core schema incl. FTS triggers) as the peer.
 *
 *   npx tsx bench/repositories/index.ts        (AICO_BENCH_MS=3000 for longer runs)
 *
 * Goal (issue 4): repository save and getByUser at most 1.2x the time of raw `sql` calls.
 */
import { requirePeer } from '../peers.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConversation, createMessage, createUser, newId } from '../../src/domain/index.js';
import { openDataLayer } from '../../src/index.js';
import { createLibsqlRepositories } from '../../src/repositories/index.js';
import { defaultRegistry, openSchemas } from '../../src/schema/index.js';
import { measure, report, type CaseResult } from '../lib/measure.js';
import { emit, usPerOp } from '../lib/results.js';

const MS = Number(process.env.AICO_BENCH_MS ?? 1500);
/** Each case runs this many times, interleaved with its rivals; the best run counts (least disturbed by the machine). */
const ROUNDS = Number(process.env.AICO_BENCH_ROUNDS ?? 3);
const PRELOAD = 10_000;
const PAGE = 50;
const CONTENT = 'I walked the dog along the river this morning and it started to rain halfway';

const INSERT =
  'INSERT INTO messages (id, conversation_id, user_id, role, content, created_at, sentiment, response_time_ms, model, prompt_tokens, completion_tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
const PAGE_SQL =
  'SELECT id, conversation_id, user_id, role, content, created_at, sentiment, response_time_ms, model, prompt_tokens, completion_tokens ' +
  'FROM messages WHERE user_id = ? AND deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT ?';

type Case = readonly [name: string, op: () => unknown];

/** Runs the cases round-robin (order reversed every other round) and keeps each one's best run. */
async function bestOf(cases: readonly Case[]): Promise<CaseResult[]> {
  const best = new Map<string, CaseResult>();
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? cases : [...cases].reverse();
    for (const [name, op] of order) {
      const r = await measure(name, op, MS);
      const prev = best.get(name);
      if (!prev || r.opsPerSec > prev.opsPerSec) best.set(name, r);
    }
  }
  return cases.map(([name]) => best.get(name)!);
}

function ratioLine(what: string, repo: CaseResult, raw: CaseResult): void {
  const r = raw.opsPerSec / repo.opsPerSec;
  const p50 = repo.p50us / raw.p50us;
  const verdict = r <= 1.2 ? 'met' : 'NOT met';
  console.log(`\n${what}: the repository path takes ${r.toFixed(2)}x the time of raw sql by throughput, ${p50.toFixed(2)}x by p50 latency (goal <= 1.20x) -> ${verdict}`);
}

/** Report rows: the repository path against raw sql (goal <= 1.2x the time) and against better-sqlite3. */
function emitRows(what: string, results: CaseResult[]): void {
  const [repo, raw, better] = results;
  for (const peer of [raw, better]) {
    if (!repo || !peer) continue;
    emit({
      suite: 'repositories',
      workload: what,
      unit: 'µs/op',
      better: 'lower',
      aico: { name: repo.name, value: usPerOp(repo.opsPerSec) },
      peer: { name: peer.name, value: usPerOp(peer.opsPerSec) },
      ...(peer === raw ? { goal: { on: 'ratio' as const, max: 1.2 } } : {}),
    });
  }
}

async function main() {
  const root = mkdtempSync(join(tmpdir(), 'aico-bench-repos-'));
  const data = await openDataLayer({ dir: join(root, 'data'), password: 'bench password' });
  try {
    if (!(data as unknown as { schemas?: unknown }).schemas) await openSchemas(data.sql);
    const { repos, unitOfWork } = createLibsqlRepositories(data.sql);
    const user = createUser({ name: 'Bench User' });
    const chat = createConversation({ userId: user.id });
    await repos.users.save(user);
    await repos.conversations.save(chat);
    await unitOfWork(async (tx) => {
      for (let i = 0; i < PRELOAD; i++) {
        await tx.conversations.saveMessage(createMessage({ conversationId: chat.id, userId: user.id, role: 'user', content: `${CONTENT} ${i}` }));
      }
    });

    // better-sqlite3 peer: same core schema (statements taken from the registry), same rows.
    let peer: { save: () => unknown; page: () => unknown; close: () => void } | null = null;
    try {
      const Better = requirePeer('better-sqlite3');
      const db = new Better(join(root, 'better.db'));
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      for (const c of defaultRegistry.list('core')) for (const v of c.versions) for (const s of v.up) db.exec(s);
      db.prepare('INSERT INTO users (id, name) VALUES (?, ?)').run(user.id, user.name);
      db.prepare('INSERT INTO conversations (id, user_id) VALUES (?, ?)').run(chat.id, user.id);
      const ins = db.prepare(INSERT);
      const fill = db.transaction(() => {
        for (let i = 0; i < PRELOAD; i++) ins.run(newId(), chat.id, user.id, 'user', `${CONTENT} ${i}`, new Date().toISOString(), null, null, null, null, null);
      });
      fill();
      const page = db.prepare(PAGE_SQL);
      peer = {
        save: () => ins.run(newId(), chat.id, user.id, 'user', CONTENT, new Date().toISOString(), null, null, null, null, null),
        page: () => page.all(user.id, PAGE + 1),
        close: () => db.close(),
      };
    } catch (e) {
      console.log(`better-sqlite3 unavailable (run \`npm run bench:peers\`): ${(e as Error).message}`);
    }

    console.log(
      `# bench/repositories (best of ${ROUNDS} interleaved runs of ${MS} ms per case, ${PRELOAD.toLocaleString('en-US')} messages preloaded, page size ${PAGE})`,
    );

    const saveCases: Case[] = [
      [
        'repository: conversations.saveMessage(createMessage(...))',
        () => repos.conversations.saveMessage(createMessage({ conversationId: chat.id, userId: user.id, role: 'user', content: CONTENT })),
      ],
      [
        'raw: data.sql.execute(INSERT ...)',
        () => data.sql.execute(INSERT, [newId(), chat.id, user.id, 'user', CONTENT, new Date().toISOString(), null, null, null, null, null]),
      ],
    ];
    if (peer) saveCases.push(['better-sqlite3 12 (plaintext, sync): stmt.run', peer.save]);
    const save = await bestOf(saveCases);
    report('save one message', save, 'raw: data.sql.execute(INSERT ...)');
    ratioLine('save', save[0]!, save[1]!);
    emitRows('save one message', save);

    const readCases: Case[] = [
      ['repository: conversations.getByUser(user, { limit: 50 })', () => repos.conversations.getByUser(user.id, { limit: PAGE })],
      ['raw: data.sql.query(SELECT ... LIMIT 51)', () => data.sql.query(PAGE_SQL, [user.id, PAGE + 1])],
    ];
    if (peer) readCases.push(['better-sqlite3 12 (plaintext, sync): stmt.all', peer.page]);
    const read = await bestOf(readCases);
    report('read the newest page of 50 messages', read, 'raw: data.sql.query(SELECT ... LIMIT 51)');
    ratioLine('getByUser', read[0]!, read[1]!);
    emitRows('read the newest page of 50 messages', read);
    peer?.close();
  } finally {
    await data.close();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
