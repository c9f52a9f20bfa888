import { createUserPreferences, type PreferencesRepository, type UserPreferences } from '../../domain/index.js';
import { checkEntity, requireId } from '../arguments.js';
import { constraintError, type MemorySession } from './database.js';

/** {@link PreferencesRepository} in memory. */
export class InMemoryPreferencesRepository implements PreferencesRepository {
  constructor(private readonly session: MemorySession) {}

  async get(userId: string): Promise<UserPreferences | undefined> {
    return this.session.tables.preferences.get(requireId(userId, 'userId'));
  }

  async save(preferences: UserPreferences): Promise<void> {
    const p = checkEntity(createUserPreferences, preferences, 'preferences', 'userId');
    await this.session.write((t) => {
      if (!t.users.has(p.userId)) throw constraintError(`FOREIGN KEY constraint failed: user ${p.userId} does not exist`);
      t.preferences.set(p.userId, p);
    });
  }
}
