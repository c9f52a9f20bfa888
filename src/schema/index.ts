/**
 * Schema registry and migrations: per-component versions, checksums, drift detection,
 * apply-at-open, plugin schemas in a sandbox. See `open.ts` for the data layer's entry point.
 */
export type {
  ComponentState,
  ComponentStatus,
  ComponentType,
  Direction,
  DriftAcceptance,
  HistoryEntry,
  MigrationResult,
  PlanStep,
  SandboxedStore,
  SandboxPolicy,
  SchemaComponent,
  SchemaDefinition,
  SchemaExecutor,
  SchemaOptions,
  SchemaStore,
  SchemaTransaction,
  SchemaVersion,
} from './types.js';
export { SchemaRegistry, defaultRegistry, defineSchema, DEFAULT_PRIORITY } from './registry.js';
export { registerSchema, schemaOf, type RegisterSchemaOptions } from './decorator.js';
export { checksumVersion, normalizeStatement } from './checksum.js';
export { validateVersions, isIrreversible } from './validation.js';
export { orderComponents, findCycle, type OrderNode } from './order.js';
export { pluginPrefix, validatePluginName, validateComponentName } from './names.js';
export { SCHEMA_ERROR_CODES, type SchemaErrorCode } from './errors.js';
export { METADATA_TABLE, HISTORY_TABLE, LOCK_TABLE, type MetadataRow } from './tracking.js';
export { pluginPolicy } from './sandbox.js';
export {
  SchemaManager,
  type MigrateOptions,
  type PlanOptions,
  type PluginSql,
  type RemovePluginOptions,
  type SchemaManagerOptions,
} from './manager.js';
export { openSchemas, openSchemasDetailed, type OpenedSchemas, type SchemaOpenOptions } from './open.js';
export { CORE_SCHEMAS } from './core/index.js';
