import { identity } from './identity.js';
import {
  optionalInteger,
  optionalNumber,
  optionalText,
  requireId,
  requireObject,
  requireOneOf,
  requireText,
  type DateInput,
} from '../validation.js';

export const MESSAGE_ROLES = ['user', 'assistant', 'system', 'tool'] as const;
/** Who wrote a message. */
export type MessageRole = (typeof MESSAGE_ROLES)[number];

/** Longest message content, in characters. */
export const MAX_MESSAGE_LENGTH = 100_000;

/** One message of a conversation. */
export interface Message {
  readonly id: string;
  readonly conversationId: string;
  readonly userId: string;
  readonly role: MessageRole;
  readonly content: string;
  readonly createdAt: Date;
  /** -1 (negative) to 1 (positive), when analysed. */
  readonly sentimentScore: number | null;
  /** For assistant messages: how long the response took, in milliseconds. */
  readonly responseTimeMs: number | null;
  /** The model that wrote an assistant message. */
  readonly model: string | null;
  readonly promptTokens: number | null;
  readonly completionTokens: number | null;
}

export interface NewMessage {
  readonly id?: string;
  readonly conversationId: string;
  readonly userId: string;
  readonly role: MessageRole;
  readonly content: string;
  readonly createdAt?: DateInput;
  readonly sentimentScore?: number | null;
  readonly responseTimeMs?: number | null;
  readonly model?: string | null;
  readonly promptTokens?: number | null;
  readonly completionTokens?: number | null;
}

/** Validates `input` and fills defaults (a new id, now, no metrics). */
export function createMessage(input: NewMessage): Message {
  const i = requireObject(input, 'message');
  const { id, createdAt } = identity(i);
  return Object.freeze({
    id,
    conversationId: requireId(i.conversationId, 'conversationId'),
    userId: requireId(i.userId, 'userId'),
    role: requireOneOf(i.role, 'role', MESSAGE_ROLES),
    content: requireText(i.content, 'content', { max: MAX_MESSAGE_LENGTH, keepSpace: true }),
    createdAt,
    sentimentScore: optionalNumber(i.sentimentScore, 'sentimentScore', -1, 1),
    responseTimeMs: optionalInteger(i.responseTimeMs, 'responseTimeMs', 0),
    model: optionalText(i.model, 'model', { max: 200 }),
    promptTokens: optionalInteger(i.promptTokens, 'promptTokens', 0),
    completionTokens: optionalInteger(i.completionTokens, 'completionTokens', 0),
  });
}
