import { identity } from './identity.js';
import {
  optionalDate,
  optionalText,
  requireBoolean,
  requireObject,
  requireOneOf,
  requireText,
  type DateInput,
} from '../validation.js';

export const USER_TYPES = ['primary', 'member', 'guest'] as const;
/** `primary`: the companion's owner; `member`: another person it knows; `guest`: a passing user. */
export type UserType = (typeof USER_TYPES)[number];

/** A person the companion talks to. */
export interface User {
  readonly id: string;
  readonly name: string;
  readonly nickname: string | null;
  readonly userType: UserType;
  readonly isActive: boolean;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** What {@link createUser} takes: only `name` is required. */
export interface NewUser {
  readonly id?: string;
  readonly name: string;
  readonly nickname?: string | null;
  readonly userType?: UserType;
  readonly isActive?: boolean;
  readonly createdAt?: DateInput;
  readonly updatedAt?: DateInput;
}

/** Validates `input` and fills defaults (a new id, `member`, active, now). */
export function createUser(input: NewUser): User {
  const i = requireObject(input, 'user');
  const { id, createdAt } = identity(i);
  return Object.freeze({
    id,
    name: requireText(i.name, 'name', { max: 200 }),
    nickname: optionalText(i.nickname, 'nickname', { max: 100 }),
    userType: i.userType === undefined ? 'member' : requireOneOf(i.userType, 'userType', USER_TYPES),
    isActive: i.isActive === undefined ? true : requireBoolean(i.isActive, 'isActive'),
    createdAt,
    updatedAt: optionalDate(i.updatedAt, 'updatedAt') ?? createdAt,
  });
}
