#!/usr/bin/env node
/**
 * The `aico-data` command. Subcommands grow with the layers; `demo` is the README's main job.
 * Exit codes: 0 ok, 1 an AicoDataError (its code and a one-line fix are printed), 2 usage.
 */
import { AicoDataError } from '../errors.js';
import { runDemo } from './demo.js';

const USAGE = `usage: aico-data <command>

commands:
  demo [--dir DIR]   run the end-to-end demo in a fresh (or given) data folder
  help               show this text`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'demo': {
      const i = rest.indexOf('--dir');
      await runDemo({ dir: i >= 0 ? rest[i + 1] : undefined });
      return 0;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      console.error(`unknown command: ${cmd}\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof AicoDataError) {
      console.error(`error ${e.code}: ${e.message}\nfix: ${e.hint}`);
      process.exit(1);
    }
    console.error(e);
    process.exit(1);
  },
);
