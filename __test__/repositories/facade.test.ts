/**
 * The facade: `openDataLayer` exposes the repositories, the unit of work and the services
 * (wired by the data layer from `createLibsqlRepositories` and `createServices`).
 */
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { createConversation, createMessage, createUser, type Repositories, type Services, type UnitOfWork } from '../../src/domain/index.js';
import { openDataLayer, type DataLayer } from '../../src/index.js';
import { tempDir } from '../helpers/folders.js';
import { PASSWORD } from './helpers.js';

interface Facade {
  repos: Repositories;
  unitOfWork: UnitOfWork;
  services: Services;
}

let data: DataLayer | undefined;
let cleanup: (() => void) | undefined;
afterEach(async () => {
  await data?.close();
  cleanup?.();
});

it('openDataLayer exposes repos, unitOfWork and services over the encrypted store', async () => {
  const t = tempDir('aico-facade-');
  cleanup = t.cleanup;
  data = await openDataLayer({ dir: join(t.dir, 'data'), password: PASSWORD });
  const f = data as unknown as Partial<Facade>;
  expect(Object.keys(f.repos ?? {}).sort()).toEqual(['conversations', 'devices', 'memories', 'preferences', 'users']);
  expect(typeof f.unitOfWork).toBe('function');
  const { repos, unitOfWork, services } = f as Facade;

  const onboarded = await services.onboarding.onboardNewUser({ name: 'Facade Fay' });
  expect(await repos.users.get(onboarded.user.id)).toEqual(onboarded.user);

  const user = createUser({ name: 'Rollback Rita' });
  await expect(
    unitOfWork(async (tx) => {
      await tx.users.save(user);
      const chat = createConversation({ userId: user.id });
      await tx.conversations.save(chat);
      await tx.conversations.saveMessage(createMessage({ conversationId: chat.id, userId: user.id, role: 'user', content: 'gone' }));
      throw new Error('abort');
    }),
  ).rejects.toThrow('abort');
  expect(await repos.users.get(user.id)).toBeUndefined();
  // The rows are in the data layer's own SQL store.
  expect(await data.sql.queryOne('SELECT name FROM users WHERE id = ?', [onboarded.user.id])).toEqual({ name: 'Facade Fay' });
});
