/**
 * `aico-data rotate-keys`: re-encrypts every store under a new data key (same password). The
 * folder must not be open elsewhere (`LOCKED`, exit 5). Crash-safe: an interrupted rotation is
 * finished by the next open.
 */
import type { Command } from 'commander';
import { invalidArgument } from '../../errors.js';
import { withDataLayer, type GlobalOptions } from '../context.js';
import { out, toJson } from '../output.js';
import { phaseProgress } from '../phase-progress.js';

/** Adds the `rotate-keys` subcommand to `program`. */
export function registerRotateKeys(program: Command): void {
  program
    .command('rotate-keys')
    .description('re-encrypt every store under a new data key (the password stays); needs --yes and the folder closed elsewhere')
    .option('--yes', 'confirm: old backups stay readable with the old key; delete them to retire it')
    .option('--json', 'print the result as JSON')
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions & { json?: boolean; yes?: boolean }>();
      if (!opts.yes) throw invalidArgument('rotating the keys rewrites every store: add --yes to confirm');
      await withDataLayer(
        opts,
        async (data) => {
          const progress = phaseProgress('rotate', {});
          // rotateKeys closes the layer itself; withDataLayer's close is then a no-op.
          const r = await data.rotateKeys({ onProgress: progress.onProgress });
          progress.finish();
          if (opts.json) return out(toJson(r));
          out(`data key ${r.oldKeyId} -> ${r.newKeyId}${r.resumed ? ' (finished an interrupted rotation)' : ''}`);
          out(`re-encrypted ${r.sqlPages.toLocaleString('en-US')} libSQL pages and ${r.kvRecords.toLocaleString('en-US')} KV records; rebuilt later: ${r.dropped.join(', ') || 'nothing'}`);
        },
        { analytics: false, vectors: false },
      );
    });
}
