import type { ConversationRepository } from './conversation-repository.js';
import type { DeviceRepository } from './device-repository.js';
import type { MemoryRepository } from './memory-repository.js';
import type { PreferencesRepository } from './preferences-repository.js';
import type { UserRepository } from './user-repository.js';

/** Every repository of the domain, as one bundle. */
export interface Repositories {
  readonly users: UserRepository;
  readonly preferences: PreferencesRepository;
  readonly conversations: ConversationRepository;
  readonly memories: MemoryRepository;
  readonly devices: DeviceRepository;
}

/**
 * Runs `work` with repositories whose writes form one transaction: all are kept when it
 * resolves, none when it throws (the error is rethrown). Use only the `repos` passed in
 * inside `work`; other writes wait until it ends.
 */
export type UnitOfWork = <T>(work: (repos: Repositories) => Promise<T>) => Promise<T>;
