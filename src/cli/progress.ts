/**
 * Progress of long work. On a terminal: one line redrawn in place with a bar, the count, the
 * rate and the ETA. Otherwise (a pipe, a log, CI): a plain line every 10% so logs stay short.
 * Written to stderr, so stdout keeps only results (`--json` stays parseable).
 */

/** A progress reporter; {@link Progress.done} prints the final line. */
export interface Progress {
  /** Sets the count of finished units. */
  update(done: number): void;
  /** Adds to the count of finished units. */
  tick(n?: number): void;
  /** Final line: total, elapsed time, mean rate. */
  done(suffix?: string): void;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  label: string;
  /** Units in all; 0 when not known (then no bar, percentage or ETA). */
  total: number;
  /** Formats a count (default: grouped digits, followed by `unit`). */
  format?: (n: number) => string;
  /** Unit name in the rate, e.g. `messages`. */
  unit?: string;
  /** Where to write (default stderr). */
  stream?: NodeJS.WriteStream;
  /** Force the terminal or plain form (default: the stream's `isTTY`). */
  tty?: boolean;
  /** When the work began (`performance.now()`; default: now), for the rate and the elapsed time. */
  startedAt?: number;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** `12.3 s`, `4 m 05 s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} m ${String(Math.round(s - m * 60)).padStart(2, '0')} s`;
}

/** A progress reporter for `total` units. */
export function createProgress(options: ProgressOptions): Progress {
  const { label, total, unit = 'items' } = options;
  const show = options.format ?? ((n: number) => `${fmt(n)} ${unit}`);
  const showCount = options.format ?? fmt;
  const known = total > 0;
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? stream.isTTY === true;
  const started = options.startedAt ?? performance.now();
  let count = 0;
  let lastDraw = tty ? 0 : performance.now();
  let lastDecile = 0; // the first plain line comes at 10%
  let finished = false;

  const line = (now: number) => {
    const elapsed = now - started;
    const rate = elapsed > 0 ? (count / elapsed) * 1000 : 0;
    const eta = rate > 0 ? ((total - count) / rate) * 1000 : Infinity;
    const pct = known ? Math.min(1, count / total) : 0;
    return { pct, text: known ? `${showCount(count)}/${show(total)}, ${show(rate)}/s, ETA ${formatDuration(eta)}` : `${show(count)}, ${show(rate)}/s` };
  };

  const draw = (force = false) => {
    const now = performance.now();
    if (tty) {
      if (!force && now - lastDraw < 100) return;
      lastDraw = now;
      const { pct, text } = line(now);
      const width = 24;
      const filled = Math.round(pct * width);
      stream.write(known ? `\r\x1b[2K${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(pct * 100)).padStart(3)}% ${text}` : `\r\x1b[2K${label} ${text}`);
    } else if (known) {
      const { pct, text } = line(now);
      const decile = Math.floor(pct * 10);
      if (decile === lastDecile || decile === 10) return;
      lastDecile = decile;
      stream.write(`${label}: ${Math.floor(pct * 100)}% ${text}\n`);
    } else if (now - lastDraw >= 2000) {
      // Unknown total: a plain line every 2 s.
      lastDraw = now;
      stream.write(`${label}: ${line(now).text}\n`);
    }
  };

  return {
    update(done: number) {
      count = done;
      if (!finished) draw();
    },
    tick(n = 1) {
      count += n;
      if (!finished) draw();
    },
    done(suffix?: string) {
      if (finished) return;
      finished = true;
      const elapsed = performance.now() - started;
      const rate = elapsed > 0 ? (count / elapsed) * 1000 : 0;
      const summary = `${label}: ${show(count)} in ${formatDuration(elapsed)} (${show(rate)}/s)${suffix ? `; ${suffix}` : ''}`;
      stream.write(tty ? `\r\x1b[2K${summary}\n` : `${summary}\n`);
    },
  };
}
