import { PRIVACY_LEVELS, createUserPreferences, type JsonObject, type PreferencesRepository, type UserPreferences } from '../../domain/index.js';
import type { DataAccessLayer } from '../../dal/index.js';
import type { Row } from '../../stores/sql/index.js';
import { checkEntity, requireId } from '../arguments.js';
import { iso, oneOf, toDate } from './columns.js';

function parseSettings(v: unknown): JsonObject {
  try {
    const s: unknown = JSON.parse(String(v));
    return s !== null && typeof s === 'object' && !Array.isArray(s) ? (s as JsonObject) : {};
  } catch {
    return {};
  }
}

function toPreferences(r: Row): UserPreferences {
  return Object.freeze({
    userId: r.user_id as string,
    language: r.language as string,
    personalityStyle: r.personality_style as string,
    privacyLevel: oneOf(r.privacy_level, PRIVACY_LEVELS, 'standard'),
    settings: Object.freeze(parseSettings(r.settings)),
    updatedAt: toDate(r.updated_at),
  });
}

/** {@link PreferencesRepository} over `user_preferences` (one row per user; settings as JSON). */
export class LibsqlPreferencesRepository implements PreferencesRepository {
  constructor(private readonly dal: DataAccessLayer) {}

  async get(userId: string): Promise<UserPreferences | undefined> {
    const row = await this.dal.fetchOne(
      'SELECT user_id, language, personality_style, privacy_level, settings, updated_at FROM user_preferences WHERE user_id = ?',
      [requireId(userId, 'userId')],
    );
    return row && toPreferences(row);
  }

  async save(preferences: UserPreferences): Promise<void> {
    const p = checkEntity(createUserPreferences, preferences, 'preferences', 'userId');
    await this.dal.execute(
      `INSERT INTO user_preferences (user_id, language, personality_style, privacy_level, settings, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET language = excluded.language, personality_style = excluded.personality_style,
         privacy_level = excluded.privacy_level, settings = excluded.settings, updated_at = excluded.updated_at`,
      [p.userId, p.language, p.personalityStyle, p.privacyLevel, JSON.stringify(p.settings), iso(p.updatedAt)],
    );
  }
}
