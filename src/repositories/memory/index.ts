import { invalidArgument } from '../../errors.js';
import type { RecallStrategy, Repositories, UnitOfWork } from '../../domain/index.js';
import { InMemoryConversationRepository } from './conversation-repository.js';
import { InMemoryDatabase, type MemorySession } from './database.js';
import { InMemoryDeviceRepository } from './device-repository.js';
import { InMemoryMemoryRepository } from './memory-repository.js';
import { InMemoryPreferencesRepository } from './preferences-repository.js';
import { InMemoryUserRepository } from './user-repository.js';

export { InMemoryDatabase, MemorySession } from './database.js';
export { InMemoryKeywordRecall } from './keyword-recall.js';
export {
  InMemoryConversationRepository,
  InMemoryDeviceRepository,
  InMemoryMemoryRepository,
  InMemoryPreferencesRepository,
  InMemoryUserRepository,
};

/** Options of {@link createMemoryRepositories}. */
export interface MemoryRepositoriesOptions {
  /** How memories are recalled (default: keyword BM25 over the in-memory memories). */
  readonly recall?: RecallStrategy;
}

/** The in-memory twin: repositories and their unit of work over one {@link InMemoryDatabase}. */
export interface MemoryRepositoryLayer {
  readonly database: InMemoryDatabase;
  readonly repos: Repositories;
  readonly unitOfWork: UnitOfWork;
}

function bundle(session: MemorySession, recall: RecallStrategy | undefined): Repositories {
  return Object.freeze({
    users: new InMemoryUserRepository(session),
    preferences: new InMemoryPreferencesRepository(session),
    conversations: new InMemoryConversationRepository(session),
    memories: new InMemoryMemoryRepository(session, recall),
    devices: new InMemoryDeviceRepository(session),
  });
}

/**
 * In-memory twins of every repository, for domain tests and prototypes. They pass the same
 * contract suite as the libSQL repositories, including rollback of a unit of work.
 */
export function createMemoryRepositories(options: MemoryRepositoriesOptions = {}): MemoryRepositoryLayer {
  const database = new InMemoryDatabase();
  const root = database.session();
  return {
    database,
    repos: bundle(root, options.recall),
    unitOfWork: (work) => {
      if (typeof work !== 'function') return Promise.reject(invalidArgument('unitOfWork takes a callback', { field: 'work' }));
      return root.transaction((tx) => work(bundle(tx, options.recall)));
    },
  };
}
