import type { RecallStrategy, Repositories, UnitOfWork } from '../../domain/index.js';
import { DataAccessLayer, createUnitOfWork, type SqlSession } from '../../dal/index.js';
import { invalidArgument } from '../../errors.js';
import { LibsqlConversationRepository } from './conversation-repository.js';
import { LibsqlDeviceRepository } from './device-repository.js';
import { LibsqlMemoryRepository } from './memory-repository.js';
import { LibsqlPreferencesRepository } from './preferences-repository.js';
import { LibsqlUserRepository } from './user-repository.js';

export { LibsqlKeywordRecall } from './keyword-recall.js';
export { LibsqlConversationRepository, LibsqlDeviceRepository, LibsqlMemoryRepository, LibsqlPreferencesRepository, LibsqlUserRepository };

/** Options of {@link createLibsqlRepositories}. */
export interface LibsqlRepositoriesOptions {
  /** How memories are recalled (default: keyword BM25 over `memories_fts`). */
  readonly recall?: RecallStrategy;
}

/** The repositories over libSQL, their data access layer and unit of work. */
export interface LibsqlRepositoryLayer {
  readonly dal: DataAccessLayer;
  readonly repos: Repositories;
  readonly unitOfWork: UnitOfWork;
}

function bundle(dal: DataAccessLayer, recall: RecallStrategy | undefined): Repositories {
  return Object.freeze({
    users: new LibsqlUserRepository(dal),
    preferences: new LibsqlPreferencesRepository(dal),
    conversations: new LibsqlConversationRepository(dal),
    memories: new LibsqlMemoryRepository(dal, recall),
    devices: new LibsqlDeviceRepository(dal),
  });
}

/**
 * The libSQL repositories over `sql` (the data layer's SQL store, or a {@link DataAccessLayer}
 * over it), which must hold the core schemas. `unitOfWork(work)` runs `work` with
 * repositories bound to one transaction.
 */
export function createLibsqlRepositories(sql: SqlSession | DataAccessLayer, options: LibsqlRepositoriesOptions = {}): LibsqlRepositoryLayer {
  if (sql === null || typeof sql !== 'object') throw invalidArgument('createLibsqlRepositories needs the SQL store', { field: 'sql' });
  const dal = sql instanceof DataAccessLayer ? sql : new DataAccessLayer(sql);
  return {
    dal,
    repos: bundle(dal, options.recall),
    unitOfWork: createUnitOfWork(dal, (tx) => bundle(tx, options.recall)),
  };
}
