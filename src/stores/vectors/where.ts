import type { Where as ChromaWhereType } from 'chromadb';
import { invalidArgument } from '../../errors.js';
import type { CollectionSpec } from './collection-spec.js';
import { chromaNumber } from './record-codec.js';

type Scalar = string | number | Date;

/** Comparison on one field. Token fields accept `$eq`, `$ne`, `$in`, `$nin`; number fields all of them. */
export interface FieldCondition {
  $eq?: Scalar;
  $ne?: Scalar;
  $gt?: number | Date;
  $gte?: number | Date;
  $lt?: number | Date;
  $lte?: number | Date;
  $in?: readonly Scalar[];
  $nin?: readonly Scalar[];
}

/**
 * A metadata filter over declared fields, in Chroma's syntax: `{ userId: 'u1' }`,
 * `{ importance: { $gte: 0.5 } }`, `{ $or: [...] }`. Several fields in one object are ANDed.
 */
export type Where = { $and: readonly Where[] } | { $or: readonly Where[] } | { [field: string]: Scalar | FieldCondition };

/** Chroma's where JSON. */
export type ChromaWhere = ChromaWhereType;

const TOKEN_OPS = new Set(['$eq', '$ne', '$in', '$nin']);
const NUMBER_OPS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin']);

/**
 * Translates a filter into Chroma's: token field values become their HMAC tokens, Dates become
 * epoch ms, several keys become `$and`. A field the collection did not declare is refused
 * (`INVALID_ARGUMENT`): it is sealed, so Chroma could only ever answer "no match".
 */
export function translateWhere(where: Where, spec: CollectionSpec, token: (field: string, value: unknown) => string): ChromaWhere {
  const walk = (w: unknown, path: string): ChromaWhere => {
    if (w === null || typeof w !== 'object' || Array.isArray(w)) throw invalidArgument(`where${path} must be an object`);
    const entries = Object.entries(w as Record<string, unknown>);
    if (entries.length === 0) throw invalidArgument(`where${path} is empty`);
    const parts = entries.flatMap(([key, value]): ChromaWhere[] => {
      if (key === '$and' || key === '$or') {
        if (!Array.isArray(value) || value.length === 0) throw invalidArgument(`where${path}.${key} must be a non-empty array`);
        const list = value.map((v, i) => walk(v, `${path}.${key}[${i}]`));
        return [list.length === 1 ? list[0]! : ({ [key]: list } as ChromaWhere)];
      }
      return field(key, value, `${path}.${key}`);
    });
    // Chroma takes one field and one operator per object: anything more becomes an $and.
    return parts.length === 1 ? parts[0]! : { $and: parts };
  };

  const field = (name: string, cond: unknown, path: string): ChromaWhere[] => {
    const kind = spec.fields[name];
    if (kind === undefined) {
      const declared = Object.keys(spec.fields).join(', ') || 'none';
      throw invalidArgument(`where${path}: ${spec.name} cannot filter on "${name}" (sealed, not declared); filterable fields: ${declared}`);
    }
    const scalar = (v: unknown, at: string): string | number => {
      if (kind === 'token') return token(name, v);
      const n = v instanceof Date ? v.getTime() : v;
      if (typeof n !== 'number' || !Number.isFinite(n)) throw invalidArgument(`where${at}: ${name} is a number field, got ${typeof v}`);
      return chromaNumber(n);
    };
    if (cond === null || typeof cond !== 'object' || cond instanceof Date) return [{ [name]: { $eq: scalar(cond, path) } }];
    const ops = Object.entries(cond as Record<string, unknown>);
    if (ops.length === 0) throw invalidArgument(`where${path} has no operator`);
    const allowed = kind === 'token' ? TOKEN_OPS : NUMBER_OPS;
    return ops.map(([op, v]) => {
      if (!allowed.has(op)) {
        throw invalidArgument(`where${path}: ${op} is not allowed on ${kind} field ${name} (allowed: ${[...allowed].join(', ')})`);
      }
      if (op === '$in' || op === '$nin') {
        if (!Array.isArray(v) || v.length === 0) throw invalidArgument(`where${path}.${op} must be a non-empty array`);
        return { [name]: { [op]: v.map((x, i) => scalar(x, `${path}.${op}[${i}]`)) } } as ChromaWhere;
      }
      return { [name]: { [op]: scalar(v, `${path}.${op}`) } } as ChromaWhere;
    });
  };

  return walk(where, '');
}
