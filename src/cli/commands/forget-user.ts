/**
 * `aico-data forget-user <id> --yes`: removes a user and everything of theirs from every store
 * (libSQL, Chroma, DuckDB, RocksDB) through the outbox, then prints what is left (nothing, or
 * exit 8). `aico-data status --user <id>` shows the same proof later.
 */
import type { Command } from 'commander';
import { invalidArgument } from '../../errors.js';
import { CheckFailed } from '../failure.js';
import { withDataLayer, type GlobalOptions } from '../context.js';
import { out, toJson } from '../output.js';
import { unknownUser, userExists } from '../users.js';

/** One line per store of a forget status. */
export function formatForgetStatus(s: { userId: string; clean: boolean; libsql: Record<string, number>; chroma: number | null; duckdb: Record<string, number> | null; rocksdb: number; outboxPending: number; residue?: readonly string[] }): string {
  const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  return [
    `user ${s.userId}: ${s.clean ? 'nothing left in any store' : 'data left'}`,
    `  libSQL   ${Object.entries(s.libsql).map(([t, n]) => `${t} ${n}`).join(', ')}`,
    `  Chroma   ${s.chroma === null ? 'off' : `${s.chroma} memories`}`,
    `  DuckDB   ${s.duckdb === null ? 'off' : `${sum(s.duckdb)} rows`}`,
    `  RocksDB  ${s.rocksdb} keys`,
    `  outbox   ${s.outboxPending} pending`,
    // Bytes on disk that still name the user (what forgetUser could not scrub, and until when).
    ...(s.residue ?? []).map((r) => `  on disk  ${r}`),
  ].join('\n');
}

/** Adds the `forget-user` subcommand to `program`. */
export function registerForgetUser(program: Command): void {
  program
    .command('forget-user')
    .description("remove a user and all their data from every store (crash-safe through the outbox; needs --yes)")
    .argument('<userId>')
    .option('--yes', 'confirm: this deletes the user for good')
    .option('--json', 'print what is left as JSON')
    .action(async (userId: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions & { yes?: boolean; json?: boolean }>();
      if (!opts.yes) throw invalidArgument(`forgetting user ${userId} deletes all their data: add --yes to confirm`);
      await withDataLayer(opts, async (data) => {
        // An id that names no user and has nothing left anywhere is a typo, not a success. A
        // user row already gone with data left elsewhere (an interrupted forget) is finished.
        if (!(await userExists(data, userId)) && (await data.forgetStatus(userId)).clean) {
          throw unknownUser(userId, ' (nothing of that id is in any store): nothing was deleted');
        }
        const left = await data.forgetUser(userId);
        if (opts.json) out(toJson(left));
        else out(formatForgetStatus(left));
        if (!left.clean) throw new CheckFailed(`forget-user: data of ${userId} is still present (the next open finishes the outbox; run status --user ${userId})`);
      });
    });
}
