import { NativeProgress } from '../native/index.js';
import type { BackupProgress } from './types.js';

/** How often a running operation's progress is polled. */
const POLL_MS = 100;

/**
 * Runs `start(progress)` (a native task that updates `progress` from its worker thread) and
 * reports the progress to `onProgress` every {@link POLL_MS} while it runs, and once at the
 * end. A throwing callback does not stop the work: its error is rethrown after the work ends.
 */
export async function withProgress<T>(
  onProgress: ((p: BackupProgress) => void) | undefined,
  start: (progress: NativeProgress) => Promise<T>,
): Promise<T> {
  const progress = new NativeProgress();
  let callbackError: unknown;
  let last = '';
  const report = () => {
    if (!onProgress || callbackError !== undefined) return;
    const s = progress.snapshot();
    const key = `${s.phase}:${s.done}:${s.total}`;
    if (key === last) return;
    last = key;
    try {
      onProgress({ phase: s.phase, done: s.done, total: s.total });
    } catch (e) {
      callbackError = e ?? new Error('onProgress threw');
    }
  };
  const timer = onProgress ? setInterval(report, POLL_MS) : undefined;
  try {
    const out = await start(progress);
    report();
    if (callbackError !== undefined) throw callbackError;
    return out;
  } finally {
    if (timer) clearInterval(timer);
  }
}
