/**
 * `aico-data restore <file> --dir <new folder>`: restores a backup into a missing or empty
 * folder. Every byte is authenticated first: a tampered or truncated file is `CORRUPT` (exit 6)
 * and the folder is left as it was. `--repair` then opens the folder once to refill the derived
 * stores (Chroma re-embeds the memories; DuckDB re-syncs at every first open anyway).
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { restoreBackup } from '../../backup/index.js';
import { openDataLayer } from '../../data-layer.js';
import { dataDir, masterPassword, track, type GlobalOptions } from '../context.js';
import { formatBytes, out, toJson } from '../output.js';
import { phaseProgress } from '../phase-progress.js';

/** Adds the `restore` subcommand to `program`. */
export function registerRestore(program: Command): void {
  program
    .command('restore')
    .description('restore a backup file into a new (missing or empty) folder given by --dir; tampered files are refused')
    .argument('<file>', 'the backup file')
    .option('--repair', 'then open the folder and refill Chroma from libSQL (re-embeds the memories)')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions & { json?: boolean; repair?: boolean }>();
      const dir = dataDir(opts);
      const password = await masterPassword(opts);
      const progress = phaseProgress('restore', { restore: true });
      const r = await restoreBackup({ file: resolve(file), dir, password, onProgress: progress.onProgress });
      progress.finish();
      let repaired: unknown;
      if (opts.repair) {
        const data = await openDataLayer({ dir, password, create: false });
        const untrack = track(data);
        try {
          repaired = await data.repair();
        } finally {
          untrack();
          await data.close();
        }
      }
      if (opts.json) return out(toJson({ ...r, ...(repaired ? { repaired } : {}) }));
      out(`restored ${r.files} files (${formatBytes(r.bytes)}) into ${r.dir}`);
      out(`backup ${r.backupId} of ${r.createdAt.toISOString()}, key id ${r.keyId}; schema versions ${Object.entries(r.manifest.app.schemaVersions).map(([k, v]) => `${k} v${v}`).join(', ')}`);
      out(opts.repair ? 'derived stores refilled (analytics re-synced, memories re-embedded into Chroma)' : 'analytics re-sync at the first open; run `aico-data restore ... --repair` or `data.repair()` to refill Chroma');
    });
}
