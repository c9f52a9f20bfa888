import { invalidArgument } from '../../errors.js';
import { identity } from './identity.js';
import {
  optionalDate,
  optionalId,
  optionalInteger,
  optionalText,
  requireId,
  requireInteger,
  requireNumber,
  requireObject,
  requireOneOf,
  requireText,
  type DateInput,
} from '../validation.js';

export const MEMORY_TYPES = ['episodic', 'semantic', 'preference', 'relationship', 'system'] as const;
/**
 * `episodic`: something that happened; `semantic`: a fact; `preference`: a like or dislike;
 * `relationship`: about a person the user knows; `system`: written by the companion itself.
 */
export type MemoryType = (typeof MEMORY_TYPES)[number];

/** Longest memory content, in characters. */
export const MAX_MEMORY_LENGTH = 20_000;

/** Something the companion remembers about a user. */
export interface Memory {
  readonly id: string;
  readonly userId: string;
  readonly type: MemoryType;
  readonly content: string;
  /** A free label grouping memories, e.g. `family`, `work`. */
  readonly category: string | null;
  /** 0 (trivia) to 1 (essential). */
  readonly importance: number;
  /** 0 (guess) to 1 (certain). */
  readonly confidence: number;
  /** From when the memory holds. */
  readonly validFrom: Date;
  /** Until when it holds (`null`: still true). */
  readonly validTo: Date | null;
  /** The conversation and message it was learned from. */
  readonly sourceConversationId: string | null;
  readonly sourceMessageId: string | null;
  /** Model and dimension of its embedding, once one exists (both or neither). */
  readonly embeddingModel: string | null;
  readonly embeddingDimension: number | null;
  readonly accessedAt: Date | null;
  readonly accessCount: number;
  readonly createdAt: Date;
}

export interface NewMemory {
  readonly id?: string;
  readonly userId: string;
  readonly type: MemoryType;
  readonly content: string;
  readonly category?: string | null;
  readonly importance?: number;
  readonly confidence?: number;
  readonly validFrom?: DateInput;
  readonly validTo?: DateInput | null;
  readonly sourceConversationId?: string | null;
  readonly sourceMessageId?: string | null;
  readonly embeddingModel?: string | null;
  readonly embeddingDimension?: number | null;
  readonly accessedAt?: DateInput | null;
  readonly accessCount?: number;
  readonly createdAt?: DateInput;
}

/** Validates `input` and fills defaults (a new id, importance 0.5, confidence 1, valid from now). */
export function createMemory(input: NewMemory): Memory {
  const i = requireObject(input, 'memory');
  const { id, createdAt } = identity(i);
  const validFrom = optionalDate(i.validFrom, 'validFrom') ?? createdAt;
  const validTo = optionalDate(i.validTo, 'validTo');
  if (validTo && validTo.getTime() < validFrom.getTime()) {
    throw invalidArgument('validTo must not be before validFrom', { field: 'validTo' });
  }
  const embeddingModel = optionalText(i.embeddingModel, 'embeddingModel', { max: 200 });
  const embeddingDimension = optionalInteger(i.embeddingDimension, 'embeddingDimension', 1, 65_536);
  if ((embeddingModel === null) !== (embeddingDimension === null)) {
    throw invalidArgument('embeddingModel and embeddingDimension go together: give both or neither', {
      field: embeddingModel === null ? 'embeddingModel' : 'embeddingDimension',
    });
  }
  return Object.freeze({
    id,
    userId: requireId(i.userId, 'userId'),
    type: requireOneOf(i.type, 'type', MEMORY_TYPES),
    content: requireText(i.content, 'content', { max: MAX_MEMORY_LENGTH }),
    category: optionalText(i.category, 'category', { max: 100 }),
    importance: i.importance === undefined ? 0.5 : requireNumber(i.importance, 'importance', 0, 1),
    confidence: i.confidence === undefined ? 1 : requireNumber(i.confidence, 'confidence', 0, 1),
    validFrom,
    validTo,
    sourceConversationId: optionalId(i.sourceConversationId, 'sourceConversationId'),
    sourceMessageId: optionalId(i.sourceMessageId, 'sourceMessageId'),
    embeddingModel,
    embeddingDimension,
    accessedAt: optionalDate(i.accessedAt, 'accessedAt'),
    accessCount: i.accessCount === undefined ? 0 : requireInteger(i.accessCount, 'accessCount', 0),
    createdAt,
  });
}

/** True when `memory` holds at `at` (valid from it, not yet expired). */
export function isMemoryValidAt(memory: Memory, at: Date): boolean {
  const t = at.getTime();
  return memory.validFrom.getTime() <= t && (memory.validTo === null || memory.validTo.getTime() > t);
}
