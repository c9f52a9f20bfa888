import type { UserPreferences } from '../entities/preferences.js';

/** Stores each user's preferences (one record per user). */
export interface PreferencesRepository {
  get(userId: string): Promise<UserPreferences | undefined>;
  /** Creates or replaces the user's preferences. The user must exist (`CONSTRAINT` otherwise). */
  save(preferences: UserPreferences): Promise<void>;
}
