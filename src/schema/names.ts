/**
 * Component and plugin names. Names are checked against a closed alphabet before they reach
 * SQL, so a name can never carry SQL metacharacters.
 *
 * Plugin names have no underscore: a plugin owns every object named `plugin_<name>_*`, and with
 * underscores `plugin_a_` would be a prefix of plugin `a_b`'s namespace.
 */
import type { ComponentType } from './types.js';
import { schemaError } from './errors.js';

const CORE_NAME = /^[a-z][a-z0-9_]{0,62}$/;
const PLUGIN_NAME = /^[a-z][a-z0-9]{0,31}$/;
const RESERVED = /^(plugin_|sqlite_|_aico)/;

export function validateComponentName(name: unknown, type: ComponentType): string {
  if (typeof name !== 'string') {
    throw schemaError('INVALID_ARGUMENT', `schema name must be a string, got ${typeof name}`);
  }
  if (type === 'plugin') {
    validatePluginName(name);
    return name;
  }
  if (!CORE_NAME.test(name) || RESERVED.test(name)) {
    throw schemaError(
      'INVALID_ARGUMENT',
      `invalid core schema name ${typeof name === 'string' ? JSON.stringify(name) : typeof name}: use lower-case letters, digits and _ (start with a letter; not plugin_/sqlite_)`,
      { name },
    );
  }
  return name;
}

export function validatePluginName(name: unknown): string {
  if (typeof name !== 'string' || !PLUGIN_NAME.test(name)) {
    throw schemaError(
      'INVALID_ARGUMENT',
      `invalid plugin name ${typeof name === 'string' ? JSON.stringify(name) : typeof name}: use 1-32 lower-case letters and digits, starting with a letter`,
      { name },
    );
  }
  return name;
}

/** The object-name prefix a plugin owns: `plugin_<name>_`. */
export function pluginPrefix(name: string): string {
  return `plugin_${validatePluginName(name)}_`;
}
