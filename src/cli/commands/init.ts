/** `aico-data init`: creates a data folder (key file, encrypted stores, core schemas). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { openDataLayer } from '../../data-layer.js';
import { invalidArgument } from '../../errors.js';
import { dataDir, KEY_FILE, masterPassword, type GlobalOptions } from '../context.js';
import { out, toJson } from '../output.js';

/** Adds the `init` subcommand to `program`. */
export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create a data folder: key file (Argon2id), encrypted stores, core schemas')
    .option('--json', 'print the result as JSON')
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions & { json?: boolean }>();
      const dir = dataDir(opts);
      if (existsSync(join(dir, KEY_FILE))) throw invalidArgument(`${dir} is already an aico-data folder (use \`aico-data status\`)`);
      const password = await masterPassword(opts, true);
      const t0 = performance.now();
      const data = await openDataLayer({ dir, password, create: true });
      try {
        const schemas = (await data.schemas.status()).filter((s) => s.state !== 'not-installed');
        const result = { dir: data.dir, keyId: data.keyId, created: data.created, schemas: schemas.map((s) => ({ name: s.name, version: s.version })), ms: Math.round(performance.now() - t0) };
        if (opts.json) return out(toJson(result));
        out(`created ${result.dir}`);
        out(`key id ${result.keyId} (public; names backups and sync peers)`);
        out(`core schemas: ${result.schemas.map((s) => `${s.name} v${s.version}`).join(', ')}`);
        out(`done in ${result.ms} ms. Keep the master password safe: without it the data cannot be read.`);
      } finally {
        await data.close();
      }
    });
}
