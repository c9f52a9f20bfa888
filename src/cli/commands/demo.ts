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
    .description('end-to-end demo in a fresh data folder: onboarding, 50,000 messages over 90 days, memories and recall, analytics reports, cache; timed steps')
    .option('--messages <n>', 'messages to ingest, exactly (default 50000)', wholeNumber('--messages'))
    .option('--days <n>', 'days of history (default 90)', wholeNumber('--days'))
    .option('--keep', 'keep the data folder (without it the demo removes what it created, also with --dir)')
    .addHelpText('after', '\nThe global --dir names the folder to create (it must not exist or be empty); AICO_DATA_DIR is ignored so that the demo never writes into real data. The folder\'s password is AICO_DATA_PASSWORD when set (else AICO_DEMO_PASSWORD, else "demo password: change me"). The step times it prints are this machine\'s, at its current load: they are printed with the load average.')
    .action(async (o: { messages?: number; days?: number; keep?: boolean }, cmd: Command) => {
      const { dir } = cmd.optsWithGlobals<{ dir?: string }>();
      await runDemo({ ...(dir ? { dir } : {}), ...o });
    });
}
