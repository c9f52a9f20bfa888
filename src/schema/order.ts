/**
 * Ordering of components: dependencies first, then lower priority, then name.
 * Pure functions (no database): cycle detection and topological order.
 */
import { schemaError } from './errors.js';

export interface OrderNode {
  readonly name: string;
  readonly priority: number;
  readonly dependsOn: readonly string[];
}

/**
 * Finds a dependency cycle through `start` (following `dependsOn` of the known nodes).
 * Returns the cycle as a path `[start, ..., start]`, or `null`.
 */
export function findCycle(start: string, lookup: (name: string) => OrderNode | undefined): string[] | null {
  const path: string[] = [start];
  const seen = new Set<string>();
  const visit = (name: string): string[] | null => {
    const node = lookup(name);
    if (!node) return null;
    for (const dep of node.dependsOn) {
      if (dep === start) return [...path, dep];
      if (seen.has(dep)) continue;
      seen.add(dep);
      path.push(dep);
      const found = visit(dep);
      if (found) return found;
      path.pop();
    }
    return null;
  };
  return visit(start);
}

/**
 * Orders `nodes` so that each comes after the nodes it depends on; among the nodes whose
 * dependencies are met, lower `priority` first, then name. Dependencies outside `nodes` are
 * ignored here (checked elsewhere). A cycle throws `SCHEMA_CYCLE`.
 */
export function orderComponents<T extends OrderNode>(nodes: readonly T[]): T[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const indegree = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const n of nodes) {
    const deps = [...new Set(n.dependsOn)].filter((d) => byName.has(d));
    indegree.set(n.name, deps.length);
    for (const d of deps) {
      const list = dependents.get(d) ?? [];
      list.push(n.name);
      dependents.set(d, list);
    }
  }
  const cmp = (a: T, b: T) => a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const ready = nodes.filter((n) => indegree.get(n.name) === 0);
  const out: T[] = [];
  while (ready.length > 0) {
    ready.sort(cmp);
    const next = ready.shift()!;
    out.push(next);
    for (const d of dependents.get(next.name) ?? []) {
      const left = indegree.get(d)! - 1;
      indegree.set(d, left);
      if (left === 0) ready.push(byName.get(d)!);
    }
  }
  if (out.length < nodes.length) {
    const stuck = nodes.filter((n) => !out.includes(n));
    let cycle: string[] | null = null;
    for (const n of stuck) {
      cycle = findCycle(n.name, (name) => byName.get(name));
      if (cycle) break;
    }
    cycle ??= stuck.map((n) => n.name);
    throw schemaError('SCHEMA_CYCLE', `schema dependency cycle: ${cycle.join(' -> ')}`, { cycle });
  }
  return out;
}
