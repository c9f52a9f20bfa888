/**
 * Part 2, tampering: random bytes are flipped in one file of a populated data folder (libSQL
 * database and WAL, RocksDB SST / MANIFEST / WAL, the analytics snapshot, the key file, Chroma's
 * files), then the folder is opened and everything read back. Each case must be detected (an
 * `AicoDataError`: `CORRUPT`, or the analytics snapshot rejected and rebuilt) or provably
 * harmless (every value read back equals what was written; for Chroma, derived from libSQL,
 * also: `verifyConsistency()` notices a difference and `repair()` rebuilds it). Never may a value come back that
 * was not written (garbage) unnoticed, nor may anything but an `AicoDataError` be thrown.
 *
 * Known gaps, measured here and reported to the lead (both live in Rust, crates/):
 * - a flipped byte in a write-ahead log (libSQL's `aico.db-wal`, RocksDB's `*.log`) makes the
 *   engine stop replaying there, so the commits after it are dropped (SQLite: frame checksum
 *   mismatch = end of log, silently; RocksDB: pointInTime recovery, and the open reports how many
 *   writes it dropped (`kvWalDroppedWrites`) when records after the damage still read: counted
 *   `detected`). Otherwise counted as `lost`; such cases must still never return garbage.
 * - libSQL pages are AES-256-CBC without a MAC (README, "libSQL at rest"): a flip inside a
 *   record garbles it and plain reads return the garbled value. Counted as `flagged` when
 *   `PRAGMA integrity_check` reports the damage, `garbage` when it does not. Both are counted
 *   and reported (the table's failures include unflagged garbage) but do not fail the test for
 *   these targets: the gap is the cipher's, documented in the README; every other store fails
 *   on any garbage.
 */
import { cpSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAicoError, openDataLayer, type DataLayer, type OpenDataLayerOptions } from '../../src/index.js';
import type { VectorStore } from '../../src/stores/vectors/index.js';
import { tempDir } from '../helpers/folders.js';
import { BASE_SEED, rng, scale, timeoutFor } from './lib/config.js';
import { report } from './lib/results.js';
import { vectorsOf, type OpenedVectors } from './lib/vectors.js';
import { readBack, writeWorkload, type Expected } from './lib/workload.js';

const PASSWORD = 'tamper test password';
const PER_TARGET = scale(4, 40);

type Target = 'libsql db' | 'libsql wal' | 'rocksdb sst' | 'rocksdb manifest' | 'rocksdb wal' | 'analytics snapshot' | 'key file' | 'chroma sqlite' | 'chroma hnsw';
/** Which template folder (closed: everything flushed; open: copied while the writer was live, WALs present) and which files. */
const TARGETS: Record<Target, { template: 'closed' | 'open'; match: (rel: string) => boolean }> = {
  'libsql db': { template: 'closed', match: (r) => r === 'aico.db' },
  'libsql wal': { template: 'open', match: (r) => r === 'aico.db-wal' },
  'rocksdb sst': { template: 'closed', match: (r) => /^kv\/\d+\.sst$/.test(r) },
  'rocksdb manifest': { template: 'closed', match: (r) => /^kv\/MANIFEST-\d+$/.test(r) },
  'rocksdb wal': { template: 'open', match: (r) => /^kv\/\d+\.log$/.test(r) },
  'analytics snapshot': { template: 'closed', match: (r) => r === 'analytics.snapshot' },
  'key file': { template: 'closed', match: (r) => r === 'aico-data.key' },
  'chroma sqlite': { template: 'closed', match: (r) => r === 'chroma/chroma.sqlite3' },
  'chroma hnsw': { template: 'closed', match: (r) => /^chroma\/[^/]+\/(data_level0|header|length)\.bin$/.test(r) },
};

/**
 * Outcomes: detected (an error or a rejected snapshot), harmless (identical read-back), lost
 * (committed writes silently missing), flagged (garbage read, but integrity_check reports the
 * damage), garbage / crash (never allowed).
 */
type Outcome = 'detected' | 'harmless' | 'lost' | 'flagged' | 'garbage' | 'crash';

/** Targets where silent loss of the log tail is the known gap described above. */
const KNOWN_WAL_LOSS: ReadonlySet<Target> = new Set(['libsql wal', 'rocksdb wal']);
/** Targets where garbled rows (flagged by integrity_check or not) are the known CBC gap described above. */
const KNOWN_UNAUTHENTICATED: ReadonlySet<Target> = new Set(['libsql db', 'libsql wal']);

function filesOf(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

const t = tempDir('aico-rel-tamper-');
let expected: Expected;
let first: Expected;
const templates = { closed: join(t.dir, 'closed'), open: join(t.dir, 'open') };
const results: Array<{ target: Target; outcome: Outcome; how: string }> = [];

beforeAll(async () => {
  const dir = join(t.dir, 'build');
  const data = await openDataLayer({ dir, password: PASSWORD, kv: { writeBufferMiB: 1 } });
  const vectors = await vectorsOf(data);
  first = await writeWorkload(data, { messages: 150, memories: 20, kvValues: 300, vectors: 30, marker: 'tamper' }, vectors.store);
  expected = first;
  await vectors.release();
  // A second batch of writes stays in the WALs while the folder is copied live.
  await writeWorkload(data, { messages: 30, memories: 2, kvValues: 30, vectors: 0, marker: 'tamper2' }).then((e) => {
    expected = mergeExpected(expected, e);
  });
  cpSync(dir, templates.open, { recursive: true, filter: (src) => !src.includes(`${dir}/chroma`) });
  await data.close();
  cpSync(dir, templates.closed, { recursive: true });
}, 180_000);

afterAll(() => t.cleanup());

function mergeExpected(a: Expected, b: Expected): Expected {
  // The second workload's maps are whole-table reads, so they already include the first's rows.
  return { ...b, kv: new Map([...a.kv, ...b.kv]), vectors: a.vectors, preferences: a.preferences, userId: a.userId };
}

/** Opens a (possibly tampered) folder copy, reads everything back and classifies what happened. */
async function openAndClassify(dir: string, withChroma: boolean, file: string): Promise<{ outcome: Outcome; how: string }> {
  let data: DataLayer | undefined;
  let opened: OpenedVectors | undefined;
  let vectors: VectorStore | undefined;
  const events: string[] = [];
  // Chroma is not restarted when a damaged file kills it: the error is the verdict.
  const server = { autoRestart: false };
  try {
    data = await openDataLayer({ dir, password: PASSWORD, create: false, analytics: { onEvent: (e) => events.push(e.kind) }, vectors: withChroma ? { server } : false } as OpenDataLayerOptions);
    if (withChroma) {
      opened = await vectorsOf(data, { server });
      vectors = opened.store;
    }
    const integrity = data.sql.integrityCheck(true);
    const exp = { ...expected, vectors: withChroma ? expected.vectors : new Map<string, string>() };
    let diffs = await readBack(data, exp, vectors, first);
    if (withChroma && diffs.lost.length + diffs.garbage.length > 0) {
      // Chroma is derived from libSQL: the consistency check must notice, and repair must rebuild it.
      const consistency = await data.verifyConsistency();
      if (!consistency.ok) {
        await data.repair();
        const again = await readBack(data, exp, vectors, first);
        if (again.lost.length + again.garbage.length === 0) return { outcome: 'detected', how: 'consistency check; repair rebuilt Chroma' };
        diffs = again;
      }
    }
    if (diffs.garbage.length > 0) {
      const how = `${file}: ${diffs.garbage.slice(0, 2).join('; ')}`;
      return integrity.length > 0 ? { outcome: 'flagged', how: `${how} (integrity_check: ${integrity[0]})` } : { outcome: 'garbage', how };
    }
    if (integrity.length > 0) return { outcome: 'detected', how: 'integrity_check' };
    // A damaged RocksDB WAL drops the writes after the damage (pointInTime): reported, not silent.
    const walDropped = data.kvWalDroppedWrites;
    if (diffs.lost.length > 0 && walDropped !== null && diffs.lost.every((l) => l.startsWith('kv '))) {
      return { outcome: 'detected', how: `kv WAL replay reported ${walDropped} dropped writes` };
    }
    if (diffs.lost.length > 0) return { outcome: 'lost', how: `${file}: ${diffs.lost.slice(0, 2).join('; ')}` };
    if (events.includes('snapshot_rejected')) return { outcome: 'detected', how: 'snapshot rejected, rebuilt' };
    return { outcome: 'harmless', how: 'identical read-back' };
  } catch (e) {
    if (isAicoError(e, 'CORRUPT')) return { outcome: 'detected', how: 'CORRUPT' };
    // Chroma refusing to serve a damaged file is a clear failure, not data.
    if (withChroma && isAicoError(e)) return { outcome: 'detected', how: e.code };
    const err = e as { code?: string; message?: string };
    return { outcome: 'crash', how: `${file}: ${isAicoError(e) ? e.code : 'non-AicoDataError'} ${err.message?.slice(0, 160)}` };
  } finally {
    await opened?.release().catch(() => undefined);
    await data?.close().catch(() => undefined);
  }
}

async function runCase(target: Target, seed: number): Promise<{ outcome: Outcome; how: string }> {
  const spec = TARGETS[target];
  const template = templates[spec.template];
  const candidates = filesOf(template).filter(spec.match);
  if (candidates.length === 0) throw new Error(`no ${target} file in the ${spec.template} template: ${filesOf(template).join(', ')}`);
  const rand = rng(seed);
  const file = candidates[Math.floor(rand() * candidates.length)]!;
  const dir = join(t.dir, `case-${seed}`);
  const withChroma = target.startsWith('chroma');
  cpSync(template, dir, { recursive: true, filter: (src) => withChroma || !src.startsWith(join(template, 'chroma')) });
  try {
    const path = join(dir, file);
    const bytes = readFileSync(path);
    if (bytes.length === 0) return { outcome: 'harmless', how: 'empty file' };
    const flips = 1 + Math.floor(rand() * 3);
    for (let i = 0; i < flips; i++) {
      const at = Math.floor(rand() * bytes.length);
      bytes[at] = bytes[at]! ^ (1 + Math.floor(rand() * 255));
    }
    writeFileSync(path, bytes);

    return await openAndClassify(dir, withChroma, file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('tampering: flipped bytes are detected or harmless, never garbage', () => {
  const targets = Object.keys(TARGETS) as Target[];

  it('untampered copies of both templates read back identically (the comparison can tell)', async () => {
    for (const which of ['closed', 'open'] as const) {
      const dir = join(t.dir, `control-${which}`);
      cpSync(templates[which], dir, { recursive: true });
      expect(await openAndClassify(dir, which === 'closed', '-')).toEqual({ outcome: 'harmless', how: 'identical read-back' });
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  for (const target of targets) {
    it(`${target}: ${PER_TARGET} cases`, async () => {
      let seed = BASE_SEED + targets.indexOf(target) * 100_000;
      for (let i = 0; i < PER_TARGET; i++) {
        const r = await runCase(target, seed++);
        results.push({ target, ...r });
        if (r.outcome !== 'detected' && r.outcome !== 'harmless') console.log(`[reliability] tamper ${target} (seed ${seed - 1}): ${r.outcome}: ${r.how}`);
      }
      const mine = results.filter((r) => r.target === target);
      const bad = mine.filter(
        (r) =>
          r.outcome === 'crash' ||
          (r.outcome === 'garbage' && !KNOWN_UNAUTHENTICATED.has(target)) ||
          (r.outcome === 'lost' && !KNOWN_WAL_LOSS.has(target)) ||
          (r.outcome === 'flagged' && !KNOWN_UNAUTHENTICATED.has(target)),
      );
      expect(bad.map((u) => `${u.outcome}: ${u.how}`)).toEqual([]);
    }, timeoutFor(PER_TARGET, 2_000));
  }

  afterAll(() => {
    if (results.length === 0) return;
    const figures: Record<string, string> = {};
    for (const target of targets) {
      const of = results.filter((r) => r.target === target);
      const n = (o: Outcome) => of.filter((r) => r.outcome === o).length;
      figures[target] = `${n('detected')} detected/${n('harmless')} harmless/${n('lost')} lost/${n('flagged')} flagged/${n('garbage') + n('crash')} undetected`;
    }
    figures['Chroma cases caught by verifyConsistency and rebuilt by repair'] = String(results.filter((r) => r.how.includes('repair')).length);
    const lost = results.filter((r) => r.outcome === 'lost').length;
    const flagged = results.filter((r) => r.outcome === 'flagged').length;
    report({
      part: '2 tampering',
      tried: 'cases of 1-3 random byte flips in one file, then open + full read-back',
      count: results.length,
      failures: results.filter((r) => r.outcome === 'garbage' || r.outcome === 'crash').length,
      figures,
      notes: `failures = unflagged garbage or a non-AicoDataError; known gaps (reported): ${lost} WAL cases lost the log tail without a report, ${flagged} libSQL cases returned garbled rows that integrity_check flags (CBC, no page MAC)`,
    });
  });
});
