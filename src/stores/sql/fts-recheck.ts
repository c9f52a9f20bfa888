/**
 * FTS5 checks on the writer. `PRAGMA integrity_check` runs on a pooled reader connection, and
 * an FTS5 table's check there can use the index structure that connection cached before the
 * writer's latest commits: it then reports "malformed inverted index" for a sound index, or
 * misses damage in segments it does not know yet (found by the reliability suite; a fresh
 * connection or the writer sees the truth). So the FTS5 verdicts are taken from the writer.
 */
import { toAicoError } from '../../errors.js';

const FTS5_MALFORMED = /^malformed inverted index for FTS5 table ([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)$/;

/** What {@link withWriterFtsVerdicts} needs from the store. */
export interface FtsCheckAccess {
  /** Names of the FTS5 tables in `main`. */
  ftsTables(): string[];
  /** Runs one statement on the writer; throws what the binding throws. */
  runOnWriter(sql: string): void;
}

/**
 * Replaces the reader's FTS5 reports in `problems` with the writer's own check of each FTS5
 * table (`INSERT INTO t(t) VALUES('integrity-check')`). When the writer cannot run it (busy in
 * a transaction), the reader's report for that table is kept.
 */
export function withWriterFtsVerdicts(problems: string[], access: FtsCheckAccess): string[] {
  const readerFts = new Set(problems.filter((p) => FTS5_MALFORMED.test(p)));
  const out = problems.filter((p) => !readerFts.has(p));
  for (const table of access.ftsTables()) {
    if (!/^[A-Za-z0-9_]+$/.test(table)) continue;
    const report = `malformed inverted index for FTS5 table main.${table}`;
    try {
      access.runOnWriter(`INSERT INTO "main"."${table}"("${table}") VALUES('integrity-check')`);
    } catch (e) {
      if (toAicoError(e).code === 'CORRUPT' || readerFts.has(report)) out.push(report);
    }
  }
  return out;
}
