/**
 * `aico-data change-password`: rewraps the data key under a new master password (a new key
 * file, written atomically). No store is opened or re-encrypted, so it also works while the
 * app has the folder open; running processes keep working with the unchanged data key.
 *
 * The data key itself is unchanged, so any copy of the old key file (a backup, a synced or
 * copied folder) still opens today's data with the old password: the command says so, and that
 * only `rotate-keys` (a new data key) retires the old password's access.
 */
import type { Command } from 'commander';
import { invalidArgument, nativeAsync } from '../../errors.js';
import { openFolder } from '../../native/index.js';
import { dataDir, masterPassword, requireFolder, type GlobalOptions } from '../context.js';
import { out } from '../output.js';
import { NEW_PASSWORD_ENV, PASSWORD_ENV, readPassword } from '../password.js';

/** Printed after every password change (tests look for it). */
export const OLD_KEY_FILE_NOTICE =
  'note: the data key is unchanged: a copy of the old key file (aico-data.key in a backup or a copied folder) ' +
  'still opens the current data with the old password. Only `aico-data rotate-keys` retires the old password\'s access.';

/** Adds the `change-password` subcommand to `program`. */
export function registerChangePassword(program: Command): void {
  program
    .command('change-password')
    .description(`change the master password (old: ${PASSWORD_ENV} or prompt; new: ${NEW_PASSWORD_ENV} or prompt; --password-stdin: two lines)`)
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const dir = dataDir(opts);
      requireFolder(dir);
      const oldPassword = await masterPassword(opts);
      // Unlock first: a wrong old password fails before the new one is asked for.
      const folder = await nativeAsync(() => openFolder(dir, oldPassword, false));
      try {
        const newPassword = await readPassword({ prompt: 'New master password: ', env: NEW_PASSWORD_ENV, confirm: true }, opts.passwordStdin === true);
        if (newPassword === oldPassword) throw invalidArgument('the new password equals the old one');
        const t0 = performance.now();
        await nativeAsync(() => folder.changePassword(oldPassword, newPassword));
        out(`master password changed in ${Math.round(performance.now() - t0)} ms (key file rewrapped; no store re-encrypted)`);
        out(OLD_KEY_FILE_NOTICE);
      } finally {
        folder.close();
      }
    });
}
