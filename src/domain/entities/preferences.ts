import { invalidArgument } from '../../errors.js';
import { requireJsonObject, type JsonObject } from '../json.js';
import { optionalDate, requireId, requireObject, requireOneOf, requireText, type DateInput } from '../validation.js';

export const PRIVACY_LEVELS = ['minimal', 'standard', 'strict'] as const;
/** How much the companion may remember and share: `strict` keeps the least. */
export type PrivacyLevel = (typeof PRIVACY_LEVELS)[number];

/** How one user wants the companion to behave. One per user. */
export interface UserPreferences {
  readonly userId: string;
  /** BCP 47 language tag, e.g. `en` or `de-CH`. */
  readonly language: string;
  /** A short style label, e.g. `friendly`, `concise`. */
  readonly personalityStyle: string;
  readonly privacyLevel: PrivacyLevel;
  /** Further settings by name (JSON values). */
  readonly settings: JsonObject;
  readonly updatedAt: Date;
}

export interface NewUserPreferences {
  readonly userId: string;
  readonly language?: string;
  readonly personalityStyle?: string;
  readonly privacyLevel?: PrivacyLevel;
  readonly settings?: JsonObject;
  readonly updatedAt?: DateInput;
}

const LANGUAGE = /^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$/;
const STYLE = /^[a-z][a-z0-9_-]{0,31}$/;

/** Validates `input` and fills defaults (`en`, `friendly`, `standard`, no settings, now). */
export function createUserPreferences(input: NewUserPreferences): UserPreferences {
  const i = requireObject(input, 'preferences');
  const language = i.language === undefined ? 'en' : requireText(i.language, 'language', { max: 35 });
  if (!LANGUAGE.test(language)) throw invalidArgument(`language must be a BCP 47 tag such as "en" or "de-CH"`, { field: 'language' });
  const personalityStyle = i.personalityStyle === undefined ? 'friendly' : requireText(i.personalityStyle, 'personalityStyle', { max: 32 });
  if (!STYLE.test(personalityStyle)) {
    throw invalidArgument('personalityStyle must be a short lower-case label such as "friendly"', { field: 'personalityStyle' });
  }
  const settings = i.settings === undefined ? Object.freeze({}) : requireJsonObject(i.settings, 'settings');
  return Object.freeze({
    userId: requireId(i.userId, 'userId'),
    language,
    personalityStyle,
    privacyLevel: i.privacyLevel === undefined ? 'standard' : requireOneOf(i.privacyLevel, 'privacyLevel', PRIVACY_LEVELS),
    settings,
    updatedAt: optionalDate(i.updatedAt, 'updatedAt') ?? new Date(),
  });
}
