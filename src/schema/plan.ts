/**
 * Planning: which versions to run, in which direction, checked against what the database holds
 * (drift, too-new, irreversible) before anything runs. Pure given the metadata rows.
 */
import type { DriftAcceptance, PlanStep, SchemaComponent } from './types.js';
import type { MetadataRow } from './tracking.js';
import { schemaError } from './errors.js';
import { isIrreversible } from './validation.js';

export interface Drift {
  readonly component: string;
  readonly version: number;
  readonly recorded: string;
  readonly registered: string;
}

/** Applied versions whose registered statements differ from the recorded checksum. */
export function findDrift(component: SchemaComponent, row: MetadataRow | undefined): Drift[] {
  if (!row) return [];
  const out: Drift[] = [];
  const upTo = Math.min(row.currentVersion, component.latest);
  for (let v = 1; v <= upTo; v++) {
    const recorded = row.checksums[String(v)];
    const registered = component.checksums[v - 1]!;
    if (recorded !== undefined && recorded !== registered) out.push({ component: component.name, version: v, recorded, registered });
  }
  return out;
}

export function isAccepted(d: Drift, accept: DriftAcceptance | undefined): boolean {
  if (accept === true) return true;
  if (!accept) return false;
  return accept.some((a) => a.component === d.component && (a.version === undefined || a.version === d.version));
}

export function driftError(drifts: readonly Drift[]) {
  const names = drifts.map((d) => `${d.component} v${d.version}`).join(', ');
  return schemaError(
    'SCHEMA_DRIFT',
    `schema drift: applied version(s) ${names} were edited after being applied; restore them, add a new version instead, or open with acceptDrift`,
    { drift: drifts.map((d) => ({ ...d })) },
  );
}

export function tooNewError(component: SchemaComponent, row: MetadataRow) {
  return schemaError(
    'SCHEMA_TOO_NEW',
    `schema ${component.name} is at version ${row.currentVersion} in the database but this code knows only up to ${component.latest}: upgrade aico-data (nothing was changed)`,
    { component: component.name, databaseVersion: row.currentVersion, codeVersion: component.latest },
  );
}

/** Steps taking `component` from its current version to `target`. */
export function planComponent(component: SchemaComponent, row: MetadataRow | undefined, target: number = component.latest): PlanStep[] {
  if (!Number.isSafeInteger(target) || target < 0 || target > component.latest) {
    throw schemaError('INVALID_ARGUMENT', `target version of ${component.name} must be an integer from 0 to ${component.latest}, got ${target}`, {
      component: component.name,
      target,
    });
  }
  const current = row?.currentVersion ?? 0;
  if (row && current > component.latest) throw tooNewError(component, row);
  const steps: PlanStep[] = [];
  if (target > current) {
    for (let v = current + 1; v <= target; v++) {
      const def = component.versions[v - 1]!;
      steps.push(
        Object.freeze({
          component: component.name,
          type: component.type,
          version: v,
          name: def.name,
          direction: 'up' as const,
          from: v - 1,
          to: v,
          statements: def.up,
          checksum: component.checksums[v - 1]!,
        }),
      );
    }
  } else if (target < current) {
    const blocked: number[] = [];
    for (let v = current; v > target; v--) {
      const def = component.versions[v - 1]!;
      if (isIrreversible(def)) blocked.push(v);
      steps.push(
        Object.freeze({
          component: component.name,
          type: component.type,
          version: v,
          name: def.name,
          direction: 'down' as const,
          from: v,
          to: v - 1,
          statements: def.down,
          checksum: component.checksums[v - 1]!,
        }),
      );
    }
    if (blocked.length > 0) {
      throw schemaError(
        'IRREVERSIBLE',
        `cannot migrate ${component.name} down to ${target}: version(s) ${blocked.join(', ')} have no down statements (nothing was changed)`,
        { component: component.name, target, irreversible: blocked },
      );
    }
  }
  return steps;
}
