/**
 * `aico-data plugins list|activate|deactivate|remove`: the plugin schema lifecycle. Plugin
 * schemas are registered in code (`defineSchema`), so `activate` and `remove` need the module
 * that registers them: `--plugin FILE` (repeatable) imports it first.
 */
import type { Command } from 'commander';
import { invalidArgument } from '../../errors.js';
import { withDataLayer, type GlobalOptions } from '../context.js';
import { formatTable, out, toJson } from '../output.js';

interface Flags extends GlobalOptions {
  json?: boolean;
  yes?: boolean;
}

/** Adds the `plugins` subcommand to `program`. */
export function registerPlugins(program: Command): void {
  const plugins = program
    .command('plugins')
    .description('list, activate, deactivate or remove plugin schemas (load their modules with --plugin FILE)');

  plugins
    .command('list')
    .description('registered and installed plugins with their versions and state')
    .option('--json', 'print as JSON')
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<Flags>();
      await withDataLayer(
        opts,
        async (data) => {
          const rows = (await data.schemas.status())
            .filter((s) => s.type === 'plugin')
            .map((s) => ({ name: s.name, state: s.state, version: s.version, latest: s.latest ?? 'unregistered', pending: s.pending, drift: s.drift.join(',') || '-' }));
          if (opts.json) return out(toJson(rows));
          out(rows.length === 0 ? 'no plugins registered or installed (load plugin modules with --plugin FILE)' : formatTable(rows));
        },
        { analytics: false },
      );
    });

  plugins
    .command('activate')
    .description("apply the plugin's pending versions and mark it active")
    .argument('<name>')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<Flags>();
      await withDataLayer(
        opts,
        async (data) => {
          const r = await data.schemas.activatePlugin(name);
          out(`plugin ${name} active${r.applied.length ? ` (applied ${r.applied.map((s) => `v${s.version} ${s.name}`).join(', ')})` : ''}`);
        },
        { analytics: false },
      );
    });

  plugins
    .command('deactivate')
    .description('mark the plugin inactive; its tables and data stay')
    .argument('<name>')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<Flags>();
      await withDataLayer(
        opts,
        async (data) => {
          await data.schemas.deactivatePlugin(name);
          out(`plugin ${name} inactive (data kept)`);
        },
        { analytics: false },
      );
    });

  plugins
    .command('remove')
    .description("undo every version of the plugin, deleting its tables and data (needs --yes)")
    .argument('<name>')
    .option('--yes', 'confirm that the plugin data is deleted')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<Flags>();
      if (!opts.yes) throw invalidArgument(`removing plugin ${name} deletes its tables and data: add --yes to confirm`);
      await withDataLayer(
        opts,
        async (data) => {
          const r = await data.schemas.removePlugin(name, { dropData: true });
          out(`plugin ${name} removed (${r.applied.length} version(s) undone)`);
        },
        { analytics: false },
      );
    });
}
