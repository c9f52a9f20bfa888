/**
 * The package's shape as a rule: imports run one way, from the entry points (`index`, `cli`)
 * through the composition root (`data-layer`) to application layers, stores and shared
 * contracts; no file of `src/` takes part in an import cycle (type-only imports count: a reader
 * still has to follow them).
 */
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cyclesOf, importGraph, SRC } from '../helpers/source-imports.js';

/**
 * What each unit of `src/` may import, besides itself. A unit is a folder of `src/` (each store
 * of `src/stores` on its own) or a top-level file without its extension.
 */
const ALLOWED: Record<string, readonly string[]> = {
  errors: [],
  util: ['errors'],
  native: ['errors'],
  crypto: ['errors', 'native'],
  domain: ['errors'],
  'stores/sql': ['errors', 'native'],
  'stores/kv': ['errors', 'native'],
  'stores/analytics': ['errors', 'native', 'stores/sql'],
  'stores/vectors': ['errors', 'native', 'crypto', 'util'],
  dal: ['errors', 'stores/sql'],
  schema: ['errors', 'stores/sql', 'util'],
  repositories: ['errors', 'domain', 'dal', 'stores/sql'],
  bus: ['errors', 'util'],
  sync: ['errors', 'schema', 'stores/sql', 'util'],
  backup: ['errors', 'native', 'schema'],
  memories: ['errors', 'domain', 'stores/vectors'],
  services: ['errors', 'domain', 'bus', 'stores/vectors'],
  outbox: ['errors', 'domain', 'bus', 'memories', 'stores/sql', 'stores/kv', 'stores/analytics', 'stores/vectors'],
  // The composition root: builds every component in order (only the facade calls it).
  compose: ['errors', 'util', 'native', 'crypto', 'domain', 'stores/sql', 'stores/kv', 'stores/analytics', 'stores/vectors', 'dal', 'schema', 'repositories', 'bus', 'sync', 'memories', 'outbox'],
  // The facade over what compose built: no store is opened or wired here.
  'data-layer': ['errors', 'util', 'native', 'crypto', 'domain', 'stores/sql', 'stores/kv', 'stores/analytics', 'stores/vectors', 'schema', 'bus', 'sync', 'backup', 'memories', 'services', 'outbox', 'compose'],
  // The subpath entry points (`aico-data/kv`, ...): curated exports of one part each, no composition root.
  entries: ['errors', 'stores/kv', 'stores/analytics', 'stores/vectors', 'bus', 'sync', 'backup', 'memories', 'services', 'outbox'],
  index: ['errors', 'crypto', 'domain', 'stores/sql', 'schema', 'entries', 'data-layer'],
  cli: ['errors', 'util', 'native', 'domain', 'stores/sql', 'stores/kv', 'stores/analytics', 'stores/vectors', 'schema', 'bus', 'sync', 'backup', 'data-layer'],
};

/** The unit a file of `src/` belongs to. */
function unitOf(file: string): string {
  const parts = relative(SRC, file).split('/');
  if (parts.length === 1) return parts[0]!.replace(/\.(ts|js|mts|cts|mjs)$/, '');
  return parts[0] === 'stores' && parts.length > 2 ? `stores/${parts[1]}` : parts[0]!;
}

/** Every import of `graph` that crosses units against {@link ALLOWED}. */
function violations(graph: Map<string, readonly string[]>): string[] {
  const out: string[] = [];
  for (const [file, deps] of graph) {
    const from = unitOf(file);
    for (const dep of deps) {
      const to = unitOf(dep);
      if (to === from) continue;
      const allowed = ALLOWED[from];
      if (!allowed) out.push(`${relative(SRC, file)}: unit ${from} has no rule in ALLOWED`);
      else if (!allowed.includes(to)) out.push(`${relative(SRC, file)} imports ${relative(SRC, dep)} (${from} -> ${to} is not allowed)`);
    }
  }
  return out;
}

describe('architecture: imports run one way', () => {
  const graph = importGraph();

  it('no file of src/ takes part in an import cycle', () => {
    expect(graph.size).toBeGreaterThan(100);
    const cycles = cyclesOf(graph).map((c) => c.map((f) => relative(SRC, f)).join(' <-> '));
    expect(cycles).toEqual([]);
  });

  it('every import between folders follows the layer table', () => {
    expect(violations(graph)).toEqual([]);
  });

  it('the layer table itself runs one way, and names every unit of src/', () => {
    const table = new Map(Object.entries(ALLOWED).map(([k, v]) => [k, [...v]]));
    expect(cyclesOf(table)).toEqual([]);
    for (const file of graph.keys()) expect(Object.keys(ALLOWED), relative(SRC, file)).toContain(unitOf(file));
    // Only the entry points open the composition root.
    const openers = Object.entries(ALLOWED).filter(([, v]) => v.includes('data-layer')).map(([k]) => k);
    expect(openers.sort()).toEqual(['cli', 'index']);
    // And only the facade builds it.
    expect(Object.entries(ALLOWED).filter(([, v]) => v.includes('compose')).map(([k]) => k)).toEqual(['data-layer']);
  });

  it('the checks catch a cycle and a backwards import', () => {
    const f = (p: string) => `${SRC}/${p}`;
    const cyclic = new Map([
      [f('sync/a.ts'), [f('sync/b.ts')]],
      [f('sync/b.ts'), [f('sync/c.ts')]],
      [f('sync/c.ts'), [f('sync/a.ts')]],
      [f('sync/d.ts'), [f('sync/a.ts')]],
    ]);
    expect(cyclesOf(cyclic)).toEqual([[f('sync/a.ts'), f('sync/b.ts'), f('sync/c.ts')]]);
    expect(cyclesOf(new Map([[f('util/x.ts'), [f('util/x.ts')]]]))).toHaveLength(1);
    const backwards = new Map([
      [f('stores/vectors/store.ts'), [f('data-layer.ts'), f('domain/index.ts'), f('stores/vectors/where.ts')]],
      [f('bus/zmq-bus.ts'), [f('services/serve.ts')]],
      [f('stores/kv/store.ts'), [f('stores/sql/index.ts')]],
      [f('newfolder/x.ts'), [f('errors.ts')]],
    ]);
    expect(violations(backwards)).toEqual([
      'stores/vectors/store.ts imports data-layer.ts (stores/vectors -> data-layer is not allowed)',
      'stores/vectors/store.ts imports domain/index.ts (stores/vectors -> domain is not allowed)',
      'bus/zmq-bus.ts imports services/serve.ts (bus -> services is not allowed)',
      'stores/kv/store.ts imports stores/sql/index.ts (stores/kv -> stores/sql is not allowed)',
      'newfolder/x.ts: unit newfolder has no rule in ALLOWED',
    ]);
  });
});
