/**
 * `aico-data backup <file>`: one encrypted, authenticated backup file of the data folder,
 * taken while it stays open (another process may keep writing; see `DataLayer.backup`).
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { withDataLayer, type GlobalOptions } from '../context.js';
import { formatBytes, out, toJson } from '../output.js';
import { phaseProgress } from '../phase-progress.js';

/** Adds the `backup` subcommand to `program`. */
export function registerBackup(program: Command): void {
  program
    .command('backup')
    .description('write one encrypted, authenticated backup file (libSQL, KV, key file, schema versions) while the folder stays in use')
    .argument('<file>', 'the backup file to create (must not exist)')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions & { json?: boolean }>();
      await withDataLayer(
        opts,
        async (data) => {
          const progress = phaseProgress('backup', { write: true }, 'records');
          const r = await data.backup(resolve(file), { onProgress: progress.onProgress });
          progress.finish();
          if (opts.json) return out(toJson(r));
          out(`wrote ${r.file}: ${formatBytes(r.bytes)}, ${r.files} files, ${r.sqlPages.toLocaleString('en-US')} libSQL pages`);
          out(`key id ${r.keyId}, backup id ${r.backupId}, taken ${r.createdAt.toISOString()}`);
          out('restore it with `aico-data restore FILE --dir NEW_DIR` and the password of today');
        },
        { analytics: false, vectors: false },
      );
    });
}
