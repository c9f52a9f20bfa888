import { identity } from './identity.js';
import { optionalText, requireId, requireObject, requireOneOf, type DateInput } from '../validation.js';

export const CONVERSATION_STATUSES = ['active', 'archived', 'closed'] as const;
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];

/** A thread of messages between one user and the companion. */
export interface Conversation {
  readonly id: string;
  readonly userId: string;
  readonly title: string | null;
  readonly status: ConversationStatus;
  readonly createdAt: Date;
}

export interface NewConversation {
  readonly id?: string;
  readonly userId: string;
  readonly title?: string | null;
  readonly status?: ConversationStatus;
  readonly createdAt?: DateInput;
}

/** Validates `input` and fills defaults (a new id, no title, active, now). */
export function createConversation(input: NewConversation): Conversation {
  const i = requireObject(input, 'conversation');
  const { id, createdAt } = identity(i);
  return Object.freeze({
    id,
    userId: requireId(i.userId, 'userId'),
    title: optionalText(i.title, 'title', { max: 200 }),
    status: i.status === undefined ? 'active' : requireOneOf(i.status, 'status', CONVERSATION_STATUSES),
    createdAt,
  });
}
