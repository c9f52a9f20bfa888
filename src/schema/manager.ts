/**
 * `SchemaManager`: what the data layer exposes as `schemas` — status, plan, migrate, the plugin
 * lifecycle (activate, deactivate, remove) and the sandboxed SQL handle of a plugin.
 */
import type {
  ComponentStatus,
  DriftAcceptance,
  HistoryEntry,
  MigrationResult,
  PlanStep,
  SandboxedStore,
  SchemaComponent,
  SchemaExecutor,
  SchemaStore,
} from './types.js';
import type { SchemaRegistry } from './registry.js';
import { errorCode, schemaError } from './errors.js';
import { validatePluginName } from './names.js';
import { MigrationLock, processLabel, type LockOptions } from './lock.js';
import { Migrator } from './migrator.js';
import { driftError, findDrift, isAccepted, planComponent, tooNewError, type Drift } from './plan.js';
import { readAllMetadata, readHistory, setState, trackingTablesExist, TRACKING_DDL, type MetadataRow } from './tracking.js';
import { hasSandbox, pluginPolicy } from './sandbox.js';

export interface MigrateOptions {
  /** Version to reach (default: the latest registered). 0 undoes every version. */
  readonly target?: number;
  /** Return the plan without running it. */
  readonly dryRun?: boolean;
}

export interface PlanOptions {
  /** Only this component (default: pending core components and active plugins). */
  readonly component?: string;
  readonly target?: number;
}

export interface RemovePluginOptions {
  /** Must be `true`: removing a plugin runs its down statements and deletes its data. */
  readonly dropData: boolean;
}

/** A plugin's SQL handle: reaches only `plugin_<name>_*` objects (enforced by SQLite's authorizer). */
export interface PluginSql extends SchemaExecutor {
  readonly plugin: string;
  readonly prefix: string;
  transaction<T>(fn: (tx: SchemaExecutor) => Promise<T> | T): Promise<T>;
}

export type SchemaManagerOptions = LockOptions;

const EMPTY: ReadonlyMap<string, MetadataRow> = new Map();

export class SchemaManager {
  readonly registry: SchemaRegistry;
  readonly #sql: SchemaStore;
  readonly #lock: MigrationLock;
  readonly #migrator: Migrator;
  readonly #states = new Map<string, MetadataRow['state']>();
  /**
   * Tail of the queue every plugin statement (of every plugin) waits in. Each native call
   * occupies a thread of libuv's pool (4 by default, shared with fs, crypto, dns) for as long
   * as it runs: four slow plugin queries at once stalled the host's file reads for seconds.
   * One at a time, a plugin holds at most one pool thread (plus its open transaction's).
   */
  #pluginTail: Promise<unknown> = Promise.resolve();
  #tablesReady = false;

  constructor(sql: SchemaStore, registry: SchemaRegistry, options: SchemaManagerOptions = {}) {
    this.#sql = sql;
    this.registry = registry;
    this.#lock = new MigrationLock(sql, options);
    this.#migrator = new Migrator(sql, this.#lock, processLabel());
  }

  // ---- reading -------------------------------------------------------------------------

  /** The metadata rows (empty before the first migration). */
  async metadata(): Promise<ReadonlyMap<string, MetadataRow>> {
    if (!this.#tablesReady && !(await trackingTablesExist(this.#sql))) return EMPTY;
    this.#tablesReady = true;
    const meta = await readAllMetadata(this.#sql);
    for (const [name, row] of meta) this.#states.set(name, row.state);
    return meta;
  }

  /** Every component, registered or recorded, with its version and state. */
  async status(): Promise<ComponentStatus[]> {
    const meta = await this.metadata();
    const out: ComponentStatus[] = [];
    const seen = new Set<string>();
    for (const c of this.registry.list()) {
      seen.add(c.name);
      const row = meta.get(c.name);
      const version = row?.currentVersion ?? 0;
      out.push({
        name: c.name,
        type: c.type,
        version,
        latest: c.latest,
        state: row?.state ?? 'not-installed',
        pending: row?.state === 'removed' ? 0 : Math.max(0, c.latest - version),
        drift: findDrift(c, row).map((d) => d.version),
        tooNew: version > c.latest,
        updatedAt: row?.updatedAt ?? null,
      });
    }
    for (const row of meta.values()) {
      if (seen.has(row.name)) continue;
      out.push({
        name: row.name,
        type: row.type,
        version: row.currentVersion,
        latest: null,
        state: row.state,
        pending: 0,
        drift: [],
        tooNew: false,
        updatedAt: row.updatedAt,
      });
    }
    return out;
  }

  /** The migration history, oldest first. */
  async history(component?: string): Promise<HistoryEntry[]> {
    if (!this.#tablesReady && !(await trackingTablesExist(this.#sql))) return [];
    return readHistory(this.#sql, component);
  }

  /** What would run, without running it. */
  async plan(options: PlanOptions = {}): Promise<PlanStep[]> {
    const meta = await this.metadata();
    if (options.component !== undefined) {
      const c = this.#component(options.component);
      return planComponent(c, meta.get(c.name), options.target);
    }
    if (options.target !== undefined) throw schemaError('INVALID_ARGUMENT', 'plan({ target }) needs a component');
    return this.#pendingSteps(meta);
  }

  // ---- migrating -----------------------------------------------------------------------

  /**
   * Applies what is pending: core components (in priority and dependency order), then active
   * plugins. Called at open; refuses drift (unless accepted) and a database newer than the code.
   */
  async applyPending(options: { acceptDrift?: DriftAcceptance } = {}): Promise<MigrationResult> {
    const core = this.registry.list('core');
    this.#checkDependencies(core);
    const meta = await this.metadata();
    const check = (m: ReadonlyMap<string, MetadataRow>) => {
      for (const c of core) {
        const row = m.get(c.name);
        if (row && row.currentVersion > c.latest) throw tooNewError(c, row);
      }
      const drifts = this.#drifts(m, this.registry.list());
      const refused = drifts.filter((d) => !isAccepted(d, options.acceptDrift));
      if (refused.length > 0) throw driftError(refused);
      return drifts;
    };
    const drifts = check(meta);
    if (drifts.length === 0 && this.#pendingSteps(meta).length === 0) return { planned: [], applied: [], skipped: [] };
    await this.#ensureTables();
    return this.#lock.run(async () => {
      const m = await this.metadata();
      const d = check(m);
      await this.#migrator.acceptDrifts(d, new Map(this.registry.list().map((c) => [c.name, c.type])), (x) => this.#versionName(x));
      const steps = this.#pendingSteps(await this.metadata());
      return this.#run(steps, 'active');
    });
  }

  /** Migrates one component up or down to `target` (default: latest). */
  async migrate(component: string, options: MigrateOptions = {}): Promise<MigrationResult> {
    const c = this.#component(component);
    const planFor = (m: ReadonlyMap<string, MetadataRow>) => {
      const steps = planComponent(c, m.get(c.name), options.target);
      const drifts = this.#drifts(m, [c]);
      if (drifts.length > 0) throw driftError(drifts);
      if (steps[0]?.direction === 'up') this.#checkDependencies([c], m);
      if (steps.length > 0 && steps[steps.length - 1]!.to === 0) this.#checkDependents(c, m);
      return steps;
    };
    const preview = planFor(await this.metadata());
    if (options.dryRun || preview.length === 0) return { planned: preview, applied: [], skipped: [] };
    await this.#ensureTables();
    return this.#lock.run(async () => this.#run(planFor(await this.metadata()), c.type === 'core' ? 'active' : 'inactive'));
  }

  /** Records drift as accepted (new checksums; one `accept_drift` history row per version). */
  async acceptDrift(accept: DriftAcceptance = true): Promise<number> {
    const meta = await this.metadata();
    const drifts = this.#drifts(meta, this.registry.list()).filter((d) => isAccepted(d, accept));
    if (drifts.length === 0) return 0;
    await this.#lock.run(async () => {
      const m = await this.metadata();
      const again = this.#drifts(m, this.registry.list()).filter((d) => isAccepted(d, accept));
      await this.#migrator.acceptDrifts(again, new Map(this.registry.list().map((c) => [c.name, c.type])), (x) => this.#versionName(x));
    });
    return drifts.length;
  }

  // ---- plugins -------------------------------------------------------------------------

  /** Applies the plugin's pending versions and marks it active. */
  async activatePlugin(name: string): Promise<MigrationResult> {
    const c = this.#plugin(name);
    await this.#ensureTables();
    return this.#lock.run(async () => {
      const meta = await this.metadata();
      const row = meta.get(c.name);
      if (row && row.currentVersion > c.latest) throw tooNewError(c, row);
      const drifts = this.#drifts(meta, [c]);
      if (drifts.length > 0) throw driftError(drifts);
      this.#checkDependencies([c], meta, true);
      const result = await this.#run(planComponent(c, row), 'inactive');
      await setState(this.#sql, c.name, 'active');
      this.#states.set(c.name, 'active');
      return result;
    });
  }

  /** Marks the plugin inactive; its tables and data stay. */
  async deactivatePlugin(name: string): Promise<void> {
    validatePluginName(name);
    const meta = await this.metadata();
    const row = meta.get(name);
    if (row?.type !== 'plugin' || row.state === 'removed') {
      throw schemaError('NOT_FOUND', `plugin ${name} is not installed`, { plugin: name });
    }
    for (const c of this.registry.list('plugin')) {
      if (c.dependsOn.includes(name) && meta.get(c.name)?.state === 'active') {
        throw schemaError('SCHEMA_DEPENDENCY', `plugin ${c.name} depends on ${name}: deactivate it first`, { plugin: name, dependent: c.name });
      }
    }
    await setState(this.#sql, name, 'inactive');
    this.#states.set(name, 'inactive');
  }

  /** Runs the plugin's down statements to version 0 (deleting its data) and marks it removed. */
  async removePlugin(name: string, options?: RemovePluginOptions): Promise<MigrationResult> {
    validatePluginName(name);
    if (options?.dropData !== true) {
      throw schemaError('INVALID_ARGUMENT', `removePlugin(${JSON.stringify(name)}) deletes the plugin's tables and data: pass { dropData: true } to confirm`, {
        plugin: name,
      });
    }
    const registered = this.registry.get(name);
    const meta = await this.metadata();
    const row = meta.get(name);
    if (!registered && !row) throw schemaError('NOT_FOUND', `unknown plugin ${name}`, { plugin: name });
    if (registered && registered.type !== 'plugin') {
      throw schemaError('INVALID_ARGUMENT', `${name} is a core schema, not a plugin`, { component: name });
    }
    if (!registered) {
      throw schemaError('NOT_FOUND', `plugin ${name} is installed but not registered: register its schema so its down statements can run`, {
        plugin: name,
      });
    }
    if (!row) return { planned: [], applied: [], skipped: [] };
    await this.#ensureTables();
    return this.#lock.run(async () => {
      const m = await this.metadata();
      const r = m.get(name);
      const drifts = this.#drifts(m, [registered]);
      if (drifts.length > 0) throw driftError(drifts);
      this.#checkDependents(registered, m);
      const result = await this.#run(planComponent(registered, r, 0), 'inactive');
      await setState(this.#sql, name, 'removed');
      this.#states.set(name, 'removed');
      return result;
    });
  }

  /**
   * The plugin's SQL handle. Every statement is compiled under SQLite's authorizer and may only
   * read or write the plugin's own `plugin_<name>_*` tables (no DDL). Fails closed with
   * `SANDBOX_UNAVAILABLE` when the native hook is missing.
   */
  pluginSql(name: string): PluginSql {
    validatePluginName(name);
    const sql = this.#sql;
    if (!hasSandbox(sql)) {
      throw schemaError('SANDBOX_UNAVAILABLE', 'plugin SQL needs the native authorizer sandbox (SqlStore.sandboxed), which this build lacks', {
        plugin: name,
      });
    }
    const policy = pluginPolicy(name, false);
    const inner: SandboxedStore = sql.sandboxed!(policy);
    const assertActive = () => {
      const state = this.#states.get(name);
      if (state !== 'active') {
        throw schemaError('PLUGIN_INACTIVE', `plugin ${name} is ${state ?? 'not installed'}: activate it first`, { plugin: name, state: state ?? 'not-installed' });
      }
    };
    assertActive();
    const serial = async <T>(run: () => Promise<T>): Promise<T> => {
      assertActive();
      const next = this.#pluginTail.then(() => (assertActive(), run()));
      this.#pluginTail = next.catch(() => undefined);
      return next;
    };
    return {
      plugin: name,
      prefix: policy.prefix,
      execute: (s, p) => serial(() => inner.execute(s, p)),
      query: (s, p) => serial(() => inner.query(s, p)),
      queryOne: (s, p) => serial(() => inner.queryOne(s, p)),
      exec: (s) => serial(() => inner.exec(s)),
      // Not queued: its statements run inside `fn`, which may await this handle's queue.
      transaction: async (fn) => (assertActive(), inner.transaction(fn)),
    } as PluginSql;
  }

  // ---- internals -----------------------------------------------------------------------

  async #ensureTables(): Promise<void> {
    if (this.#tablesReady) return;
    if (!(await trackingTablesExist(this.#sql))) {
      for (let attempt = 0; ; attempt++) {
        try {
          await this.#sql.exec(TRACKING_DDL);
          break;
        } catch (e) {
          if (errorCode(e) !== 'BUSY' || attempt >= 50) throw e;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }
    this.#tablesReady = true;
  }

  async #run(steps: readonly PlanStep[], newRowState: MetadataRow['state']): Promise<MigrationResult> {
    const applied: PlanStep[] = [];
    const skipped: PlanStep[] = [];
    for (const step of steps) {
      const r = await this.#migrator.runStep(step, newRowState);
      (r.skipped ? skipped : applied).push(step);
    }
    await this.metadata(); // refresh the state cache
    return { planned: steps, applied, skipped };
  }

  #pendingSteps(meta: ReadonlyMap<string, MetadataRow>): PlanStep[] {
    const steps: PlanStep[] = [];
    for (const c of this.registry.list()) {
      const row = meta.get(c.name);
      if (c.type === 'plugin' && row?.state !== 'active') continue;
      if (row && row.currentVersion > c.latest) {
        if (c.type === 'core') throw tooNewError(c, row);
        continue;
      }
      steps.push(...planComponent(c, row));
    }
    return steps;
  }

  #drifts(meta: ReadonlyMap<string, MetadataRow>, components: readonly SchemaComponent[]): Drift[] {
    return components.flatMap((c) => findDrift(c, meta.get(c.name)));
  }

  #versionName(d: Drift): string {
    return this.registry.get(d.component)?.versions[d.version - 1]?.name ?? '';
  }

  #component(name: string): SchemaComponent {
    if (typeof name !== 'string') throw schemaError('INVALID_ARGUMENT', 'component name must be a string');
    const c = this.registry.get(name);
    if (!c) throw schemaError('NOT_FOUND', `unknown schema component ${JSON.stringify(name)}`, { component: name });
    return c;
  }

  #plugin(name: string): SchemaComponent {
    validatePluginName(name);
    const c = this.registry.get(name);
    if (!c) throw schemaError('NOT_FOUND', `unknown plugin ${name}: register its schema first`, { plugin: name });
    if (c.type !== 'plugin') throw schemaError('INVALID_ARGUMENT', `${name} is a core schema, not a plugin`, { component: name });
    return c;
  }

  /** Dependencies must be registered (and, given `meta`, applied; plugins active when `activeOnly`). */
  #checkDependencies(components: readonly SchemaComponent[], meta?: ReadonlyMap<string, MetadataRow>, activeOnly = false): void {
    for (const c of components) {
      for (const dep of c.dependsOn) {
        const d = this.registry.get(dep);
        if (!d) {
          throw schemaError('SCHEMA_DEPENDENCY', `schema ${c.name} depends on ${dep}, which is not registered`, { component: c.name, dependency: dep });
        }
        if (c.type === 'core' && d.type === 'plugin') {
          throw schemaError('SCHEMA_DEPENDENCY', `core schema ${c.name} cannot depend on plugin ${dep}`, { component: c.name, dependency: dep });
        }
        if (!meta) continue;
        const row = meta.get(dep);
        if (!row || row.currentVersion === 0 || (activeOnly && d.type === 'plugin' && row.state !== 'active')) {
          throw schemaError(
            'SCHEMA_DEPENDENCY',
            `schema ${c.name} depends on ${dep}, which is not ${d.type === 'plugin' ? 'active' : 'applied'}${d.type === 'plugin' ? `: activate ${dep} first` : ''}`,
            { component: c.name, dependency: dep },
          );
        }
      }
    }
  }

  /** Undoing `c` entirely is refused while an installed component depends on it. */
  #checkDependents(c: SchemaComponent, meta: ReadonlyMap<string, MetadataRow>): void {
    for (const other of this.registry.list()) {
      if (other.dependsOn.includes(c.name) && (meta.get(other.name)?.currentVersion ?? 0) > 0) {
        throw schemaError('SCHEMA_DEPENDENCY', `cannot undo ${c.name}: ${other.name} depends on it`, { component: c.name, dependent: other.name });
      }
    }
  }
}
