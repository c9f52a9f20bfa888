/** Pure test helpers (no native addon): error assertions and test schemas. */
import { expect } from 'vitest';
import { AicoDataError } from '../../src/errors.js';
import { SchemaRegistry, type SchemaVersion } from '../../src/schema/index.js';

/** Awaits `p` and asserts it fails with an AicoDataError of `code`. */
export async function expectCode(p: Promise<unknown> | (() => unknown), code: string): Promise<AicoDataError> {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(err, `expected an AicoDataError ${code}`).toBeInstanceOf(AicoDataError);
  expect((err as AicoDataError).code, (err as Error).message).toBe(code);
  return err as AicoDataError;
}

/** `count` simple versions creating tables `<prefix>_1..n` (version i creates `<prefix>_i`). */
export function tableVersions(prefix: string, count: number, broken?: { version: number; statement: string }): SchemaVersion[] {
  return Array.from({ length: count }, (_, k) => {
    const v = k + 1;
    const up = [`CREATE TABLE ${prefix}_${v} (id INTEGER PRIMARY KEY, v TEXT)`, `INSERT INTO ${prefix}_${v} (v) VALUES ('v${v}')`];
    if (broken?.version === v) up.push(broken.statement);
    return { version: v, name: `create_${prefix}_${v}`, description: `table ${prefix}_${v}`, up, down: [`DROP TABLE ${prefix}_${v}`] };
  });
}

/** A registry with no core schemas (for suites that test the mechanism on their own components). */
export function emptyRegistry(): SchemaRegistry {
  return new SchemaRegistry();
}

