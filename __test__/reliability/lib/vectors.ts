/** The data layer's own vector store (`data.vectors`), or, where it is not wired, one opened on the folder. */
import type { DataLayer } from '../../../src/index.js';
import { openVectorStore, type VectorStore, type VectorStoreOptions } from '../../../src/stores/vectors/index.js';

export interface OpenedVectors {
  store: VectorStore;
  /** Closes the store if this helper opened it (the data layer closes its own). */
  release(): Promise<void>;
}

export async function vectorsOf(data: DataLayer, options: Omit<VectorStoreOptions, 'dir' | 'crypto'> = {}): Promise<OpenedVectors> {
  const own = (data as unknown as { vectors?: VectorStore }).vectors;
  if (own) return { store: own, release: async () => undefined };
  const store = await openVectorStore({ ...options, dir: data.dir, crypto: data.crypto });
  return { store, release: () => store.close() };
}
