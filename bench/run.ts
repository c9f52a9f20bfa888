/**
 * The benchmark report: runs every suite under `bench/` (each in its own process, one after
 * the other, so that they do not compete with each other for the 2 cores) and writes
 * `bench/results/latest.md` (the table the README shows), `bench/results/latest.html` (the same with
 * charts of each ratio against its goal) and `bench/results/latest.json`.
 *
 *   npm run bench                 every suite
 *   npm run bench -- sql kv       some suites (rows of the others are kept from the last run)
 *   npm run bench -- --readme     also copy the report into README.md (between the bench markers)
 *   tsx bench/run.ts --report-only [--readme]   re-render the report from latest.json, run nothing
 *   npm run bench -- --quick      tiny runs to check that the suites work; written to
 *                                 $TMPDIR/aico-bench-quick/quick.{md,json}, never next to the real figures
 *
 * Each suite prints its own detailed tables and emits report rows (`bench/lib/results.ts`).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, arch, totalmem, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { updateReadme } from './lib/readme.js';
import { renderBenchHtml } from './report-html.js';
import { formatValue, type BenchRow } from './lib/results.js';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
/** Preferred order; any other folder with an `index.ts` runs after these. */
const ORDER = ['sql', 'kv', 'repositories', 'analytics', 'vectors', 'embeddings', 'bus', 'sync', 'backup'];
/** Small sizes for `--quick`. */
const QUICK_ENV = { AICO_BENCH_MS: '200', AICO_BENCH_MESSAGES: '20000', AICO_BENCH_SIZES: '1000', AICO_BENCH_ROUNDS: '1' };

interface SuiteRun {
  name: string;
  ok: boolean;
  exitCode: number | null;
  seconds: number;
  rows: number;
  at: string;
  /** The last lines of output of a failed suite. */
  tail?: string;
}

interface Report {
  generatedAt: string;
  command: string;
  quick: boolean;
  machine: { cpu: string; cpus: number; memGiB: number; os: string; node: string; load1AtStart: number; load1AtEnd: number };
  suites: SuiteRun[];
  rows: BenchRow[];
}

function allSuites(): string[] {
  const found = readdirSync(BENCH, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'lib' && d.name !== 'results' && existsSync(join(BENCH, d.name, 'index.ts')))
    .map((d) => d.name);
  return [...ORDER.filter((s) => found.includes(s)), ...found.filter((s) => !ORDER.includes(s)).sort()];
}

/** Runs one suite, echoing its output, and returns its rows. */
async function runSuite(name: string, quick: boolean): Promise<{ run: SuiteRun; rows: BenchRow[] }> {
  const rowsFile = join(tmpdir(), `aico-bench-rows-${process.pid}-${name}.jsonl`);
  rmSync(rowsFile, { force: true });
  const started = performance.now();
  const at = new Date().toISOString();
  console.log(`\n======== bench/${name} ========`);
  let tail = '';
  const exitCode = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(BENCH, name, 'index.ts')], {
      cwd: ROOT,
      env: { ...process.env, AICO_BENCH_ROWS: rowsFile, ...(quick ? QUICK_ENV : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onData = (target: NodeJS.WriteStream) => (d: Buffer) => {
      target.write(d);
      tail = (tail + d.toString('utf8')).slice(-4000);
    };
    child.stdout.on('data', onData(process.stdout));
    child.stderr.on('data', onData(process.stderr));
    child.on('error', (e) => {
      tail += `\n${e.message}`;
      resolve(null);
    });
    child.on('exit', (code) => resolve(code));
  });
  const rows: BenchRow[] = existsSync(rowsFile)
    ? readFileSync(rowsFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as BenchRow)
    : [];
  rmSync(rowsFile, { force: true });
  const ok = exitCode === 0;
  const run: SuiteRun = { name, ok, exitCode, seconds: Math.round((performance.now() - started) / 100) / 10, rows: rows.length, at };
  if (!ok) run.tail = tail.split('\n').slice(-15).join('\n');
  console.log(`======== bench/${name}: ${ok ? 'ok' : `FAILED (exit ${exitCode})`}, ${rows.length} rows, ${run.seconds} s ========`);
  return { run, rows };
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

/** The Markdown report. */
export function renderMarkdown(r: Report): string {
  const m = r.machine;
  const lines = [
    `# Benchmarks${r.quick ? ' (quick check: tiny sizes, figures not meaningful)' : ''}`,
    '',
    `Generated ${r.generatedAt} by \`${r.command}\`: every suite under \`bench/\`, each side by side with its peers in one process, suites one after another.`,
    `Machine: ${m.cpus} x ${m.cpu}, ${m.memGiB} GiB RAM, ${m.os}, node ${m.node}; load average ${m.load1AtStart} at the start, ${m.load1AtEnd} at the end.`,
    '',
    'Ratio = aico-data / peer in the row\'s unit: above 1.00x is better for throughput (ops/s, rows/s, records/s), below 1.00x is better for time (µs).',
    'Goals are the issues\' targets; "machine" is the CPU count and the 1-minute load average when the row was measured (the machine is shared: a load well above the CPU count makes absolute figures low, ratios stay comparable within a row).',
    '',
    '| suite | workload | aico-data | peer | ratio | goal | machine |',
    '|---|---|---:|---|---:|---|---|',
  ];
  for (const row of r.rows) {
    const peer = row.peer ? `${row.peer.name}: ${formatValue(row.peer.value, row.unit)}` : '-';
    const goal = row.goal ? `${row.goal.text}: ${row.goal.met ? 'met' : '**not met**'}` : '-';
    lines.push(
      `| ${row.suite} | ${cell(row.workload)} | ${formatValue(row.aico.value, row.unit)} | ${cell(peer)} | ${row.ratio === null ? '-' : `${row.ratio.toFixed(2)}x`} | ${goal} | ${row.machine.cpus} cpu, load ${row.machine.load1.toFixed(1)} |`,
    );
  }
  lines.push('', '| suite | result | rows | time | run at |', '|---|---|---:|---:|---|');
  for (const s of r.suites) lines.push(`| ${s.name} | ${s.ok ? 'ok' : `failed (exit ${s.exitCode})`} | ${s.rows} | ${s.seconds} s | ${s.at} |`);
  for (const s of r.suites.filter((x) => !x.ok && x.tail)) lines.push('', `bench/${s.name} failed; its last lines:`, '', '```', s.tail!, '```');
  const goals = r.rows.filter((x) => x.goal);
  lines.push('', `Goals met: ${goals.filter((x) => x.goal!.met).length} of ${goals.length}.`, '');
  return lines.join('\n');
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--report-only')) {
    // Re-renders latest.md (and the README with --readme) from latest.json, running nothing.
    const base = join(BENCH, 'results', 'latest');
    const report = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as Report;
    writeFileSync(`${base}.md`, renderMarkdown(report));
    writeFileSync(`${base}.html`, renderBenchHtml(report));
    if (args.includes('--readme')) updateReadme(join(ROOT, 'README.md'), renderMarkdown(report).replace(/^# .*\n/, ''));
    console.log(`re-rendered ${base}.md, ${base}.html${args.includes('--readme') ? ' and the README table' : ''}`);
    return 0;
  }
  const quick = args.includes('--quick');
  const known = allSuites();
  const wanted = args.filter((a) => !a.startsWith('--'));
  const unknown = wanted.filter((w) => !known.includes(w));
  if (unknown.length > 0) {
    console.error(`unknown suite(s): ${unknown.join(', ')}; suites: ${known.join(', ')}`);
    return 2;
  }
  const suites = wanted.length > 0 ? known.filter((s) => wanted.includes(s)) : known;
  const load1AtStart = Math.round(loadavg()[0]! * 100) / 100;
  const runs: SuiteRun[] = [];
  const rows: BenchRow[] = [];
  for (const s of suites) {
    const r = await runSuite(s, quick);
    runs.push(r.run);
    rows.push(...r.rows);
  }

  // Quick runs go to the temp folder: their figures must never be mistaken for results.
  const outDir = quick ? join(tmpdir(), 'aico-bench-quick') : join(BENCH, 'results');
  mkdirSync(outDir, { recursive: true });
  const base = join(outDir, quick ? 'quick' : 'latest');
  // A partial run keeps the other suites' rows (and their run dates) from the last report.
  let previous: Report | undefined;
  if (wanted.length > 0 && existsSync(`${base}.json`)) previous = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as Report;
  const keptSuites = previous?.suites.filter((s) => !suites.includes(s.name)) ?? [];
  const keptRows = previous?.rows.filter((r) => !suites.includes(r.suite)) ?? [];
  const order = (name: string) => known.indexOf(name);
  const report: Report = {
    generatedAt: new Date().toISOString(),
    command: `npm run bench${quick || wanted.length ? ` -- ${[...wanted, ...(quick ? ['--quick'] : [])].join(' ')}` : ''}`,
    quick,
    machine: {
      cpu: cpus()[0]?.model.trim() ?? 'unknown',
      cpus: cpus().length,
      memGiB: Math.round(totalmem() / 2 ** 30),
      os: `${platform()} ${arch()} ${release()}`,
      node: process.version,
      load1AtStart,
      load1AtEnd: Math.round(loadavg()[0]! * 100) / 100,
    },
    suites: [...keptSuites, ...runs].sort((a, b) => order(a.name) - order(b.name)),
    rows: [...keptRows, ...rows].sort((a, b) => order(a.suite) - order(b.suite)),
  };
  writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${base}.md`, renderMarkdown(report));
  writeFileSync(`${base}.html`, renderBenchHtml(report));
  console.log(`\nwrote ${base}.md, ${base}.html and ${base}.json (${report.rows.length} rows)`);
  if (args.includes('--readme') && !quick) {
    // The README's own "## Benchmarks" heading stays; the report goes below it without its title.
    updateReadme(join(ROOT, 'README.md'), renderMarkdown(report).replace(/^# .*\n/, ''));
    console.log('updated the benchmark table in README.md');
  }
  const failed = runs.filter((r) => !r.ok);
  if (failed.length > 0) console.error(`failed suites: ${failed.map((f) => f.name).join(', ')}`);
  return failed.length > 0 ? 1 : 0;
}

process.exitCode = await main();
