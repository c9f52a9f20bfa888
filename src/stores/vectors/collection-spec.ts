import { invalidArgument } from '../../errors.js';

/**
 * How a metadata field may be filtered, which decides how it is stored in Chroma:
 * - `token`: equality only (`$eq`, `$ne`, `$in`, `$nin`). Stored as a keyed HMAC token, so
 *   Chroma sees which records share a value but never the value.
 * - `number`: equality and ranges. Stored in plaintext (a range filter needs the number).
 *
 * Undeclared fields are sealed with the document and cannot be filtered on.
 */
export type FieldKind = 'token' | 'number';

/** A collection and its filterable fields. */
export interface CollectionSpec {
  /** Logical name: letters, digits and `_`, 3..40 characters. */
  readonly name: string;
  /** Filterable fields. Every other metadata field is sealed. */
  readonly fields: Readonly<Record<string, FieldKind>>;
}

/** Long-term memories (facts, preferences, episodes) of a user. */
export const MEMORIES: CollectionSpec = {
  name: 'memories',
  fields: {
    userId: 'token',
    type: 'token',
    sourceMessageId: 'token',
    importance: 'number',
    createdAt: 'number',
  },
};

/** Conversation segments (upstream AICO's `conversation_segments`). */
export const CONVERSATION_SEGMENTS: CollectionSpec = {
  name: 'conversation_segments',
  fields: {
    userId: 'token',
    type: 'token',
    conversationId: 'token',
    role: 'token',
    sourceMessageId: 'token',
    importance: 'number',
    createdAt: 'number',
  },
};

/** Keys the store itself writes into Chroma metadata; callers cannot use them. */
export const RESERVED_PREFIX = '_';

const NAME = /^[a-z][a-z0-9_]{2,39}$/;
const FIELD = /^[A-Za-z][A-Za-z0-9]{0,63}$/;

/** Validates a caller-supplied spec. */
export function checkSpec(spec: CollectionSpec): CollectionSpec {
  if (spec === null || typeof spec !== 'object') throw invalidArgument('a collection spec must be { name, fields }');
  if (typeof spec.name !== 'string' || !NAME.test(spec.name)) {
    throw invalidArgument(`collection name ${JSON.stringify(spec.name)} must be 3..40 lower-case letters, digits or _`);
  }
  if (spec.fields === null || typeof spec.fields !== 'object') throw invalidArgument(`collection ${spec.name}: fields must be an object`);
  for (const [field, kind] of Object.entries(spec.fields)) {
    if (!FIELD.test(field)) throw invalidArgument(`collection ${spec.name}: field name ${JSON.stringify(field)} must be alphanumeric`);
    if (kind !== 'token' && kind !== 'number') throw invalidArgument(`collection ${spec.name}: field ${field} must be 'token' or 'number'`);
  }
  return spec;
}
