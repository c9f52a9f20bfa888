/**
 * The schema registry: every component (core or plugin) by name, validated on registration.
 *
 * Registration refuses, with a clear `AicoDataError`:
 * - a name already registered (`SCHEMA_CONFLICT`),
 * - versions not numbered 1..n (`SCHEMA_VERSION_GAP`) or malformed (`SCHEMA_INVALID`),
 * - a `dependsOn` that closes a cycle (`SCHEMA_CYCLE`),
 * - a core component depending on a registered plugin (`SCHEMA_DEPENDENCY`),
 * - a name with anything but `[a-z0-9_]` (`INVALID_ARGUMENT`).
 *
 * `defaultRegistry` is the one the data layer applies at open; the core schemas register into
 * it when `./core/index.js` is imported. Tests and embedders can build their own.
 */
import type { ComponentType, SchemaComponent, SchemaDefinition } from './types.js';
import { schemaError } from './errors.js';
import { validateComponentName } from './names.js';
import { validateVersions } from './validation.js';
import { checksumVersion } from './checksum.js';
import { findCycle, orderComponents } from './order.js';

export const DEFAULT_PRIORITY = 100;

export class SchemaRegistry {
  readonly #components = new Map<string, SchemaComponent>();

  /** Validates and adds a component; returns the frozen component. */
  register(def: SchemaDefinition): SchemaComponent {
    if (!def || typeof def !== 'object') throw schemaError('INVALID_ARGUMENT', 'schema definition must be an object');
    const type: ComponentType = def.type;
    if (type !== 'core' && type !== 'plugin') {
      throw schemaError('INVALID_ARGUMENT', `schema type must be 'core' or 'plugin', got ${JSON.stringify(type)}`, {
        name: def.name,
      });
    }
    const name = validateComponentName(def.name, type);
    if (this.#components.has(name)) {
      throw schemaError('SCHEMA_CONFLICT', `schema ${name} is already registered`, { component: name });
    }
    const priority = def.priority ?? DEFAULT_PRIORITY;
    if (typeof priority !== 'number' || !Number.isFinite(priority)) {
      throw schemaError('SCHEMA_INVALID', `schema ${name}: priority must be a finite number`, { component: name, reason: 'priority' });
    }
    const dependsOn = def.dependsOn ?? [];
    if (!Array.isArray(dependsOn) || dependsOn.some((d) => typeof d !== 'string' || d === '')) {
      throw schemaError('SCHEMA_INVALID', `schema ${name}: dependsOn must be an array of schema names`, {
        component: name,
        reason: 'dependsOn',
      });
    }
    if (dependsOn.includes(name)) {
      throw schemaError('SCHEMA_CYCLE', `schema ${name} depends on itself`, { component: name, cycle: [name, name] });
    }
    if (type === 'core') {
      for (const dep of dependsOn) {
        if (this.#components.get(dep)?.type === 'plugin') {
          throw schemaError('SCHEMA_DEPENDENCY', `core schema ${name} cannot depend on plugin ${dep}`, {
            component: name,
            dependency: dep,
          });
        }
      }
    } else {
      for (const [other, c] of this.#components) {
        if (c.type === 'core' && c.dependsOn.includes(name)) {
          throw schemaError('SCHEMA_DEPENDENCY', `core schema ${other} depends on ${name}, which cannot be a plugin`, {
            component: name,
            dependent: other,
          });
        }
      }
    }
    const versions = validateVersions(name, def.versions, type);
    const component: SchemaComponent = Object.freeze({
      name,
      type,
      priority,
      dependsOn: Object.freeze([...new Set(dependsOn)]),
      description: def.description ?? '',
      versions: Object.freeze(versions),
      latest: versions.length,
      checksums: Object.freeze(versions.map(checksumVersion)),
    });
    const cycle = findCycle(name, (n) => (n === name ? component : this.#components.get(n)));
    if (cycle) {
      throw schemaError('SCHEMA_CYCLE', `schema dependency cycle: ${cycle.join(' -> ')}`, { component: name, cycle });
    }
    this.#components.set(name, component);
    return component;
  }

  /** Removes a component from the registry (its tables and history stay). */
  unregister(name: string): boolean {
    return this.#components.delete(name);
  }

  get(name: string): SchemaComponent | undefined {
    return this.#components.get(name);
  }

  has(name: string): boolean {
    return this.#components.has(name);
  }

  /** Components of one type (or all), in apply order. */
  list(type?: ComponentType): SchemaComponent[] {
    const all = [...this.#components.values()].filter((c) => type === undefined || c.type === type);
    return orderComponents(all);
  }

  /** A new registry holding the same components (e.g. the core ones plus test components). */
  fork(filter: (c: SchemaComponent) => boolean = () => true): SchemaRegistry {
    const r = new SchemaRegistry();
    for (const c of this.#components.values()) if (filter(c)) r.#components.set(c.name, c);
    return r;
  }

  get size(): number {
    return this.#components.size;
  }
}

/** The registry the data layer applies at open. */
export const defaultRegistry = new SchemaRegistry();

/** Registers a component: the plain-function twin of the `@registerSchema` decorator. */
export function defineSchema(def: SchemaDefinition, registry: SchemaRegistry = defaultRegistry): SchemaComponent {
  return registry.register(def);
}
