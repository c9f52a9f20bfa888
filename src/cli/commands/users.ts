/**
 * `aico-data users [--json]`: the ids that `--user ID` and `forget-user ID` take, with each
 * user's name, creation time, and message and memory counts.
 */
import type { Command } from 'commander';
import { withDataLayer, type GlobalOptions } from '../context.js';
import { formatTable, out, toJson } from '../output.js';
import { listUsers } from '../users.js';

/** Adds the `users` subcommand to `program`. */
export function registerUsers(program: Command): void {
  program
    .command('users')
    .description('the users of the folder: id, name, created, message and memory counts')
    .option('--json', 'print the users as JSON')
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions & { json?: boolean }>();
      await withDataLayer(
        opts,
        async (data) => {
          const users = await listUsers(data);
          if (opts.json) return out(toJson(users));
          if (users.length === 0) return out('no users yet (onboard one from the app, or run `aico-data demo --dir DIR`)');
          const columns = ['id', 'name', 'created', 'messages', 'memories', ...(users.some((u) => u.deleted) ? ['deleted'] : [])];
          out(formatTable(users.map((u) => ({ ...u, deleted: u.deleted ?? '-' })), columns));
        },
        { analytics: false, vectors: false },
      );
    });
}
