/**
 * The layering rule: domain code never touches a database. Every import (static, dynamic,
 * re-export, require) of every file under src/domain must stay inside src/domain, or be
 * src/errors.ts, or a Node built-in that is not a database.
 */
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importsOf, sourceFiles, SRC } from '../helpers/source-imports.js';

const DOMAIN = join(SRC, 'domain');
const ALLOWED_OUTSIDE = new Set([join(SRC, 'errors.ts')]);
const FORBIDDEN_BUILTINS = new Set(['sqlite', 'node:sqlite']);
const BUILTINS = new Set(builtinModules);

/** Why `specifier`, imported by `file`, breaks the rule; `null` when it is fine. */
function violation(file: string, specifier: string): string | null {
  if (specifier.startsWith('.')) {
    const target = resolve(dirname(file), specifier).replace(/\.js$/, '.ts');
    if (target.startsWith(DOMAIN + sep) || ALLOWED_OUTSIDE.has(target)) return null;
    return `imports ${relative(SRC, target)} (outside the domain)`;
  }
  const bare = specifier.replace(/^node:/, '');
  if (FORBIDDEN_BUILTINS.has(specifier) || FORBIDDEN_BUILTINS.has(bare)) return `imports the database built-in ${specifier}`;
  if (specifier.startsWith('node:') || BUILTINS.has(bare)) return null;
  return `imports the package ${specifier}`;
}

describe('domain layering', () => {
  it('no file under src/domain imports a store, the native binding, the DAL, a repository or a database library', () => {
    const files = sourceFiles(DOMAIN);
    expect(files.length).toBeGreaterThan(10);
    const problems: string[] = [];
    for (const f of files) {
      for (const spec of importsOf(readFileSync(f, 'utf8'))) {
        const why = violation(f, spec);
        if (why) problems.push(`${relative(SRC, f)} ${why}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('the check catches every kind of forbidden import', () => {
    const file = join(DOMAIN, 'services', 'example.ts');
    const bad = [
      `import Database from 'better-sqlite3';`,
      `import { SqlStore } from '../../stores/sql/index.js';`,
      `import type { NativeSql } from '../../native/index.js';`,
      `export { DataAccessLayer } from '../../dal/index.js';`,
      `const m = await import('../../repositories/index.js');`,
      `const lib = require('libsql');`,
      `import { DatabaseSync } from 'node:sqlite';`,
      `import {\n  openDataLayer,\n} from '../../index.js';`,
      `import '@libsql/client';`,
    ];
    for (const line of bad) {
      const specs = importsOf(line);
      expect(specs, line).toHaveLength(1);
      expect(violation(file, specs[0]!), line).not.toBeNull();
    }
    const good = [`import { newId } from '../ids.js';`, `import { invalidArgument } from '../../errors.js';`, `import { createHash } from 'node:crypto';`];
    for (const line of good) expect(violation(file, importsOf(line)[0]!), line).toBeNull();
    expect(importsOf(`// import x from 'better-sqlite3'\n/* import 'libsql' */`)).toEqual([]);
  });
});
