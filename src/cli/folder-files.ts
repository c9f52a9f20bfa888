/**
 * What a data folder holds on disk, by store: the key file, libSQL (`aico.db` and its WAL),
 * the analytics snapshot, RocksDB (`kv/`), Chroma (`chroma/`). Names follow
 * `crates/aico-data-core/src/folder.rs` and the stores' own constants.
 */
import { existsSync, readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';

/** The folder's key file name (see `crates/aico-data-core/src/folder.rs`). */
export const KEY_FILE = 'aico-data.key';
/** The environment variable naming the data folder. */
export const DIR_ENV = 'AICO_DATA_DIR';

/** One store's files. */
export interface StoreFiles {
  store: 'key file' | 'sql (libSQL)' | 'analytics snapshot' | 'kv (RocksDB)' | 'vectors (Chroma)' | 'other';
  files: number;
  bytes: number;
}

function walk(path: string): { files: number; bytes: number } {
  // A running store creates and removes files meanwhile (Chroma's journal, RocksDB's temp files).
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { files: 0, bytes: 0 };
    throw e;
  }
  if (!st.isDirectory()) return { files: st.isFile() ? 1 : 0, bytes: st.isFile() ? st.size : 0 };
  let files = 0;
  let bytes = 0;
  let names: string[];
  try {
    names = readdirSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { files: 0, bytes: 0 };
    throw e;
  }
  for (const name of names) {
    const r = walk(join(path, name));
    files += r.files;
    bytes += r.bytes;
  }
  return { files, bytes };
}

function storeOf(name: string): StoreFiles['store'] {
  if (name === KEY_FILE) return 'key file';
  if (name === 'aico.db' || name.startsWith('aico.db-')) return 'sql (libSQL)';
  if (name.startsWith('analytics.snapshot')) return 'analytics snapshot';
  if (name === 'kv') return 'kv (RocksDB)';
  if (name === 'chroma') return 'vectors (Chroma)';
  return 'other';
}

/** Files and bytes of each store in `dir` (stores without files are left out). */
export function storeFiles(dir: string): StoreFiles[] {
  const acc = new Map<StoreFiles['store'], StoreFiles>();
  if (!existsSync(dir)) return [];
  for (const name of readdirSync(dir)) {
    const store = storeOf(name);
    const r = walk(join(dir, name));
    const cur = acc.get(store) ?? { store, files: 0, bytes: 0 };
    cur.files += r.files;
    cur.bytes += r.bytes;
    acc.set(store, cur);
  }
  const order: StoreFiles['store'][] = ['key file', 'sql (libSQL)', 'analytics snapshot', 'kv (RocksDB)', 'vectors (Chroma)', 'other'];
  return order.filter((s) => acc.has(s)).map((s) => acc.get(s)!);
}
