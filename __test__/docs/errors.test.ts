/**
 * The README's Errors table lists exactly the codes of `ERROR_CODES` (read at test time, so a
 * code added anywhere must be documented) with hints that are not empty.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ERROR_HINTS } from '../../src/errors.js';

const README = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'README.md'), 'utf8');

/** The codes of the table that follows `### Errors`. */
function documentedCodes(): string[] {
  const start = README.indexOf('### Errors');
  expect(start, 'README has a "### Errors" section').toBeGreaterThan(0);
  const section = README.slice(start, README.indexOf('\n## ', start));
  return [...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]!);
}

describe('README Errors section', () => {
  it('lists every code of ERROR_CODES, once, and no other', () => {
    const documented = documentedCodes();
    expect(new Set(documented).size, 'a code is listed twice').toBe(documented.length);
    expect([...documented].sort()).toEqual([...ERROR_CODES].sort());
  });

  it('every code has a hint', () => {
    for (const c of ERROR_CODES) expect(ERROR_HINTS[c]?.length ?? 0, c).toBeGreaterThan(10);
  });
});
