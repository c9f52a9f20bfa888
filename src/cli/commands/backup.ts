/**
 * `aico-data backup <file>`: one encrypted, authenticated backup file of the data folder.
 *
 * The limit: while another process (the app) has the folder open, this command reads libSQL
 * fine (SQLite's backup API reads through the WAL) but gets only a read-only follower of the
 * RocksDB store, and RocksDB cannot checkpoint one. The command then fails with `LOCKED` and
 * says what to do instead: back up from inside the app (`data.backup(file)`, which runs while
 * the folder is in use), close the app first, or `--skip-kv` (libSQL + key file, no KV store).
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { AicoDataError } from '../../errors.js';
import { withDataLayer, type GlobalOptions } from '../context.js';
import { formatBytes, out, toJson } from '../output.js';
import { phaseProgress } from '../phase-progress.js';

/** Adds the `backup` subcommand to `program`. */
export function registerBackup(program: Command): void {
  program
    .command('backup')
    .description('write one encrypted, authenticated backup file (libSQL, KV, key file, schema versions)')
    .argument('<file>', 'the backup file to create (must not exist)')
    .option('--json', 'print the result as JSON')
    .option('--skip-kv', 'leave the KV store (RocksDB: caches, sessions, queues) out: works while another process holds the folder')
    .addHelpText(
      'after',
      `
While another process (the app) has the folder open, the KV store cannot be copied from here:
the command fails with LOCKED (exit 5). Then either back up from inside the app with
data.backup(file) (it runs while the folder is in use), close the app and retry, or pass
--skip-kv for a backup of libSQL and the key file without the KV store.`,
    )
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions & { json?: boolean; skipKv?: boolean }>();
      await withDataLayer(
        opts,
        async (data) => {
          if (data.kv.readOnly) {
            throw new AicoDataError('LOCKED', 'another process has this data folder open: its KV store (RocksDB) can only be read, not checkpointed, from here', { dir: data.dir }, {
              hint: 'back up from inside the app with data.backup(file), which runs while the folder is in use',
              cliHint: 'back up from inside the app (data.backup(file) runs while the folder is in use), close the app and retry, or add --skip-kv to back up libSQL and the key file without the KV store',
            });
          }
          const progress = phaseProgress('backup', { write: true }, 'records');
          let r: Awaited<ReturnType<typeof data.backup>>;
          try {
            r = await data.backup(resolve(file), { onProgress: progress.onProgress });
          } finally {
            progress.finish();
          }
          if (opts.json) return out(toJson(r));
          out(`wrote ${r.file}: ${formatBytes(r.bytes)}, ${r.files} files, ${r.sqlPages.toLocaleString('en-US')} libSQL pages${opts.skipKv ? ' (without the KV store: --skip-kv)' : ''}`);
          out(`key id ${r.keyId}, backup id ${r.backupId}, taken ${r.createdAt.toISOString()}`);
          out('restore it with `aico-data restore FILE --dir NEW_DIR` and the password of today');
        },
        { analytics: false, vectors: false, ...(opts.skipKv ? { kv: false as const } : {}) },
      );
    });
}
