import { newId } from '../ids.js';
import { optionalDate, optionalText, requireId, requireObject, type DateInput } from '../validation.js';

/** A thread of messages between one user and the companion. */
export interface Conversation {
  readonly id: string;
  readonly userId: string;
  readonly title: string | null;
  readonly createdAt: Date;
}

export interface NewConversation {
  readonly id?: string;
  readonly userId: string;
  readonly title?: string | null;
  readonly createdAt?: DateInput;
}

/** Validates `input` and fills defaults (a new id, no title, now). */
export function createConversation(input: NewConversation): Conversation {
  const i = requireObject(input, 'conversation');
  const createdAt = optionalDate(i.createdAt, 'createdAt') ?? new Date();
  return Object.freeze({
    id: i.id === undefined ? newId(createdAt.getTime()) : requireId(i.id, 'id'),
    userId: requireId(i.userId, 'userId'),
    title: optionalText(i.title, 'title', { max: 200 }),
    createdAt,
  });
}
