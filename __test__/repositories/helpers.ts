/** Opens the libSQL repositories over a real encrypted data folder in a fresh temp dir. */
import { join } from 'node:path';
import type { RecallStrategy } from '../../src/domain/index.js';
import { openDataLayer, type DataLayer } from '../../src/index.js';
import { createLibsqlRepositories, type LibsqlRepositoryLayer } from '../../src/repositories/index.js';
import { tempDir } from '../helpers/folders.js';

export const PASSWORD = 'repositories test password';

export interface OpenedRepositories extends LibsqlRepositoryLayer {
  readonly data: DataLayer;
  readonly dir: string;
  close(): Promise<void>;
}

/** Opens (or reopens, given `dir`) a data folder with the core schemas and the libSQL repositories on it. */
export async function openRepositories(options: { recall?: RecallStrategy; dir?: string } = {}): Promise<OpenedRepositories> {
  const t = options.dir ? null : tempDir('aico-repos-');
  const dir = options.dir ?? join(t!.dir, 'data');
  // No managed vector store: repository tests need no Chroma server, and tests that bring
  // their own vector store on the folder must be the only one indexing it.
  const data = await openDataLayer({ dir, password: PASSWORD, vectors: false });
  try {
    const layer = createLibsqlRepositories(data.sql, options.recall ? { recall: options.recall } : {});
    return {
      ...layer,
      data,
      dir,
      close: async () => {
        await data.close();
        t?.cleanup();
      },
    };
  } catch (e) {
    await data.close();
    t?.cleanup();
    throw e;
  }
}
