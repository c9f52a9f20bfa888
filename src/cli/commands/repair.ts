/**
 * `aico-data repair`: salvages a damaged KV store (RocksDB) with RocksDB's own repair, or
 * rebuilds it empty, keeping the damaged files aside (still sealed), and reports per namespace
 * how many records were lost and which queue messages could not be recovered.
 */
import type { Command } from 'commander';
import type { KvRepairReport } from '../../stores/kv/index.js';
import { withDataLayer, type GlobalOptions } from '../context.js';
import { formatTable, out, toJson } from '../output.js';

/** Prints a report for people. */
export function printRepair(r: KvRepairReport): void {
  if (r.method === 'none') {
    out('kv: no KV store in this folder: nothing to repair');
    return;
  }
  out(r.openError ? `kv: the store did not open: ${r.openError}` : 'kv: the store opened; every record was checked');
  out(
    r.method === 'rebuild'
      ? 'kv: RocksDB could not salvage it: rebuilt empty (the primary data is in libSQL and untouched)'
      : 'kv: salvaged with RocksDB repair',
  );
  out(`damaged files kept (still sealed) in ${r.damagedCopy}`);
  // Without a count from before (the damaged store could not be read at all) the loss is unknown:
  // saying 0 would be a false all-clear.
  out(formatTable(r.namespaces.map((n) => ({ namespace: n.name, before: n.before ?? 'unknown', after: n.after, unreadable: n.unreadable, lost: n.before == null ? `unknown (at least ${n.unreadable})` : n.lost }))));
  if (r.lostMessages.length > 0) out(`queue messages lost: ${r.lostMessages.join(', ')}`);
  else out(r.lostMessagesComplete ? 'queue messages lost: none' : 'queue messages lost: none found unreadable (the damaged queue could not be listed: messages RocksDB dropped whole are not known by id)');
  out(`WAL recovery mode: ${r.walRecovery}`);
}

/** Adds the `repair` subcommand to `program`. */
export function registerRepair(program: Command): void {
  program
    .command('repair')
    .description('salvage a damaged KV store (RocksDB repair or rebuild); damaged files are kept aside')
    .option('--json', 'print the report as JSON')
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions & { json?: boolean }>();
      // kv: false: the store must not be open while RocksDB repairs it; the outbox stays off too
      // (it would record cache work as skipped for a store that is about to come back).
      const report = await withDataLayer(opts, (data) => data.repairKv(), { kv: false, outbox: false, vectors: false, analytics: false });
      if (opts.json) out(toJson(report));
      else printRepair(report);
    });
}
