/**
 * `aico-data recall <text>`: the user's memories most relevant to `text` (vector similarity
 * fused with FTS5 keyword rank; keyword only when vectors are off or `--keyword`).
 */
import type { Command } from 'commander';
import type { DataLayer } from '../../data-layer.js';
import { AicoDataError, invalidArgument } from '../../errors.js';
import { withDataLayer, type GlobalOptions } from '../context.js';
import { formatTable, out, toJson } from '../output.js';
import { requireUser } from '../users.js';

interface Flags extends GlobalOptions {
  user?: string;
  limit?: number;
  keyword?: boolean;
  json?: boolean;
}

/** `--user`, or the folder's only user. */
async function userOf(data: DataLayer, given: string | undefined): Promise<string> {
  if (given !== undefined) {
    await requireUser(data, given);
    return given;
  }
  const users = await data.sql.query<{ id: string }>('SELECT id FROM users LIMIT 2');
  if (users.length === 1) return users[0]!.id;
  if (users.length === 0) throw new AicoDataError('NOT_FOUND', 'the data folder has no users yet', { fix: 'onboard a user first (or run `aico-data demo --dir DIR`)' });
  throw invalidArgument('the folder has several users: pass --user ID', { fix: 'pass --user ID (list the ids with `aico-data users`)' });
}

/** Adds the `recall` subcommand to `program`. */
export function registerRecall(program: Command): void {
  program
    .command('recall')
    .description("a user's memories most relevant to the text (hybrid: vectors + keywords)")
    .argument('<text>', 'what to recall context for')
    .option('--user <id>', "whose memories (default: the folder's only user)")
    .option('--limit <n>', 'at most this many memories (1-100)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 100) throw invalidArgument(`--limit must be 1-100, got ${JSON.stringify(v)}`);
      return n;
    })
    .option('--keyword', 'keyword (FTS5) recall only: no Chroma server is started')
    .option('--json', 'print hits as JSON')
    .action(async (text: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<Flags>();
      await withDataLayer(
        opts,
        async (data) => {
          const userId = await userOf(data, opts.user);
          const hits = await data.memories.recall(text, { userId, limit: opts.limit ?? 5 });
          if (opts.json) return out(toJson(hits.map((h) => ({ score: h.score, id: h.item.id, type: h.item.type, importance: h.item.importance, content: h.item.content }))));
          if (hits.length === 0) return out('no memory matches');
          out(formatTable(hits.map((h) => ({ score: h.score, type: h.item.type, importance: h.item.importance, content: h.item.content }))));
        },
        { analytics: false, ...(opts.keyword ? { vectors: false as const } : {}) },
      );
    });
}
