/**
 * `aico-data migrate [component] [--to N] [--plan]`: shows or applies schema migrations.
 *
 * It opens the libSQL store alone (not the whole data layer) because opening the data layer
 * applies pending core versions itself: here the plan must be visible before anything runs.
 * Without a component it applies what an open would (core schemas, then active plugins);
 * with one and `--to N` it moves that component up or down to version N (0 undoes all).
 */
import type { Command } from 'commander';
import { invalidArgument, native, nativeAsync } from '../../errors.js';
import { openFolder } from '../../native/index.js';
import { defaultRegistry, SchemaManager, type MigrationResult, type PlanStep } from '../../schema/index.js';
import { SqlStore } from '../../stores/sql/index.js';
import { dataDir, loadPlugins, masterPassword, requireFolder, type GlobalOptions } from '../context.js';
import { formatTable, out, toJson } from '../output.js';

interface MigrateFlags extends GlobalOptions {
  to?: number;
  plan?: boolean;
  json?: boolean;
}

function stepRows(steps: readonly PlanStep[]) {
  return steps.map((s) => ({ component: s.component, type: s.type, version: s.version, name: s.name, direction: s.direction, change: `${s.from} -> ${s.to}`, statements: s.statements.length }));
}

function parseVersion(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw invalidArgument(`--to must be a version number >= 0, got ${JSON.stringify(v)}`);
  return n;
}

/** Adds the `migrate` subcommand to `program`. */
export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('show (--plan) or apply pending schema versions; with a component and --to N, migrate it up or down to N')
    .argument('[component]', 'one schema component (core or plugin); default: everything pending')
    .option('--to <version>', 'target version of the component (0 undoes every version)', parseVersion)
    .option('--plan', 'print what would run, run nothing')
    .option('--json', 'print the plan or result as JSON')
    .addHelpText(
      'after',
      '\nEvery open of the data layer applies what is pending for core schemas and active plugins, so a component\nmigrated below its latest registered version goes back up at the next open: deactivate a plugin to keep it down.',
    )
    .action(async (component: string | undefined, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<MigrateFlags>();
      if (opts.to !== undefined && component === undefined) throw invalidArgument('--to needs a component: `aico-data migrate <component> --to N` (versions are per component)');
      const dir = dataDir(opts);
      requireFolder(dir);
      await loadPlugins(opts);
      const password = await masterPassword(opts);
      const folder = await nativeAsync(() => openFolder(dir, password, false));
      const sql = new SqlStore(native(() => folder.openSql()));
      try {
        const schemas = new SchemaManager(sql, defaultRegistry);
        const target = opts.to !== undefined ? { target: opts.to } : {};
        if (opts.plan) {
          const steps = await schemas.plan(component !== undefined ? { component, ...target } : {});
          if (opts.json) return out(toJson({ plan: steps }));
          if (steps.length === 0) return out('nothing to migrate: every schema is at its target version');
          out(formatTable(stepRows(steps)));
          out(`\n${steps.length} step(s) would run; nothing was changed`);
          return;
        }
        const result: MigrationResult = component !== undefined ? await schemas.migrate(component, target) : await schemas.applyPending();
        if (opts.json) return out(toJson(result));
        if (result.applied.length === 0) out(result.skipped.length > 0 ? 'another process applied the pending versions meanwhile' : 'nothing to migrate: every schema is at its target version');
        else {
          out(formatTable(stepRows(result.applied)));
          out(`\napplied ${result.applied.length} step(s)`);
        }
      } finally {
        sql.close();
        folder.close();
      }
    });
}
