/** `aico-data demo`: the end-to-end demo (the README's main job), in a fresh data folder. */
import type { Command } from 'commander';
import { invalidArgument } from '../../errors.js';
import { runDemo } from '../demo.js';

function wholeNumber(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n)) throw invalidArgument(`${name} must be a whole number, got ${JSON.stringify(v)}`);
    return n;
  };
}

/** Adds the `demo` subcommand to `program`. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('end-to-end demo in a fresh data folder: onboarding, 50k messages over 90 days, memories and recall, analytics reports, cache')
    .option('--messages <n>', 'messages to ingest (default 50000)', wholeNumber('--messages'))
    .option('--days <n>', 'days of history (default 90)', wholeNumber('--days'))
    .option('--keep', 'keep the temporary data folder')
    .addHelpText('after', '\nThe global --dir names the folder to create (it must not exist or be empty); AICO_DATA_DIR is ignored so that the demo never writes into real data.')
    .action(async (o: { messages?: number; days?: number; keep?: boolean }, cmd: Command) => {
      const { dir } = cmd.optsWithGlobals<{ dir?: string }>();
      await runDemo({ ...(dir ? { dir } : {}), ...o });
    });
}
