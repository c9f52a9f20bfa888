/**
 * `@registerSchema(name, type, options)`: a TypeScript 5 standard class decorator that registers
 * the versions the class holds, in a static or instance property `versions`, when the module
 * defining the class is imported.
 *
 * ```ts
 * @registerSchema('notes', 'plugin', { priority: 10, dependsOn: ['users'] })
 * class NotesSchema {
 *   static versions = [{ version: 1, name: 'init', up: ['CREATE TABLE plugin_notes_items (...)'], down: ['DROP TABLE plugin_notes_items'] }];
 * }
 * ```
 */
import type { ComponentType, SchemaComponent, SchemaOptions, SchemaVersion } from './types.js';
import { schemaError } from './errors.js';
import { defaultRegistry, type SchemaRegistry } from './registry.js';

export interface RegisterSchemaOptions extends SchemaOptions {
  /** Registry to add to (default: `defaultRegistry`). */
  readonly registry?: SchemaRegistry;
}

const REGISTERED = Symbol.for('aico-data.schema');

type AnyClass = abstract new (...args: never[]) => unknown;

function versionsOf(target: AnyClass, name: string): readonly SchemaVersion[] {
  const staticVersions = (target as unknown as { versions?: unknown }).versions;
  if (staticVersions !== undefined) return staticVersions as readonly SchemaVersion[];
  let instance: { versions?: unknown };
  try {
    instance = new (target as unknown as new () => { versions?: unknown })();
  } catch (e) {
    throw schemaError(
      'SCHEMA_INVALID',
      `schema ${name}: the class has no static 'versions' and cannot be constructed without arguments to read an instance 'versions'`,
      { component: name, reason: 'versions' },
      e,
    );
  }
  if (instance.versions === undefined) {
    throw schemaError('SCHEMA_INVALID', `schema ${name}: the class must hold its versions in a static or instance property 'versions'`, {
      component: name,
      reason: 'versions',
    });
  }
  return instance.versions as readonly SchemaVersion[];
}

/** Class decorator: registers the decorated class's versions under `name`. */
export function registerSchema(name: string, type: ComponentType, options: RegisterSchemaOptions = {}) {
  return <C extends AnyClass>(_target: C, context: ClassDecoratorContext<C>): void => {
    if (context.kind !== 'class') {
      throw schemaError('INVALID_ARGUMENT', '@registerSchema decorates classes only');
    }
    // Runs once the class is fully defined (static fields initialized).
    context.addInitializer(function (this: C) {
      const { registry = defaultRegistry, ...rest } = options;
      const component = registry.register({ ...rest, name, type, versions: versionsOf(this, name) });
      Object.defineProperty(this, REGISTERED, { value: component, enumerable: false });
    });
  };
}

/** The component a decorated class registered, if any. */
export function schemaOf(target: AnyClass): SchemaComponent | undefined {
  return (target as unknown as Record<symbol, SchemaComponent | undefined>)[REGISTERED];
}
