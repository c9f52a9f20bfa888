/** Small benchmark harness: runs each case for a fixed time, reports ops/s and latency. */

export interface CaseResult {
  name: string;
  ops: number;
  opsPerSec: number;
  p50us: number;
  p95us: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** Runs `op` repeatedly for `ms` (after a warm-up), timing each call. */
export async function measure(name: string, op: (i: number) => unknown, ms = 1500, warmupMs = 200): Promise<CaseResult> {
  const isAsync = op(0) instanceof Promise;
  const run = async (budget: number, record: boolean) => {
    const lat: number[] = [];
    const start = process.hrtime.bigint();
    const end = start + BigInt(budget) * 1_000_000n;
    let i = 1;
    for (;;) {
      const t0 = process.hrtime.bigint();
      if (isAsync) await op(i);
      else op(i);
      const t1 = process.hrtime.bigint();
      if (record) lat.push(Number(t1 - t0) / 1000);
      i++;
      if (t1 >= end) break;
    }
    return { lat, elapsed: Number(process.hrtime.bigint() - start) / 1e9, n: i - 1 };
  };
  await run(warmupMs, false);
  const { lat, elapsed, n } = await run(ms, true);
  const sorted = Float64Array.from(lat).sort();
  return { name, ops: n, opsPerSec: n / elapsed, p50us: percentile(sorted, 0.5), p95us: percentile(sorted, 0.95) };
}

/** Prints a group of results with ratios against `baseline` (by name). */
export function report(title: string, results: CaseResult[], baseline: string): void {
  const base = results.find((r) => r.name === baseline);
  console.log(`\n### ${title}`);
  console.log('| implementation | ops/s | p50 µs | p95 µs | ratio vs ' + baseline + ' |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of results) {
    const ratio = base ? (r.opsPerSec / base.opsPerSec).toFixed(2) + 'x' : '-';
    console.log(`| ${r.name} | ${Math.round(r.opsPerSec).toLocaleString('en-US')} | ${r.p50us.toFixed(1)} | ${r.p95us.toFixed(1)} | ${ratio} |`);
  }
}

/** How many interleaved rounds {@link bestOf} runs (AICO_BENCH_ROUNDS, default 3). */
export const ROUNDS = Math.max(1, Number(process.env.AICO_BENCH_ROUNDS ?? 3));

/**
 * Runs the cases round-robin for `rounds` rounds (order reversed every other round) and keeps
 * each case's best run: on a shared machine the load changes from second to second, and
 * measuring the rivals of one workload back to back, several times, lets each meet the same
 * conditions; the best run is the one least disturbed by others.
 */
export async function bestOf(cases: ReadonlyArray<readonly [name: string, op: (i: number) => unknown]>, ms = 1500, rounds = ROUNDS): Promise<CaseResult[]> {
  const best = new Map<string, CaseResult>();
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? cases : [...cases].reverse();
    for (const [name, op] of order) {
      const r = await measure(name, op, ms);
      const prev = best.get(name);
      if (!prev || r.opsPerSec > prev.opsPerSec) best.set(name, r);
    }
  }
  return cases.map(([name]) => best.get(name)!);
}
