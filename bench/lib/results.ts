/**
 * The common result format of the benchmark suites. Each suite prints its own detailed tables
 * and, for the report, emits rows: one workload, aico-data's figure, the peer's figure in the
 * same unit, their ratio, the goal from the issue, and the machine's load at that moment (the
 * machine is shared, so the load says how far to trust a row).
 *
 * `bench/run.ts` sets `AICO_BENCH_ROWS` to a file; {@link emit} appends one JSON line per row to
 * it. Run alone (`npx tsx bench/sql/index.ts`), a suite prints the rows and writes nothing.
 */
import { appendFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

/** A goal on the ratio (aico-data / peer, in the row's unit) or on aico-data's value itself. */
export interface GoalInput {
  on: 'ratio' | 'value';
  min?: number;
  max?: number;
}

/** What a suite passes to {@link emit}. */
export interface RowInput {
  suite: string;
  workload: string;
  /** e.g. `ops/s`, `rows/s`, `µs p95`, `µs/op`, `recall@10`. */
  unit: string;
  /** Which direction is better for this unit. */
  better: 'higher' | 'lower';
  aico: { name: string; value: number };
  peer?: { name: string; value: number } | null;
  goal?: GoalInput;
  note?: string;
}

/** A row as the report stores it. */
export interface BenchRow extends Omit<RowInput, 'goal' | 'peer'> {
  peer: { name: string; value: number } | null;
  /** aico-data / peer, in `unit` (so > 1 is better for `higher` units, < 1 for `lower` ones). */
  ratio: number | null;
  goal: (GoalInput & { text: string; met: boolean }) | null;
  machine: { cpus: number; load1: number };
  at: string;
}

/** `>= 1.50x`, `<= 1.30x`, `>= 0.95`. */
export function goalText(g: GoalInput): string {
  const suffix = g.on === 'ratio' ? 'x' : '';
  const parts = [];
  if (g.min !== undefined) parts.push(`>= ${g.min.toFixed(2)}${suffix}`);
  if (g.max !== undefined) parts.push(`<= ${g.max.toFixed(2)}${suffix}`);
  return `${g.on === 'ratio' ? 'ratio' : 'value'} ${parts.join(' and ')}`;
}

/** Builds the row (ratio, goal verdict, machine load), prints it and records it. */
export function emit(input: RowInput): BenchRow {
  const peer = input.peer ?? null;
  const ratio = peer && peer.value > 0 && Number.isFinite(input.aico.value) ? input.aico.value / peer.value : null;
  let goal: BenchRow['goal'] = null;
  if (input.goal) {
    const x = input.goal.on === 'ratio' ? ratio : input.aico.value;
    const met = x !== null && Number.isFinite(x) && (input.goal.min === undefined || x >= input.goal.min) && (input.goal.max === undefined || x <= input.goal.max);
    goal = { ...input.goal, text: goalText(input.goal), met };
  }
  const row: BenchRow = {
    suite: input.suite,
    workload: input.workload,
    unit: input.unit,
    better: input.better,
    aico: input.aico,
    peer,
    ratio,
    goal,
    machine: { cpus: cpus().length, load1: Math.round(loadavg()[0]! * 100) / 100 },
    at: new Date().toISOString(),
    ...(input.note ? { note: input.note } : {}),
  };
  const file = process.env.AICO_BENCH_ROWS;
  if (file) appendFileSync(file, `${JSON.stringify(row)}\n`);
  console.log(
    `[row] ${row.suite}: ${row.workload}: ${formatValue(row.aico.value, row.unit)}` +
      (peer ? ` vs ${peer.name} ${formatValue(peer.value, row.unit)} = ${ratio?.toFixed(2)}x` : '') +
      (goal ? ` (goal ${goal.text}: ${goal.met ? 'met' : 'NOT met'})` : ''),
  );
  return row;
}

/** A value with its unit, rounded for reading. */
export function formatValue(v: number, unit: string): string {
  if (!Number.isFinite(v)) return `- ${unit}`;
  const abs = Math.abs(v);
  const s = abs >= 100 ? Math.round(v).toLocaleString('en-US') : abs >= 10 ? v.toFixed(1) : abs >= 1 ? v.toFixed(2) : v.toFixed(3);
  return `${s} ${unit}`;
}

/** Mean time per operation in µs from a throughput, for goals phrased as "takes at most N times as long". */
export function usPerOp(opsPerSec: number): number {
  return 1e6 / opsPerSec;
}
