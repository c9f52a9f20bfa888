/**
 * Running steps: each version in its own transaction. A failing statement rolls the whole
 * version back; then the failure is written to the history in a statement of its own (so it
 * survives the rollback) and `MIGRATION_FAILED` names the component, version and statement.
 */
import type { ComponentType, PlanStep, SchemaStore } from './types.js';
import { errorCode, errorMessage, schemaError } from './errors.js';
import { insertHistory, nowIso, readMetadata, writeMetadata, type MetadataRow } from './tracking.js';
import { catalogViolation, snapshotCatalog, stepExecutor } from './sandbox.js';
import type { MigrationLock } from './lock.js';
import type { Drift } from './plan.js';

class StepFailure extends Error {
  constructor(
    readonly statementIndex: number | null,
    readonly statement: string | null,
    readonly causeCode: string,
    readonly causeError: unknown,
    message: string,
  ) {
    super(message);
  }
}

class StaleStep extends Error {}

const EXCERPT = 200;
function excerpt(sql: string): string {
  const one = sql.replace(/\s+/g, ' ').trim();
  return one.length > EXCERPT ? `${one.slice(0, EXCERPT)}...` : one;
}

export interface StepOutcome {
  readonly step: PlanStep;
  readonly skipped: boolean;
}

export class Migrator {
  constructor(
    readonly sql: SchemaStore,
    readonly lock: MigrationLock,
    readonly appliedBy: string,
  ) {}

  /** Runs one version. Returns `skipped` when the database is no longer at `step.from`. */
  async runStep(step: PlanStep, newRowState: MetadataRow['state'] = 'active'): Promise<StepOutcome> {
    const startedAt = nowIso();
    const t0 = performance.now();
    try {
      await this.sql.transaction(async (tx) => {
        const row = await readMetadata(tx, step.component);
        if ((row?.currentVersion ?? 0) !== step.from) throw new StaleStep();
        await this.lock.renew(tx);
        const before = step.type === 'plugin' ? await snapshotCatalog(tx) : null;
        const exec = stepExecutor(tx, step);
        for (let i = 0; i < step.statements.length; i++) {
          const stmt = step.statements[i]!;
          try {
            await exec.execute(stmt);
          } catch (e) {
            throw new StepFailure(i, stmt, errorCode(e) ?? 'INTERNAL', e, errorMessage(e));
          }
        }
        if (before) {
          const violation = await catalogViolation(tx, before, step.component);
          if (violation) throw new StepFailure(null, null, 'NOT_AUTHORIZED', undefined, `plugin ${step.component}: ${violation}`);
        }
        const checksums = { ...(row?.checksums ?? {}) };
        if (step.direction === 'up') checksums[String(step.version)] = step.checksum;
        else delete checksums[String(step.version)];
        await writeMetadata(tx, {
          name: step.component,
          type: step.type,
          currentVersion: step.to,
          checksums,
          state: row?.state ?? newRowState,
        });
        await insertHistory(tx, {
          component: step.component,
          type: step.type,
          version: step.version,
          name: step.name,
          direction: step.direction,
          checksum: step.checksum,
          startedAt,
          finishedAt: nowIso(),
          durationMs: performance.now() - t0,
          success: true,
          appliedBy: this.appliedBy,
        });
      });
      return { step, skipped: false };
    } catch (e) {
      if (e instanceof StaleStep) return { step, skipped: true };
      // The transaction is rolled back by now: record the failed attempt on its own.
      const failure =
        e instanceof StepFailure ? e : new StepFailure(null, null, errorCode(e) ?? 'INTERNAL', e, errorMessage(e));
      let historyError: string | undefined;
      try {
        await insertHistory(this.sql, {
          component: step.component,
          type: step.type,
          version: step.version,
          name: step.name,
          direction: step.direction,
          checksum: step.checksum,
          startedAt,
          finishedAt: nowIso(),
          durationMs: performance.now() - t0,
          success: false,
          error: `[${failure.causeCode}] ${failure.message}`,
          statement: failure.statement,
          appliedBy: this.appliedBy,
        });
      } catch (he) {
        historyError = errorMessage(he);
      }
      if (!(e instanceof StepFailure) && errorCode(e) === 'TIMEOUT') throw e; // lease lost
      const where =
        failure.statementIndex === null
          ? ''
          : `, statement ${failure.statementIndex + 1} of ${step.statements.length} (${excerpt(failure.statement!)})`;
      throw schemaError(
        'MIGRATION_FAILED',
        `migration failed: ${step.component} version ${step.version} (${step.name}) ${step.direction}${where}: ${failure.message}; version ${step.version} was rolled back`,
        {
          component: step.component,
          type: step.type,
          version: step.version,
          versionName: step.name,
          direction: step.direction,
          statementIndex: failure.statementIndex,
          statement: failure.statement,
          causeCode: failure.causeCode,
          ...(historyError ? { historyError } : {}),
        },
        failure.causeError ?? e,
      );
    }
  }

  /** Records accepted drifts: new checksum in the metadata, one `accept_drift` history row each. */
  async acceptDrifts(drifts: readonly Drift[], types: ReadonlyMap<string, ComponentType>, names: (d: Drift) => string): Promise<void> {
    if (drifts.length === 0) return;
    await this.sql.transaction(async (tx) => {
      await this.lock.renew(tx);
      for (const d of drifts) {
        const row = await readMetadata(tx, d.component);
        if (!row || row.checksums[String(d.version)] !== d.recorded) continue; // someone else did it
        const now = nowIso();
        await writeMetadata(tx, {
          name: row.name,
          type: row.type,
          currentVersion: row.currentVersion,
          checksums: { ...row.checksums, [String(d.version)]: d.registered },
          state: row.state,
        });
        await insertHistory(tx, {
          component: d.component,
          type: types.get(d.component) ?? row.type,
          version: d.version,
          name: names(d),
          direction: 'accept_drift',
          checksum: d.registered,
          startedAt: now,
          finishedAt: now,
          durationMs: 0,
          success: true,
          note: `accepted drift: recorded checksum ${d.recorded} replaced by ${d.registered}`,
          appliedBy: this.appliedBy,
        });
      }
    });
  }
}
