import { AicoDataError } from '../errors.js';

/** Saving over an id another user owns: refused, never silently reassigned. */
export function ownedByAnotherUser(kind: string, id: string): AicoDataError {
  return new AicoDataError('CONFLICT', `${kind} ${id} belongs to another user`, { field: 'id', id });
}

export function notFound(kind: string, id: string): AicoDataError {
  return new AicoDataError('NOT_FOUND', `${kind} ${id} does not exist`, { field: 'id', id });
}
