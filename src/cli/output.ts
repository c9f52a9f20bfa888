/**
 * Result output: aligned text tables for people, JSON (`--json`) for scripts. Results go to
 * stdout; progress and diagnostics go to stderr.
 */

/** A cell value as the stores return it. */
export type Cell = string | number | bigint | boolean | null | undefined | Buffer | Uint8Array;

function cellText(v: Cell): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(3);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  return String(v).replace(/\s+/g, ' ');
}

const numeric = (v: Cell) => typeof v === 'number' || typeof v === 'bigint';

/**
 * Renders rows as an aligned table (numbers right-aligned). `columns` defaults to the keys of
 * the first row.
 */
export function formatTable(rows: ReadonlyArray<Record<string, Cell>>, columns?: readonly string[], maxWidth = 60): string {
  const cols = columns ?? (rows[0] ? Object.keys(rows[0]) : []);
  if (cols.length === 0) return '(no rows)';
  const text = rows.map((r) => cols.map((c) => cellText(r[c])));
  const right = cols.map((c) => rows.some((r) => numeric(r[c])) && rows.every((r) => r[c] == null || numeric(r[c])));
  const width = cols.map((c, i) => Math.min(maxWidth, Math.max(c.length, ...text.map((t) => t[i]!.length))));
  const pad = (s: string, i: number) => {
    const cut = s.length > width[i]! ? `${s.slice(0, width[i]! - 1)}…` : s;
    return right[i] ? cut.padStart(width[i]!) : cut.padEnd(width[i]!);
  };
  const lines = [cols.map((c, i) => pad(c, i)).join('  '), width.map((w) => '-'.repeat(w)).join('  ')];
  for (const t of text) lines.push(t.map((s, i) => pad(s, i)).join('  ').trimEnd());
  if (rows.length === 0) lines.push('(no rows)');
  return lines.join('\n');
}

/** JSON with bigints as numbers when safe (strings otherwise) and Buffers as base64. */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v: unknown) => {
      if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
      if (v && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
        return Buffer.from((v as { data: number[] }).data).toString('base64');
      }
      return v;
    },
    2,
  );
}

// A reader that went away (`aico-data status | head`) must not crash the command while its
// stores are open: further output is dropped and the command finishes and closes normally.
let stdoutGone = false;
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  stdoutGone = true;
});

/** Writes a line to stdout (dropped once the reader has gone). */
export function out(s = ''): void {
  if (!stdoutGone) process.stdout.write(`${s}\n`);
}

/** `1.2 MiB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v.toFixed(1)} ${units[i]}`;
}
