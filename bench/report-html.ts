/**
 * `bench/results/latest.html`: the benchmark table of `latest.json` as one self-contained HTML
 * page, with a chart of each row's ratio (aico-data / peer) against its goal. Written by
 * `bench/run.ts` next to `latest.md`; `tsx bench/run.ts --report-only` re-renders it.
 */
import { esc, htmlPage, htmlTable, ratioChart } from '../src/cli/report/svg.js';
import { formatValue, type BenchRow } from './lib/results.js';

/** The parts of a report the page uses (`bench/run.ts`'s `Report`). */
export interface BenchReportLike {
  generatedAt: string;
  command: string;
  quick: boolean;
  machine: { cpu: string; cpus: number; memGiB: number; os: string; node: string; load1AtStart: number; load1AtEnd: number };
  suites: Array<{ name: string; ok: boolean; exitCode: number | null; seconds: number; rows: number; at: string }>;
  rows: BenchRow[];
}

/** The page. */
export function renderBenchHtml(r: BenchReportLike): string {
  const m = r.machine;
  const ratioRows = r.rows.filter((x) => x.ratio !== null && Number.isFinite(x.ratio));
  const suites = [...new Set(ratioRows.map((x) => x.suite))];
  const charts = suites
    .map((s) =>
      ratioChart(
        `ratio-${s}`,
        `${s}: aico-data / peer; green goal met, red not met, blue no goal; a black mark is a goal on the ratio`,
        ratioRows
          .filter((x) => x.suite === s)
          .map((x) => ({
            label: `${x.workload} vs ${x.peer?.name ?? '-'} (${x.unit})`,
            ratio: x.ratio!,
            ...(x.goal?.on === 'ratio' && x.goal.min !== undefined ? { goalMin: x.goal.min } : {}),
            ...(x.goal?.on === 'ratio' && x.goal.max !== undefined ? { goalMax: x.goal.max } : {}),
            met: x.goal ? x.goal.met : null,
          })),
      ),
    )
    .join('\n');
  const goals = r.rows.filter((x) => x.goal);
  const body = [
    `<p>Generated ${esc(r.generatedAt)} by <code>${esc(r.command)}</code>${r.quick ? ' (quick check: tiny sizes, figures not meaningful)' : ''}. Machine: ${m.cpus} x ${esc(m.cpu)}, ${m.memGiB} GiB RAM, ${esc(m.os)}, node ${esc(m.node)}; load average ${m.load1AtStart} at the start, ${m.load1AtEnd} at the end.</p>`,
    `<p>Ratio = aico-data / peer in the row's unit: above 1.00x is better for throughput, below 1.00x for time. Goals met: ${goals.filter((x) => x.goal!.met).length} of ${goals.length}.</p>`,
    '<h2>Ratios against goals</h2>',
    charts || '<p class="muted">no row has a peer</p>',
    '<h2>All rows</h2>',
    htmlTable(
      r.rows.map((x) => ({
        suite: x.suite,
        workload: x.workload,
        'aico-data': formatValue(x.aico.value, x.unit),
        peer: x.peer ? `${x.peer.name}: ${formatValue(x.peer.value, x.unit)}` : '-',
        ratio: x.ratio === null ? '-' : `${x.ratio.toFixed(2)}x`,
        goal: x.goal ? `${x.goal.text}: ${x.goal.met ? 'met' : 'not met'}` : '-',
        machine: `${x.machine.cpus} cpu, load ${x.machine.load1.toFixed(1)}`,
      })),
    ),
    '<h2>Suites</h2>',
    htmlTable(r.suites.map((s) => ({ suite: s.name, result: s.ok ? 'ok' : `failed (exit ${s.exitCode})`, rows: s.rows, time: `${s.seconds} s`, 'run at': s.at }))),
  ].join('\n');
  return htmlPage('aico-data benchmarks', body);
}
