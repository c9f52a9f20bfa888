/**
 * Part 1, crash safety: a child process writes to every store (libSQL through the repositories
 * and a unit of work, RocksDB values and queue, DuckDB ETL and snapshots, Chroma records) and
 * is SIGKILLed at a random moment, also in the middle of a plugin migration, an ETL sync, a
 * password change or a backup. After each kill the folder must open, pass `PRAGMA
 * integrity_check`, and hold every write the child reported as committed; the derived
 * analytics store must converge to libSQL.
 *
 * Known gap (Chroma 1.0, reported): a kill while the server persists an HNSW segment can leave
 * files on which the server segfaults at every load, so the vector store stays `UNAVAILABLE`
 * (even `repair()` cannot run). Such trials are counted and reported, the derived Chroma folder
 * is dropped, and the test goes on; they do not fail it.
 */
import { fileURLToPath } from 'node:url';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isAicoError, openDataLayer, restoreBackup, type DataLayer, type OpenDataLayerOptions } from '../../src/index.js';
import { HISTORY_TABLE } from '../../src/schema/index.js';
import { tempDir } from '../helpers/folders.js';
import { alive, startChild, waitFor } from './lib/child.js';
import { BASE_SEED, rng, scale, timeoutFor } from './lib/config.js';
import { pluginFor } from './lib/crash-protocol.js';
import { report } from './lib/results.js';
import { vectorsOf } from './lib/vectors.js';

const CHILD = fileURLToPath(new URL('./fixtures/crash-child.ts', import.meta.url));
const TRIALS = scale(10, 100);

type Kind = 'plain' | 'migration' | 'etl' | 'password' | 'backup';

/** True when `data.backup` exists (another part of the project adds it). */
async function hasBackup(): Promise<boolean> {
  const t = tempDir('aico-rel-probe-');
  try {
    const d = await openDataLayer({ dir: join(t.dir, 'd'), password: 'probe', analytics: false, kv: false });
    const has = typeof (d as unknown as { backup?: unknown }).backup === 'function';
    await d.close();
    return has;
  } finally {
    t.cleanup();
  }
}

interface TrialOutcome {
  kind: Kind;
  trial: number;
  committed: number;
  /** The kill landed inside the trial's operation (migration started, not finished...). */
  inside: boolean;
  /** Chroma was unusable after the kill (the known gap above); not counted in `problems`. */
  chromaBricked: boolean;
  problems: string[];
}

/** What the child reported before the kill. */
function parse(lines: string[]) {
  const out = {
    users: [] as string[],
    msgs: [] as string[],
    mems: [] as string[],
    kv: [] as Array<{ ns: string; key: string; value: string }>,
    queue: [] as string[],
    vecs: [] as string[],
    passwords: { started: undefined as string | undefined, done: undefined as string | undefined },
    migration: { started: false, done: false },
    serverPid: 0,
    etlRuns: 0,
    backups: 0,
    /** Completed backups, with the messages committed before each started. */
    backupsDone: [] as Array<{ file: string; msgsBefore: string[] }>,
    failure: undefined as string | undefined,
  };
  const started = new Map<string, number>();
  for (const l of lines) {
    const [tag, a, ...rest] = l.split(' ');
    const b = rest.join(' ');
    if (tag === 'C' && a === 'user') out.users.push(rest[0]!);
    else if (tag === 'C' && a === 'msg') out.msgs.push(rest[0]!);
    else if (tag === 'C' && a === 'mem') out.mems.push(rest[0]!);
    else if (tag === 'C' && a === 'kv') {
      const [nsKey, ...v] = rest;
      const [ns, key] = nsKey!.split('/') as [string, string];
      out.kv.push({ ns, key, value: v.join(' ') });
    } else if (tag === 'C' && a === 'q') out.queue.push(rest.slice(1).join(' '));
    else if (tag === 'C' && a === 'vec') out.vecs.push(rest[0]!);
    else if (tag === 'P' && a === 'start') out.passwords.started = b;
    else if (tag === 'P' && a === 'done') out.passwords.done = b;
    else if (tag === 'M') out.migration[a === 'done' ? 'done' : 'started'] = true;
    else if (tag === 'S') out.serverPid = Number(a);
    else if (tag === 'E') out.etlRuns++;
    else if (tag === 'B' && a === 'start') {
      out.backups++;
      started.set(b, out.msgs.length);
    } else if (tag === 'B' && a === 'done') out.backupsDone.push({ file: b, msgsBefore: out.msgs.slice(0, started.get(b) ?? 0) });
    else if (tag === 'X') out.failure = l;
  }
  return out;
}

async function openWithAny(dir: string, passwords: string[]): Promise<{ data: DataLayer; password: string }> {
  let last: unknown;
  for (const password of passwords) {
    try {
      return { data: await openDataLayer({ dir, password, create: false }), password };
    } catch (e) {
      last = e;
      if (!isAicoError(e, 'WRONG_PASSWORD')) throw e;
    }
  }
  throw last;
}

async function inChunks<T>(ids: string[], fn: (chunk: string[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += 500) out.push(...(await fn(ids.slice(i, i + 500))));
  return out;
}

const outcomes: TrialOutcome[] = [];
let backupsRestored = 0;
const cleanups: Array<() => void> = [];
afterAll(() => {
  for (const c of cleanups) c();
});

describe('crash safety (SIGKILL under mixed write load)', () => {
  it(`${TRIALS} kill trials lose no committed write and leave every store consistent`, async () => {
    const t = tempDir('aico-rel-crash-');
    cleanups.push(t.cleanup);
    const dir = join(t.dir, 'data');
    let password = 'crash initial password';
    await (await openDataLayer({ dir, password })).close();

    const kinds: Kind[] = ['plain', 'migration', 'etl', 'password'];
    const backupNote = (await hasBackup()) ? undefined : 'backup kind skipped: data.backup does not exist yet';
    if (!backupNote) kinds.push('backup');
    else console.log(`[reliability] crash: ${backupNote}`);

    for (let trial = 0; trial < TRIALS; trial++) {
      const kind = kinds[trial % kinds.length]!;
      const seed = BASE_SEED + trial;
      const rand = rng(seed);
      // Chroma in every other trial: its server start is the slowest part of a trial.
      const vectors = trial % 2 === 0;
      const child = startChild(CHILD, [dir, password, kind, String(trial), String(seed), vectors ? '1' : '0']);
      const problems: string[] = [];
      let chromaBricked = false;
      const opened = await child.waitForLine((l) => l === 'R', 60_000);
      if (!opened) {
        problems.push(`child did not open: ${child.stderr().slice(-500)}`);
      } else {
        // Aim the kill at the operation the trial is about, at a random moment inside it.
        const marker: Record<Kind, (l: string) => boolean> = {
          plain: (l) => l.startsWith('C msg'),
          migration: (l) => l.startsWith('M start'),
          etl: (l) => l.startsWith('E done'),
          password: (l) => l.startsWith('P start'),
          backup: (l) => l.startsWith('B start'),
        };
        await child.waitForLine(marker[kind], 30_000);
        if (vectors) await child.waitForLine((l) => l.startsWith('C vec'), 30_000);
        await new Promise((r) => setTimeout(r, Math.floor(rand() * (kind === 'migration' ? 1500 : 800))));
      }
      child.proc.kill('SIGKILL');
      await child.exited;
      const got = parse(child.lines);
      // A child that found Chroma unusable hit the known gap below (left by an earlier kill).
      if (got.failure?.startsWith('X UNAVAILABLE ')) chromaBricked = true;
      else if (got.failure) problems.push(`child failed before the kill: ${got.failure}`);
      // The Chroma wrapper stops its server when its parent dies; wait for it before reopening the folder.
      if (got.serverPid) await waitFor(() => !alive(got.serverPid), 15_000);

      const candidates = [got.passwords.done ?? password, ...(got.passwords.started ? [got.passwords.started] : [])];
      let data: DataLayer | undefined;
      try {
        const o = await openWithAny(dir, [...new Set(candidates)].reverse());
        data = o.data;
        password = o.password;
        if (got.passwords.done && password !== got.passwords.done && password !== got.passwords.started) {
          problems.push('a completed password change was lost');
        }
        const integrity = data.sql.integrityCheck(true);
        if (integrity.length > 0) problems.push(`integrity_check: ${integrity.join('; ')}`);
        const msgs = await inChunks(got.msgs, (c) => data!.sql.query<{ id: string }>(`SELECT id FROM messages WHERE id IN (${c.map(() => '?').join(',')})`, c));
        if (msgs.length !== got.msgs.length) problems.push(`lost ${got.msgs.length - msgs.length} of ${got.msgs.length} committed messages`);
        const mems = await inChunks(got.mems, (c) => data!.sql.query<{ id: string }>(`SELECT id FROM memories WHERE id IN (${c.map(() => '?').join(',')})`, c));
        if (mems.length !== got.mems.length) problems.push(`lost ${got.mems.length - mems.length} of ${got.mems.length} committed memories`);
        for (const u of got.users) if (!(await data.repos.users.get(u))) problems.push(`lost user ${u}`);
        // A unit of work is atomic: no memory without its message.
        const orphans = await data.sql.queryOne<{ n: number }>(
          'SELECT count(*) AS n FROM memories m WHERE m.source_message_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM messages x WHERE x.id = m.source_message_id)',
        );
        if (orphans!.n > 0) problems.push(`${orphans!.n} memories without their message (a unit of work was torn)`);
        const lostKv = got.kv.filter((e) => data!.kv.get(e.ns, e.key)?.toString() !== e.value);
        if (lostKv.length > 0) problems.push(`lost ${lostKv.length} of ${got.kv.length} committed KV values (first: ${lostKv[0]!.ns}/${lostKv[0]!.key})`);
        const queued = new Set<string>();
        for (;;) {
          const leased = data.kv.queue.lease('crash', 256, 60_000);
          if (leased.length === 0) break;
          for (const m of leased) {
            queued.add(m.payload.toString());
            data.kv.queue.ack(m);
          }
        }
        const lostQ = got.queue.filter((v) => !queued.has(v));
        if (lostQ.length > 0) problems.push(`lost ${lostQ.length} of ${got.queue.length} committed queue messages`);
        if (data.analytics) {
          await data.analytics.sync();
          const [a] = await data.analytics.query<{ n: bigint | number }>('SELECT count(*) AS n FROM messages');
          const s = await data.sql.queryOne<{ n: number }>('SELECT count(*) AS n FROM messages');
          if (Number(a!.n) !== s!.n) problems.push(`analytics has ${a!.n} messages, libSQL ${s!.n}: the derived store did not converge`);
        } else problems.push('analytics did not open');
        if (kind === 'migration') {
          const name = pluginFor(trial);
          const history = await data.sql.query<{ version: number }>(
            `SELECT version FROM ${HISTORY_TABLE} WHERE component = ? AND direction = 'up' AND success = 1`,
            [name],
          );
          const applied = new Set(history.map((h) => h.version));
          for (const [v, table] of [[1, `plugin_${name}_a`], [2, `plugin_${name}_b`]] as const) {
            const exists = await data.sql.queryOne('SELECT 1 FROM sqlite_master WHERE name = ?', [table]);
            if (Boolean(exists) !== applied.has(v)) problems.push(`migration ${name}@${v}: table ${exists ? 'exists' : 'missing'} but history says ${applied.has(v) ? 'applied' : 'not applied'}`);
            if (exists) {
              const row = await data.sql.queryOne<{ n: number }>(`SELECT n FROM ${table}`);
              if (row?.n !== 1_200_000) problems.push(`migration ${name}@${v}: half-applied (${row?.n})`);
            }
          }
          if (got.migration.done && applied.size !== 2) problems.push(`migration ${name} reported done but history has ${[...applied]}`);
        }
        const lastBackup = got.backupsDone.at(-1);
        if (lastBackup) {
          // The last completed backup restores, opens with the trial's password and holds what was committed before it began.
          const into = join(t.dir, `restored-${trial}`);
          await restoreBackup({ file: lastBackup.file, dir: into, password });
          const restored = await openDataLayer({ dir: into, password, create: false, vectors: false } as OpenDataLayerOptions);
          try {
            const problemsR = restored.sql.integrityCheck(true);
            if (problemsR.length > 0) problems.push(`restored backup integrity_check: ${problemsR.join('; ')}`);
            const ids = lastBackup.msgsBefore;
            const there = await inChunks(ids, (c) => restored.sql.query<{ id: string }>(`SELECT id FROM messages WHERE id IN (${c.map(() => '?').join(',')})`, c));
            if (there.length !== ids.length) problems.push(`restored backup lacks ${ids.length - there.length} of ${ids.length} messages committed before it began`);
          } finally {
            await restored.close();
            rmSync(into, { recursive: true, force: true });
          }
          backupsRestored++;
        }
        if (vectors && got.vecs.length > 0) {
          const v = await vectorsOf(data);
          try {
            const records = await v.store.memories.get({ ids: got.vecs });
            const texts = new Map(records.map((r) => [r.id, r.text]));
            const lost = got.vecs.filter((id) => texts.get(id) !== `vector memory ${id}`);
            if (lost.length > 0) problems.push(`lost ${lost.length} of ${got.vecs.length} committed Chroma records`);
          } catch (e) {
            if (!isAicoError(e, 'UNAVAILABLE')) throw e;
            // Known gap (reported): a kill while Chroma 1.0 persists its HNSW segment can leave files
            // that make the server segfault on every load. Counted, then the derived Chroma folder is
            // dropped so that later trials test again.
            chromaBricked = true;
          } finally {
            await v.release();
          }
        }
      } catch (e) {
        const err = e as { code?: string; message?: string };
        problems.push(`reopen failed: ${err.code ?? ''} ${err.message ?? String(e)}`);
      } finally {
        await data?.close();
      }
      const committed = got.msgs.length + got.mems.length + got.kv.length + got.queue.length + got.vecs.length;
      const inside =
        kind === 'migration' ? got.migration.started && !got.migration.done
        : kind === 'password' ? got.passwords.started !== undefined && got.passwords.started !== got.passwords.done
        : kind === 'etl' ? got.etlRuns > 0
        : kind === 'backup' ? got.backups > 0
        : got.msgs.length > 0;
      if (chromaBricked) {
        rmSync(join(dir, 'chroma'), { recursive: true, force: true });
        rmSync(join(dir, 'chroma.pid'), { force: true });
        console.log(`[reliability] crash trial ${trial} (${kind}, seed ${seed}): Chroma unusable after the kill (server crashes loading its files); folder dropped`);
      }
      outcomes.push({ kind, trial, committed, inside, chromaBricked, problems });
      if (problems.length > 0) console.log(`[reliability] crash trial ${trial} (${kind}, seed ${seed}): ${problems.join(' | ')}`);
    }

    const failures = outcomes.filter((o) => o.problems.length > 0);
    const figures: Record<string, number | string> = {};
    for (const k of kinds) {
      const of = outcomes.filter((o) => o.kind === k);
      figures[k] = `${of.length - of.filter((o) => o.problems.length > 0).length}/${of.length}`;
    }
    figures['kills inside the operation'] = outcomes.filter((o) => o.inside).length;
    if (kinds.includes('backup')) figures['completed backups restored'] = backupsRestored;
    const bricked = outcomes.filter((o) => o.chromaBricked).length;
    figures['Chroma unusable after a kill'] = `${bricked} of ${outcomes.filter((_o, i) => i % 2 === 0).length} Chroma trials`;
    figures['committed writes checked'] = outcomes.reduce((s, o) => s + o.committed, 0);
    report({
      part: '1 crash safety',
      tried: 'SIGKILL trials under mixed write load (libSQL, RocksDB, DuckDB ETL, Chroma)',
      count: outcomes.length,
      // The table counts the known Chroma gap as failures too; the assertion below does not.
      failures: failures.length + bricked,
      figures,
      ...(backupNote || bricked ? { notes: [backupNote, bricked ? `${bricked} trials left Chroma unusable (it segfaults loading an HNSW segment written when the kill came; known gap, reported)` : ''].filter(Boolean).join('; ') } : {}),
    });
    expect(failures.map((f) => `trial ${f.trial} (${f.kind}): ${f.problems.join(' | ')}`)).toEqual([]);
  }, timeoutFor(TRIALS, 6_000));
});
