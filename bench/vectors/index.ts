/**
 * bench/vectors: aico-data's vector store (sealed documents, HMAC-tokenised filters) against the
 * raw `chromadb` client writing plaintext, on the same managed Chroma server, side by side.
 *
 * For each size (default 10k and 100k memories of 384 dimensions):
 * - add throughput in batches of 1000 (records/s, and p50/p95 per batch);
 * - top-10 query latency, unfiltered and filtered on the user (ops/s, p50/p95), the two sides
 *   called alternately so that load on the machine weighs on both alike;
 * - recall@10 of the HNSW answer against exact (brute-force cosine) search.
 * Both sides get the same precomputed embeddings, so embedding cost is measured separately.
 *
 *   npx tsx bench/vectors/index.ts                 (AICO_BENCH_SIZES=10000 AICO_BENCH_MS=3000 to change)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChromaClient, type Collection } from 'chromadb';
import { openDataLayer } from '../../src/index.js';
import { HashingEmbedder, openVectorStore, type VectorStore } from '../../src/stores/vectors/index.js';
import { report, type CaseResult } from '../lib/measure.js';
import { emit } from '../lib/results.js';
import { seededRandom } from '../../src/util/seeded-random.js';

const SIZES = (process.env.AICO_BENCH_SIZES ?? '10000,100000').split(',').map(Number);
const MS = Number(process.env.AICO_BENCH_MS ?? 6000);
const DIM = 384;
const BATCH = 1000;
const RECALL_QUERIES = 200;
const USERS = 10;

const OURS = 'aico-data vectors (sealed)';
const RAW = 'chromadb client (plaintext)';

// ---- a deterministic synthetic corpus --------------------------------------------------------

const rng = seededRandom;
const WORDS = {
  who: ['Ana', 'her sister', 'Bob', 'the neighbour', 'Maria', 'her boss', 'the kids', 'grandma', 'Tom', 'a colleague'],
  verb: ['loves', 'hates', 'talked about', 'is worried about', 'wants to try', 'remembers', 'bought', 'lost', 'planned', 'dreams of'],
  what: ['green tea', 'the trip to Lisbon', 'night shifts', 'the cello', 'spicy food', 'a new bike', 'the garden', 'old photos', 'yoga', 'the dentist', 'chess', 'a red coat', 'the exam', 'jazz records', 'the move'],
  when: ['in the morning', 'last week', 'every Sunday', 'since spring', 'after work', 'on holiday', 'at night', 'today'],
};
function sentence(r: () => number): string {
  const pick = (a: string[]) => a[Math.floor(r() * a.length)]!;
  return `${pick(WORDS.who)} ${pick(WORDS.verb)} ${pick(WORDS.what)} ${pick(WORDS.when)} (${Math.floor(r() * 1000)})`;
}

// ---- side by side ------------------------------------------------------------------------------

/**
 * Times two async operations alternately (a, b, a, b, ...) for `ms`, after a warm-up, so that
 * background load on the machine affects both sides alike.
 */
async function interleaved(names: [string, string], ops: [(i: number) => Promise<unknown>, (i: number) => Promise<unknown>], ms: number): Promise<CaseResult[]> {
  for (let i = 0; i < 50; i++) for (const op of ops) await op(i);
  const lat: [number[], number[]] = [[], []];
  const spent = [0, 0];
  const end = performance.now() + ms;
  for (let i = 0; performance.now() < end; i++) {
    for (const k of [0, 1] as const) {
      const t = performance.now();
      await ops[k](i);
      const dt = performance.now() - t;
      lat[k].push(dt * 1000);
      spent[k] += dt;
    }
  }
  return names.map((name, k) => caseOf(name, lat[k]!, lat[k]!.length, spent[k]!));
}

function caseOf(name: string, latUs: number[], ops: number, spentMs: number): CaseResult {
  const s = Float64Array.from(latUs).sort();
  return { name, ops, opsPerSec: ops / (spentMs / 1000), p50us: s[Math.floor(s.length * 0.5)]!, p95us: s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]! };
}

// ---- exact search --------------------------------------------------------------------------

function exactTop10(matrix: Float32Array, n: number, q: Float32Array): string[] {
  const best: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) {
    let dot = 0;
    const off = i * DIM;
    for (let d = 0; d < DIM; d++) dot += matrix[off + d]! * q[d]!;
    if (best.length < 10 || dot > best[best.length - 1]![1]) {
      best.push([i, dot]);
      best.sort((a, b) => b[1] - a[1]);
      if (best.length > 10) best.pop();
    }
  }
  return best.map(([i]) => `m${i}`);
}

// ---- one size --------------------------------------------------------------------------------

async function runSize(n: number): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'aico-bench-vectors-'));
  const embedder = new HashingEmbedder({ dimension: DIM });
  const r = rng(n);
  const texts = Array.from({ length: n }, () => sentence(r));
  const users = Array.from({ length: n }, (_, i) => `user-${i % USERS}`);
  const matrix = new Float32Array(n * DIM);
  const te = performance.now();
  for (let i = 0; i < n; i++) matrix.set(embedder.embedOne(texts[i]!), i * DIM);
  const embedSecs = (performance.now() - te) / 1000;
  console.log(`\n## ${n.toLocaleString('en-US')} memories x ${DIM} dims (HashingEmbedder: ${Math.round(n / embedSecs).toLocaleString('en-US')} texts/s)`);

  const data = await openDataLayer({ dir: join(root, 'data'), password: 'bench password', vectors: false, outbox: false });
  let vectors: VectorStore | undefined;
  try {
    vectors = await openVectorStore({ dir: data.dir, crypto: data.crypto, embedder, batchSize: BATCH });
    await vectors.ready();
    const url = new URL(vectors.status().url!);
    const client = new ChromaClient({ host: url.hostname, port: Number(url.port), headers: vectors._server.authHeaders });
    const raw: Collection = await client.getOrCreateCollection({ name: 'raw_memories', embeddingFunction: null, configuration: { hnsw: { space: 'cosine' } } });
    const vec = (i: number) => Array.from(matrix.subarray(i * DIM, (i + 1) * DIM));
    const meta = (i: number) => ({ userId: users[i]!, type: 'episodic', importance: (i % 100) / 100, createdAt: 1_700_000_000_000 + i * 1000 });

    // Adds, alternating batches so both sides see the same server state and warm-up.
    const lat: Record<string, number[]> = { [OURS]: [], [RAW]: [] };
    const total: Record<string, number> = { [OURS]: 0, [RAW]: 0 };
    for (let start = 0; start < n; start += BATCH) {
      const idx = Array.from({ length: Math.min(BATCH, n - start) }, (_, k) => start + k);
      let t = performance.now();
      await vectors.memories.add(idx.map((i) => ({ id: `m${i}`, text: texts[i]!, embedding: matrix.subarray(i * DIM, (i + 1) * DIM), metadata: meta(i) })));
      let dt = performance.now() - t;
      lat[OURS]!.push(dt * 1000);
      total[OURS]! += dt;
      t = performance.now();
      await raw.add({ ids: idx.map((i) => `m${i}`), embeddings: idx.map(vec), documents: idx.map((i) => texts[i]!), metadatas: idx.map(meta) });
      dt = performance.now() - t;
      lat[RAW]!.push(dt * 1000);
      total[RAW]! += dt;
    }
    const addResults = [OURS, RAW].map((name) => caseOf(name, lat[name]!, n, total[name]!));
    report(`add ${n.toLocaleString('en-US')} records in batches of ${BATCH} (ops = records; latency per batch)`, addResults, RAW);
    emit({
      suite: 'vectors',
      workload: `add ${n.toLocaleString('en-US')} memories x ${DIM} dims, batches of ${BATCH}`,
      unit: 'records/s',
      better: 'higher',
      aico: { name: OURS, value: addResults[0]!.opsPerSec },
      peer: { name: RAW, value: addResults[1]!.opsPerSec },
    });

    // Queries: same query vectors for both sides.
    const qr = rng(n + 1);
    const queries = Array.from({ length: 512 }, () => embedder.embedOne(sentence(qr)));
    const qv = (i: number) => queries[i % queries.length]!;
    const unfiltered = await interleaved(
      [OURS, RAW],
      [
        (i) => vectors!.memories.query({ embedding: qv(i), nResults: 10 }),
        (i) => raw.query({ queryEmbeddings: [Array.from(qv(i))], nResults: 10, include: ['documents', 'metadatas', 'distances'] }),
      ],
      MS,
    );
    report(`query top-10 over ${n.toLocaleString('en-US')}`, unfiltered, RAW);
    const filtered = await interleaved(
      [OURS, RAW],
      [
        (i) => vectors!.memories.query({ embedding: qv(i), nResults: 10, where: { userId: `user-${i % USERS}` } }),
        (i) => raw.query({ queryEmbeddings: [Array.from(qv(i))], nResults: 10, where: { userId: `user-${i % USERS}` }, include: ['documents', 'metadatas', 'distances'] }),
      ],
      MS,
    );
    report(`query top-10 over ${n.toLocaleString('en-US')}, filtered on one of ${USERS} users`, filtered, RAW);
    for (const [title, rs] of [['unfiltered', unfiltered], ['filtered', filtered]] as const) {
      const ratio = rs[0]!.p95us / rs[1]!.p95us;
      console.log(`p95 ${title}: aico-data / raw = ${ratio.toFixed(2)}x (goal <= 1.3x)`);
      emit({
        suite: 'vectors',
        workload: `query top-10 over ${n.toLocaleString('en-US')}${title === 'filtered' ? `, filtered on one of ${USERS} users` : ''}: p95 latency`,
        unit: 'µs p95',
        better: 'lower',
        aico: { name: OURS, value: rs[0]!.p95us },
        peer: { name: RAW, value: rs[1]!.p95us },
        goal: { on: 'ratio', max: 1.3 },
      });
    }

    // recall@10 against exact search.
    let hitOurs = 0;
    let hitRaw = 0;
    for (let q = 0; q < RECALL_QUERIES; q++) {
      const exact = new Set(exactTop10(matrix, n, qv(q)));
      const ours = await vectors.memories.query({ embedding: qv(q), nResults: 10 });
      const theirs = await raw.query({ queryEmbeddings: [Array.from(qv(q))], nResults: 10 });
      hitOurs += ours.filter((h) => exact.has(h.id)).length;
      hitRaw += (theirs.ids[0] ?? []).filter((id) => exact.has(id)).length;
    }
    console.log(`recall@10 vs exact search (${RECALL_QUERIES} queries): aico-data ${(hitOurs / (RECALL_QUERIES * 10)).toFixed(3)}, raw ${(hitRaw / (RECALL_QUERIES * 10)).toFixed(3)} (goal >= 0.95)`);
    emit({
      suite: 'vectors',
      workload: `recall@10 against exact search, ${n.toLocaleString('en-US')} memories (${RECALL_QUERIES} queries)`,
      unit: 'recall',
      better: 'higher',
      aico: { name: OURS, value: hitOurs / (RECALL_QUERIES * 10) },
      peer: { name: RAW, value: hitRaw / (RECALL_QUERIES * 10) },
      goal: { on: 'value', min: 0.95 },
    });
  } finally {
    await vectors?.close();
    await data.close();
    rmSync(root, { recursive: true, force: true });
  }
}

async function main() {
  console.log(`# bench/vectors: Chroma 1.0.0 (managed server), node ${process.version}, ${new Date().toISOString()}`);
  for (const n of SIZES) await runSize(n);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
