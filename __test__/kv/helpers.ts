import { join } from 'node:path';
import { expect } from 'vitest';
import { openFolder, type NativeFolder } from '../../src/native/index.js';
import { type KvStore, MemoryKvStore, openKvStore, type KvOptions, type KvStoreLike } from '../../src/stores/kv/index.js';
import { tempDir } from '../helpers/folders.js';

export const PASSWORD = 'kv test password';

/** A fresh data folder with its RocksDB KV store; `close` releases both and deletes the files. */
export interface Opened {
  kv: KvStoreLike;
  folder?: NativeFolder;
  dir?: string;
  reopen(options?: KvOptions): Promise<KvStore>;
  close(): void;
}

export async function openRocks(options?: KvOptions): Promise<Opened> {
  const t = tempDir('aico-kv-');
  const dir = join(t.dir, 'data');
  const folder = await openFolder(dir, PASSWORD, true, undefined);
  const opened: KvStore[] = [await openKvStore(folder, options)];
  return {
    kv: opened[0]!,
    folder,
    dir,
    async reopen(o?: KvOptions) {
      const kv = await openKvStore(folder, o);
      opened.push(kv);
      return kv;
    },
    close() {
      for (const kv of opened) kv.close();
      folder.close();
      t.cleanup();
    },
  };
}

export async function openMemory(): Promise<Opened> {
  const kv = new MemoryKvStore();
  return {
    kv,
    reopen: () => Promise.reject(new Error('the memory store does not reopen')),
    close: () => kv.close(),
  };
}

/** Both implementations, for contract tests. */
export const STORES: Array<[string, () => Promise<Opened>]> = [
  ['rocksdb', () => openRocks()],
  ['memory', openMemory],
];

export function expectCode(fn: () => unknown, code: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected ${code}`).toBeDefined();
  expect((thrown as { code?: string }).code, String(thrown)).toBe(code);
  expect((thrown as Error).name).toBe('AicoDataError');
}

export async function expectCodeAsync(p: Promise<unknown>, code: string): Promise<void> {
  await expect(p).rejects.toMatchObject({ code, name: 'AicoDataError' });
}

export const text = (b: Buffer | undefined) => b?.toString('utf8');
