import { join } from 'node:path';
import { openDataLayer, type DataLayer, type OpenDataLayerOptions } from '../../src/index.js';
import { tempDir } from '../helpers/folders.js';

export const PASSWORD = 'outbox test password';

const opened: { data: DataLayer; cleanup?: () => void }[] = [];

/** Opens a data folder with every store on (libSQL, DuckDB, RocksDB, Chroma); closed by {@link closeAll}. */
export async function openAll(options: Partial<OpenDataLayerOptions> & { dir?: string } = {}): Promise<{ data: DataLayer; dir: string }> {
  const t = options.dir ? undefined : tempDir('aico-outbox-');
  const dir = options.dir ?? join(t!.dir, 'data');
  const data = await openDataLayer({ password: PASSWORD, ...options, dir });
  opened.push({ data, ...(t ? { cleanup: t.cleanup } : {}) });
  return { data, dir };
}

/** Closes every layer opened by {@link openAll} (newest first) and removes their temp folders. */
export async function closeAll(): Promise<void> {
  const all = opened.splice(0).reverse();
  for (const o of all) await o.data.close();
  for (const o of all) o.cleanup?.();
}

export async function seedUser(data: DataLayer, name = 'Ana'): Promise<{ userId: string; conversationId: string }> {
  const r = await data.services.onboarding.onboardNewUser({ name });
  return { userId: r.user.id, conversationId: r.conversation.id };
}

export { alive } from '../helpers/processes.js';
