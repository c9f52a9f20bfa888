/**
 * Progress of work reported in phases (`{ phase, done, total }`, as backup, restore and key
 * rotation report it): one progress bar per phase that did something, bytes shown as KiB/MiB.
 * Reports come every ~100 ms, so a phase is timed from the end of the previous one.
 */
import { formatBytes } from './output.js';
import { createProgress, type Progress } from './progress.js';

/** One report of phased work. */
export interface PhaseReport {
  readonly phase: string;
  readonly done: number;
  readonly total: number;
}

/**
 * `onProgress` for phased work, and `finish()` to close the last bar. `byteUnits` names the
 * phases that count bytes; the others count `unit`.
 */
export function phaseProgress(label: string, byteUnits: Readonly<Record<string, boolean>>, unit = 'records'): { onProgress: (p: PhaseReport) => void; finish: () => void } {
  let phase: string | undefined;
  let bar: Progress | undefined;
  let phaseStart = performance.now();
  let lastReport = phaseStart;
  return {
    onProgress: (p) => {
      const now = performance.now();
      if (p.phase !== phase) {
        bar?.done();
        bar = undefined;
        phase = p.phase;
        phaseStart = lastReport;
      }
      lastReport = now;
      if (!p.phase || (p.done === 0 && p.total === 0)) return;
      if (!bar) {
        const bytes = byteUnits[p.phase] === true;
        bar = createProgress({ label: p.phase === label ? `  ${label}` : `  ${label} ${p.phase}`, total: p.total, unit, startedAt: phaseStart, ...(bytes ? { format: formatBytes } : {}) });
      }
      bar.update(p.done);
    },
    finish: () => bar?.done(),
  };
}
