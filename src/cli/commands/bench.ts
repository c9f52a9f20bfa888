/**
 * `aico-data bench [suite]`: runs the benchmark suites under `bench/` side by side with their
 * peers and writes `bench/results/latest.md` and `latest.json` (see `bench/run.ts`). The suites
 * ship with the source checkout, not with the npm package.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { AicoDataError } from '../../errors.js';

/** The checkout root: `src/cli/commands` or `dist/cli/commands`, three levels down. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Adds the `bench` subcommand to `program`. */
export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('run the benchmark suites (all, or one folder of bench/: sql, kv, repositories, analytics, vectors, bus, sync, backup) and write bench/results/latest.{md,json}')
    .argument('[suite]', 'one suite folder under bench/')
    .option('--quick', 'short runs and small data sets (checks that the suites work; figures are not meaningful)')
    .action(async (suite: string | undefined, o: { quick?: boolean }) => {
      const runner = join(ROOT, 'bench', 'run.ts');
      if (!existsSync(runner)) {
        throw new AicoDataError('NOT_FOUND', `no benchmark suites at ${join(ROOT, 'bench')}`, { fix: 'run it from a clone of the aico-data repository (npm ci, then npm run bench)' });
      }
      const args = ['--import', 'tsx', runner, ...(suite ? [suite] : []), ...(o.quick ? ['--quick'] : [])];
      const code = await new Promise<number>((res, rej) => {
        const child = spawn(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
        child.on('error', rej);
        child.on('exit', (c, signal) => res(c ?? (signal ? 1 : 0)));
      });
      if (code !== 0) throw new AicoDataError(code === 2 ? 'INVALID_ARGUMENT' : 'INTERNAL', `the benchmark run failed (exit ${code}); its output says which suite`, { fix: 'see the output above' });
    });
}
