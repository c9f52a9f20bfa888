/**
 * What every subcommand shares: the global options, where the data folder is, how the
 * password is obtained, plugin modules to load, and opening/closing the data layer so that
 * Ctrl-C still closes the stores (RocksDB must be closed explicitly).
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openDataLayer, type DataLayer, type OpenDataLayerOptions } from '../data-layer.js';
import { AicoDataError, invalidArgument } from '../errors.js';
import { DIR_ENV, KEY_FILE } from './folder-files.js';
import { PASSWORD_ENV, readPassword } from './password.js';

export { DIR_ENV, KEY_FILE };

/** Options every subcommand accepts. */
export interface GlobalOptions {
  dir?: string;
  passwordStdin?: boolean;
  plugin?: string[];
}

/** The data folder from `--dir` or `AICO_DATA_DIR`. */
export function dataDir(opts: GlobalOptions): string {
  const dir = opts.dir ?? process.env[DIR_ENV];
  if (!dir) throw invalidArgument('no data folder given', { fix: `pass --dir DIR or set ${DIR_ENV}` });
  return resolve(dir);
}

/** Throws `NOT_FOUND` (with the fix) when `dir` holds no aico-data key file. */
export function requireFolder(dir: string): void {
  if (!existsSync(join(dir, KEY_FILE))) {
    const what = existsSync(dir) ? (statSync(dir).isDirectory() ? 'has no key file' : 'is not a folder') : 'does not exist';
    throw new AicoDataError('NOT_FOUND', `${dir} is not an aico-data folder: it ${what}`, {
      dir,
      fix: `create one with \`aico-data init --dir ${dir}\`, or point --dir / ${DIR_ENV} at an existing data folder`,
    });
  }
}

/** The master password (`--password-stdin`, `AICO_DATA_PASSWORD`, or a hidden prompt). */
export function masterPassword(opts: GlobalOptions, confirm = false): Promise<string> {
  return readPassword({ prompt: 'Master password: ', env: PASSWORD_ENV, confirm }, opts.passwordStdin === true);
}

/**
 * Imports the modules given with `--plugin FILE`: each registers plugin schemas with
 * `defineSchema` from `aico-data` when imported (the command itself knows only the core ones).
 */
export async function loadPlugins(opts: GlobalOptions): Promise<void> {
  for (const file of opts.plugin ?? []) {
    const path = isAbsolute(file) ? file : resolve(file);
    if (!existsSync(path)) throw new AicoDataError('NOT_FOUND', `plugin module ${path} does not exist`, { fix: 'pass the path of a module that calls defineSchema' });
    await import(pathToFileURL(path).href);
  }
}

const open = new Set<DataLayer>();

/** Registers an open data layer for {@link closeAll}; returns the function that unregisters it. */
export function track(data: DataLayer): () => void {
  open.add(data);
  return () => open.delete(data);
}

/** Closes every data layer this process opened (Ctrl-C, fatal errors). */
export async function closeAll(): Promise<void> {
  await Promise.all([...open].map((d) => d.close().catch(() => undefined)));
  open.clear();
}

/**
 * Opens the existing data folder named by the global options (after loading plugin modules),
 * runs `fn`, and closes it whatever happens. With `analytics: false` or `vectors: false` the
 * outbox dispatcher stays off (unless `outbox` is given).
 */
export async function withDataLayer<T>(
  opts: GlobalOptions,
  fn: (data: DataLayer) => Promise<T>,
  openOptions: Omit<OpenDataLayerOptions, 'dir' | 'password'> = {},
): Promise<T> {
  const dir = dataDir(opts);
  requireFolder(dir);
  await loadPlugins(opts);
  const password = await masterPassword(opts);
  // An open without some derived store must not run the outbox: the dispatcher would mark rows
  // done for the stores it lacks. The rows then wait for the next full open.
  const partial = openOptions.analytics === false || openOptions.vectors === false;
  const data = await openDataLayer({ ...(partial ? { outbox: false as const } : {}), ...openOptions, dir, password, create: false });
  const untrack = track(data);
  try {
    return await fn(data);
  } finally {
    untrack();
    await data.close();
  }
}
