/**
 * bench/embeddings: all-MiniLM-L6-v2 in aico-data's Rust core (`MiniLmEmbedder`) against the
 * same model run by Hugging Face transformers' Flax BERT on XLA (bench/embeddings/peer.py, in
 * the pinned reference virtualenv that scripts/model/reference-venv.mjs makes from PyPI), on the
 * same sentences in the same run:
 * - throughput at batch 32 (sentences/s over 512 memory-like sentences, best of the rounds);
 * - single-query latency (batch 1: p50/p95 ms over 100 short questions);
 * - resident memory of the loaded model (RSS after loading and warming up, minus before).
 * Both use every core of the machine. Rounds alternate: ours, the peer, ours again (best kept).
 *
 *   npx tsx bench/embeddings/index.ts     (AICO_BENCH_ROUNDS=3; needs node scripts/model/fetch-minilm.mjs)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MiniLmEmbedder, defaultMiniLmDir } from '../../src/stores/vectors/index.js';
import { seededRandom } from '../../src/util/seeded-random.js';
import { ROUNDS } from '../lib/measure.js';
import { emit } from '../lib/results.js';
// @ts-expect-error: a plain ES module script without types
import { ensureReferenceVenv } from '../../scripts/model/reference-venv.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const SUITE = 'embeddings';
const OURS = 'aico-data MiniLmEmbedder (Rust core)';

// ---- the sentences: memory-like statements (batches) and short questions (queries) ------------

const rng = seededRandom(32);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
const WHO = ['Ada', 'her sister Clara', 'Tom', 'the neighbour', 'her son Leo', 'grandma', 'a colleague from the hospital', 'her best friend'];
const DID = ['loves', 'is worried about', 'wants to try', 'remembers', 'talked for an hour about', 'is saving money for', 'dreams of', 'complained about'];
const WHAT = ['green tea with honey', 'the trip to Lisbon next spring', 'night shifts at the hospital', 'learning the cello', 'spicy Thai food', 'a new bicycle', 'the vegetable garden on the balcony', 'old family photos', 'yoga on Sunday mornings', 'the dentist appointment', 'chess tournaments', 'a red winter coat', 'the chemistry exam', 'jazz records from the sixties', 'moving to Berlin'];
const WHEN = ['', ' last week', ' every morning before breakfast', ' since she was a child', ' whenever it rains', ' during the summer holidays', ' after the argument with her boss'];
const WHY = ['', ', because it reminds her of home', ', although she rarely has the time', ', and she asked me to remind her about it', ', which surprised everyone at dinner'];
const corpus = Array.from({ length: 512 }, () => `${pick(WHO)} ${pick(DID)} ${pick(WHAT)}${pick(WHEN)}${pick(WHY)}.`);
const QUESTIONS = ['What should I offer her to drink?', 'Where does she want to travel?', 'Which instrument is she learning?', 'What is she anxious about?', 'When does she exercise?', 'Who is her sibling?', 'What does she collect?', 'What food does she like?', 'Where did she move?', 'What is her job?'];
const queries = Array.from({ length: 100 }, (_, i) => `${QUESTIONS[i % QUESTIONS.length]!}${i >= QUESTIONS.length ? ` (${Math.floor(i / QUESTIONS.length)})` : ''}`);

// ---- ours ---------------------------------------------------------------------------------------

interface Figures {
  name: string;
  loadSeconds: number;
  modelRssMb: number;
  batch32PerSec: number;
  queryP50Ms: number;
  queryP95Ms: number;
  queryPerSec: number;
  vector0: number[];
}

const gcIfExposed = () => (globalThis as { gc?: () => void }).gc?.();

async function ours(rounds: number): Promise<Figures> {
  gcIfExposed();
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const model = await MiniLmEmbedder.load(defaultMiniLmDir());
  const loadSeconds = (performance.now() - t0) / 1000;
  await model.embed(corpus.slice(0, 32));
  await model.embed([queries[0]!]);
  const modelRssMb = (process.memoryUsage().rss - rss0) / 2 ** 20;
  let batch32PerSec = 0;
  const lat: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    for (let i = 0; i < corpus.length; i += 32) await model.embed(corpus.slice(i, i + 32));
    batch32PerSec = Math.max(batch32PerSec, corpus.length / ((performance.now() - t) / 1000));
    for (const q of queries) {
      const s = performance.now();
      await model.embed([q]);
      lat.push(performance.now() - s);
    }
  }
  lat.sort((a, b) => a - b);
  const [v0] = await model.embed([corpus[0]!]);
  return {
    name: `${OURS}, ${model.threads} threads`,
    loadSeconds,
    modelRssMb,
    batch32PerSec,
    queryP50Ms: lat[Math.floor(lat.length / 2)]!,
    queryP95Ms: lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.95))]!,
    queryPerSec: 1000 / (lat.reduce((a, b) => a + b, 0) / lat.length),
    vector0: Array.from(v0!),
  };
}

// ---- the peer -----------------------------------------------------------------------------------

function peer(rounds: number): Figures {
  const py = ensureReferenceVenv() as string;
  const dir = mkdtempSync(join(tmpdir(), 'aico-bench-embeddings-'));
  try {
    const input = join(dir, 'sentences.json');
    writeFileSync(input, JSON.stringify({ corpus, queries }));
    const r = spawnSync(py, [join(HERE, 'peer.py'), defaultMiniLmDir(), input, String(rounds)], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3', JAX_PLATFORMS: 'cpu' },
    });
    if (r.status !== 0) throw new Error(`peer.py failed (${r.status}):\n${r.stderr.slice(-2000)}`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as Figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function cosine(a: readonly number[], b: readonly number[]): number {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i]! * b[i]!;
    na += a[i]! ** 2;
    nb += b[i]! ** 2;
  }
  return d / Math.sqrt(na * nb);
}

// ---- run ----------------------------------------------------------------------------------------

if (!existsSync(join(defaultMiniLmDir(), 'model.safetensors'))) {
  console.error(`bench/embeddings: no model at ${defaultMiniLmDir()} (run: node scripts/model/fetch-minilm.mjs)`);
  process.exit(1);
}
const first = await ours(ROUNDS);
const them = peer(ROUNDS);
const again = await ours(ROUNDS);
const best: Figures = {
  ...first,
  batch32PerSec: Math.max(first.batch32PerSec, again.batch32PerSec),
  queryP50Ms: Math.min(first.queryP50Ms, again.queryP50Ms),
  queryP95Ms: Math.min(first.queryP95Ms, again.queryP95Ms),
  queryPerSec: Math.max(first.queryPerSec, again.queryPerSec),
};
const agreement = cosine(best.vector0, them.vector0);
console.log('\n### all-MiniLM-L6-v2, 512 sentences (batch 32) and 100 queries (batch 1)');
console.log('| implementation | batch 32, sentences/s | query p50 ms | query p95 ms | queries/s | load s | model RSS MB |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const f of [best, them]) {
  console.log(`| ${f.name} | ${f.batch32PerSec.toFixed(0)} | ${f.queryP50Ms.toFixed(1)} | ${f.queryP95Ms.toFixed(1)} | ${f.queryPerSec.toFixed(0)} | ${f.loadSeconds.toFixed(2)} | ${f.modelRssMb.toFixed(0)} |`);
}
console.log(`cosine of the two implementations' vectors for the first sentence: ${agreement.toFixed(6)}`);
if (agreement < 0.999) throw new Error(`the two implementations disagree (cosine ${agreement})`);

const peerRef = (value: number) => ({ name: them.name, value });
emit({ suite: SUITE, workload: 'all-MiniLM-L6-v2, batch of 32 memory-like sentences', unit: 'sentences/s', better: 'higher', aico: { name: best.name, value: best.batch32PerSec }, peer: peerRef(them.batch32PerSec), goal: { on: 'ratio', min: 1 } });
emit({ suite: SUITE, workload: 'all-MiniLM-L6-v2, single query (batch 1)', unit: 'queries/s', better: 'higher', aico: { name: best.name, value: best.queryPerSec }, peer: peerRef(them.queryPerSec) });
emit({ suite: SUITE, workload: 'all-MiniLM-L6-v2, single query p50', unit: 'ms p50', better: 'lower', aico: { name: best.name, value: best.queryP50Ms }, peer: peerRef(them.queryP50Ms), goal: { on: 'value', max: 15 } });
emit({ suite: SUITE, workload: 'all-MiniLM-L6-v2, single query p95', unit: 'ms p95', better: 'lower', aico: { name: best.name, value: best.queryP95Ms }, peer: peerRef(them.queryP95Ms) });
emit({ suite: SUITE, workload: 'all-MiniLM-L6-v2, resident memory of the loaded model', unit: 'MB RSS', better: 'lower', aico: { name: best.name, value: best.modelRssMb }, peer: peerRef(them.modelRssMb), goal: { on: 'value', max: 200 } });
