/**
 * The subpath exports (`aico-data/kv`, `aico-data/sync`, ...) resolve through package.json as an
 * installed package's users import them, each exports a part of the root's API and nothing the
 * root lacks, and none loads ZeroMQ's addon at import. Runs against the built `dist/`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { name: string; exports: Record<string, unknown> };
const SUBPATHS = Object.keys(pkg.exports).filter((k) => k !== '.' && k !== './package.json');

/** Imports `specifier` in a fresh process (package self-reference, as from node_modules). */
function probe(specifier: string): { names: string[]; zeromq: boolean } {
  const code = `
import { readFileSync } from 'node:fs';
const m = await import(${JSON.stringify(specifier)});
const zeromq = readFileSync('/proc/self/maps', 'utf8').split('\\n').some((l) => /zeromq[^ ]*\\.node$/.test(l));
console.log(JSON.stringify({ names: Object.keys(m).sort(), zeromq }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`import ${specifier} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

describe.runIf(process.platform === 'linux')('subpath exports', () => {
  it('every subpath resolves, exports part of the root API, and loads no ZeroMQ at import', () => {
    expect(existsSync(`${ROOT}dist/index.js`), 'run `npm run build:ts` first').toBe(true);
    expect(SUBPATHS.length).toBeGreaterThanOrEqual(7);
    const root = new Set(probe(pkg.name).names);
    const seen = new Set<string>();
    for (const sub of SUBPATHS) {
      const r = probe(`${pkg.name}/${sub.slice(2)}`);
      expect(r.names.length, sub).toBeGreaterThan(0);
      expect(r.names.filter((n) => !root.has(n)), sub).toEqual([]);
      expect(r.zeromq, sub).toBe(false);
      for (const n of r.names) seen.add(n);
    }
    // The KV part carries the KV store, the sync part the sync service: each is what it says.
    expect(probe(`${pkg.name}/kv`).names).toContain('KvStore');
    expect(probe(`${pkg.name}/sync`).names).toContain('SyncService');
    expect(probe(`${pkg.name}/kv`).names).not.toContain('SyncService');
    expect(seen.size).toBeGreaterThan(20);
  });
});
