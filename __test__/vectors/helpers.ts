/** A real data folder (real crypto from the native addon) with its vector store on a real Chroma server. */
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { openDataLayer, type DataLayer } from '../../src/index.js';
import { openVectorStore, type VectorStore, type VectorStoreOptions } from '../../src/stores/vectors/index.js';
import { tempDir } from '../helpers/folders.js';

export const PASSWORD = 'vectors test password';

export interface OpenedVectors {
  readonly data: DataLayer;
  readonly vectors: VectorStore;
  readonly dir: string;
  /** `<dir>/chroma`: everything Chroma writes. */
  readonly persistDir: string;
  /** Closes the store (stopping the server) and the data layer; keeps the folder. */
  closeStores(): Promise<void>;
  /** Closes everything and removes the folder. */
  close(): Promise<void>;
}

/** Opens a fresh folder (or `dir`) and a vector store on it; the server starts on first use. */
export async function openVectors(options: Omit<VectorStoreOptions, 'dir' | 'crypto'> & { dir?: string } = {}): Promise<OpenedVectors> {
  const t = options.dir ? null : tempDir('aico-vectors-');
  const dir = options.dir ?? join(t!.dir, 'data');
  // The store under test is opened beside the layer: the layer's own vector store and outbox
  // stay off, so that only one Chroma server (with the test's embedder) runs on the folder.
  const data = await openDataLayer({ dir, password: PASSWORD, vectors: false, outbox: false });
  let vectors: VectorStore;
  try {
    vectors = await openVectorStore({ ...options, dir, crypto: data.crypto });
  } catch (e) {
    await data.close();
    t?.cleanup();
    throw e;
  }
  const closeStores = async () => {
    await vectors.close();
    await data.close();
  };
  return {
    data,
    vectors,
    dir,
    persistDir: join(dir, 'chroma'),
    closeStores,
    close: async () => {
      await closeStores();
      t?.cleanup();
    },
  };
}

export { alive, waitFor } from '../helpers/processes.js';

/** `open` for a test file: every store it opens is closed (and its folder removed) after each test. */
export function useVectors(): typeof openVectors {
  let opened: OpenedVectors[] = [];
  afterEach(async () => {
    for (const o of opened.reverse()) await o.close();
    opened = [];
  });
  return async (...args) => {
    const o = await openVectors(...args);
    opened.push(o);
    return o;
  };
}
