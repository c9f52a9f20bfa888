/**
 * Types of the schema registry: what a component is, what one of its versions holds, and the
 * narrow SQL surface the migrator needs (the data layer's `SqlStore` satisfies it).
 */
import type { RunResult, SqlParams, SqlValue } from '../stores/sql/types.js';

export type { RunResult, SqlParams, SqlValue };

/** `core` schemas are applied at open; `plugin` schemas on `activatePlugin`. */
export type ComponentType = 'core' | 'plugin';

/** One version of a component. Versions of a component are numbered 1, 2, 3... without gaps. */
export interface SchemaVersion {
  /** 1-based, contiguous within the component. */
  readonly version: number;
  /** Short name, e.g. `create_users`. */
  readonly name: string;
  readonly description?: string;
  /** Statements run in order, one `execute` each, in one transaction. */
  readonly up: readonly string[];
  /**
   * Statements that undo `up`. An empty `down` (with a non-empty `up`) marks the version
   * irreversible: migrating below it fails with `IRREVERSIBLE` before anything runs.
   */
  readonly down: readonly string[];
}

/** Options of `registerSchema` / `defineSchema`. */
export interface SchemaOptions {
  /** Lower runs first among components whose dependencies are met (default 100). */
  readonly priority?: number;
  /** Components that must be applied first (by name). A core component may not depend on a plugin. */
  readonly dependsOn?: readonly string[];
  readonly description?: string;
}

/** A component as the registry holds it (frozen). */
export interface SchemaComponent {
  readonly name: string;
  readonly type: ComponentType;
  readonly priority: number;
  readonly dependsOn: readonly string[];
  readonly description: string;
  /** Sorted by version, 1..latest. */
  readonly versions: readonly SchemaVersion[];
  /** Highest registered version. */
  readonly latest: number;
  /** SHA-256 (hex) of each version's normalized statements, index = version - 1. */
  readonly checksums: readonly string[];
}

/** What `defineSchema` takes. */
export interface SchemaDefinition extends SchemaOptions {
  readonly name: string;
  readonly type: ComponentType;
  readonly versions: readonly SchemaVersion[];
}

/** The statement API the migrator uses (the store and its transactions both have it). */
export interface SchemaExecutor {
  execute(sql: string, params?: SqlParams): Promise<RunResult>;
  query<T = Record<string, SqlValue>>(sql: string, params?: SqlParams): Promise<T[]>;
  queryOne<T = Record<string, SqlValue>>(sql: string, params?: SqlParams): Promise<T | undefined>;
  exec(script: string): Promise<void>;
}

/** A transaction as the migrator sees it; `sandboxed` is the optional native hook. */
export interface SchemaTransaction extends SchemaExecutor {
  /**
   * NATIVE HOOK (optional): an executor bound to this transaction whose statements are
   * compiled under SQLite's authorizer with `policy` (see `sandbox.ts`).
   */
  sandboxed?(policy: SandboxPolicy): SchemaExecutor;
}

/** The store as the migrator sees it (the data layer's `SqlStore` satisfies it). */
export interface SchemaStore extends SchemaExecutor {
  transaction<T>(fn: (tx: SchemaTransaction) => Promise<T> | T): Promise<T>;
  /**
   * NATIVE HOOK (optional): a handle whose every statement (reader or writer connection)
   * is compiled under SQLite's authorizer with `policy`. Backs `schemas.pluginSql(name)`.
   */
  sandboxed?(policy: SandboxPolicy): SandboxedStore;
}

/** What the native `sandboxed()` hook returns at store level. */
export interface SandboxedStore extends SchemaExecutor {
  transaction<T>(fn: (tx: SchemaExecutor) => Promise<T> | T): Promise<T>;
}

/** The authorizer policy the native hook enforces. */
export interface SandboxPolicy {
  /** Every object touched must be named with this prefix (compared case-insensitively), e.g. `plugin_notes_`. */
  readonly prefix: string;
  /** `true` while running the plugin's migrations: CREATE/ALTER/DROP of prefixed objects allowed. */
  readonly allowDdl: boolean;
  /** For error messages, e.g. `plugin notes`. */
  readonly label: string;
}

/** Direction of one step. */
export type Direction = 'up' | 'down';

/** One version to apply or undo. */
export interface PlanStep {
  readonly component: string;
  readonly type: ComponentType;
  readonly version: number;
  readonly name: string;
  readonly direction: Direction;
  /** Version before / after this step. */
  readonly from: number;
  readonly to: number;
  readonly statements: readonly string[];
  readonly checksum: string;
}

/** What a migration run did. */
export interface MigrationResult {
  /** What the run planned (under the lock); with `dryRun`, what it would run. */
  readonly planned: readonly PlanStep[];
  readonly applied: readonly PlanStep[];
  /** Steps another process had already done when this one got the lock. */
  readonly skipped: readonly PlanStep[];
}

/** Lifecycle state of a component row. */
export type ComponentState = 'active' | 'inactive' | 'removed' | 'not-installed';

/** One line of `status()`. */
export interface ComponentStatus {
  readonly name: string;
  readonly type: ComponentType;
  /** Applied version (0: none). */
  readonly version: number;
  /** Highest registered version, or `null` when the component is not registered in this process. */
  readonly latest: number | null;
  readonly state: ComponentState;
  /** Registered versions not applied yet. */
  readonly pending: number;
  /** Applied versions whose registered statements no longer match their recorded checksum. */
  readonly drift: readonly number[];
  /** Applied version is above the registered latest (the database is newer than this code). */
  readonly tooNew: boolean;
  readonly updatedAt: string | null;
}

/** A row of `_aico_migration_history`. */
export interface HistoryEntry {
  readonly id: number;
  readonly component: string;
  readonly type: ComponentType;
  readonly version: number;
  readonly name: string;
  readonly direction: Direction | 'accept_drift';
  readonly checksum: string | null;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  readonly success: boolean;
  readonly error: string | null;
  readonly statement: string | null;
  /** E.g. the previous checksum of an accepted drift. */
  readonly note: string | null;
  readonly appliedBy: string | null;
}

/** A drift to accept: all drifts, one component, or one version of it. */
export type DriftAcceptance = boolean | ReadonlyArray<{ readonly component: string; readonly version?: number }>;
