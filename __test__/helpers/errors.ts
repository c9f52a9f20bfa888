import { expect } from 'vitest';
import { isAicoError } from '../../src/errors.js';

/** Awaits `p` and checks that it rejected with an AicoDataError of `code`. */
export async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(isAicoError(e), `expected ${code}, got ${String(e)}`).toBe(true);
  expect((e as { code: string }).code).toBe(code);
}
