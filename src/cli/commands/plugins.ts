/**
 * `aico-data plugins list|activate|deactivate|remove`: the plugin schema lifecycle. Plugin
 * schemas are registered in code (`defineSchema`), so `activate` and `remove` need the module
 * that registers them: `--plugin FILE` (repeatable) imports it first.
 */
import type { Command } from 'commander';
import { AicoDataError, invalidArgument, isAicoError } from '../../errors.js';
import { withDataLayer, type GlobalOptions } from '../context.js';
import { formatTable, out, toJson } from '../output.js';

interface Flags extends GlobalOptions {
  json?: boolean;
  yes?: boolean;
}

/**
 * Runs a plugin operation; an unregistered plugin becomes a `NOT_FOUND` whose fix says what a
 * CLI user does about it: load the module that registers it (`--plugin FILE`).
 */
async function withPluginHint<T>(name: string, opts: Flags, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!isAicoError(e, 'NOT_FOUND') || e.details?.plugin !== name) throw e;
    const loaded = opts.plugin ?? [];
    const cliHint =
      loaded.length === 0
        ? `load the plugin module with --plugin FILE (the module that calls defineSchema for ${name}): aico-data --plugin FILE plugins ...`
        : `none of the loaded modules (${loaded.join(', ')}) registers a plugin named ${name}: check the name, or add --plugin FILE for its module`;
    throw new AicoDataError('NOT_FOUND', e.message, e.details as Record<string, unknown>, { cause: e, cliHint });
  }
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
          const r = await withPluginHint(name, opts, () => data.schemas.activatePlugin(name));
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
          await withPluginHint(name, opts, () => data.schemas.deactivatePlugin(name));
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
          const r = await withPluginHint(name, opts, () => data.schemas.removePlugin(name, { dropData: true }));
          out(`plugin ${name} removed (${r.applied.length} version(s) undone)`);
        },
        { analytics: false },
      );
    });
}
