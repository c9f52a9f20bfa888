import { newId } from '../ids.js';
import { optionalDate, requireId } from '../validation.js';

/** The id and creation time of a new entity: given ones validated, missing ones made (a UUIDv7, now). */
export function identity(input: Record<string, unknown>): { id: string; createdAt: Date } {
  const createdAt = optionalDate(input.createdAt, 'createdAt') ?? new Date();
  return { id: input.id === undefined ? newId(createdAt.getTime()) : requireId(input.id, 'id'), createdAt };
}
