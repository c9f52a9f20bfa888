/**
 * Hybrid logical clock stamps: `wall.counter.device`, so that the text order is the clock order
 * (wall ms, then counter, then device as tie-break).
 *
 * - `wall`: 15 digits, zero-padded.
 * - `counter`: below 100,000 five digits (`%05d`, the format of `sync` schema versions 1-2, so
 *   every stamp already in a folder keeps its meaning); from 100,000 on `x`, one letter giving
 *   the digit count (`f` = 6 ... `s` = 19) and the digits. `x` sorts after every digit and the
 *   letter orders lengths, so any counter up to SQLite's int64 limit sorts correctly as text and
 *   a busy millisecond can never overflow a fixed width again. Each counter has one spelling.
 *
 * The clock lives in the `sync_clock` row: capture triggers bump it for local writes (see
 * `src/schema/core/sync.ts`, version 3); {@link receiveClock} advances it past every imported
 * stamp, so a local write made after seeing a change always sorts after that change. Received
 * stamps more than {@link MAX_CLOCK_DRIFT_MS} ahead of this device's wall time are refused
 * (never adopted), and a received counter moves the local one at most to
 * {@link MAX_ADOPTED_COUNTER}: a peer can neither push the clock years ahead nor to the int64 edge.
 */
import type { SqlExecutor } from '../stores/sql/index.js';

/** The parts of a stamp. `counter` is exact up to 2^53 (`counterDigits` always). */
export interface HlcParts {
  readonly wall: number;
  readonly counter: number;
  readonly counterDigits: string;
  readonly device: string;
}

/** How far ahead of local wall time a received stamp may be (24 h). */
export const MAX_CLOCK_DRIFT_MS = 24 * 60 * 60 * 1000;

/**
 * The highest counter a received stamp may move the local clock to (2^62): local counters then
 * stay below SQLite's int64 limit (2^63 - 1) for 4.6e18 further writes, so stamps this device
 * makes are always valid for its peers.
 */
export const MAX_ADOPTED_COUNTER = '4611686018427387904';

const INT64_MAX = '9223372036854775807';
const HLC = /^(\d{15})\.(\d{5}|x([f-s])([1-9]\d{5,18}))\.([0-9a-f]{32})$/;

function match(s: unknown): RegExpExecArray | null {
  if (typeof s !== 'string') return null;
  const m = HLC.exec(s);
  if (!m) return null;
  if (m[3] !== undefined) {
    const digits = m[4]!;
    // The length letter must match, and the counter must fit SQLite's int64.
    if (m[3].charCodeAt(0) - 96 !== digits.length) return null;
    if (digits.length === 19 && digits > INT64_MAX) return null;
  }
  return m;
}

/** True when `s` is a well-formed stamp. */
export function isHlc(s: unknown): s is string {
  return match(s) !== null;
}

/** Splits a stamp into wall ms, counter and device. */
export function parseHlc(s: string): HlcParts {
  const m = match(s);
  if (!m) throw new TypeError(`not an HLC stamp: ${JSON.stringify(s)}`);
  const counterDigits = m[4] ?? String(Number(m[2]));
  return { wall: Number(m[1]), counter: Number(counterDigits), counterDigits, device: m[5]! };
}

/** The counter part of a stamp (see the module comment). */
export function formatCounter(counter: number | bigint | string): string {
  const digits = BigInt(counter).toString();
  if (BigInt(counter) < 0n) throw new RangeError('an HLC counter is not negative');
  return digits.length <= 5 ? digits.padStart(5, '0') : `x${String.fromCharCode(96 + digits.length)}${digits}`;
}

/** Formats a stamp. */
export function formatHlc(wall: number, counter: number | bigint | string, device: string): string {
  if (!Number.isSafeInteger(wall) || wall < 0 || wall >= 1e15) throw new RangeError('an HLC wall time is 0 <= ms < 10^15');
  return `${String(wall).padStart(15, '0')}.${formatCounter(counter)}.${device}`;
}

/** How many ms `stamp` lies ahead of `now` (0 when not ahead). */
export function aheadBy(stamp: string, now = Date.now()): number {
  return Math.max(0, parseHlc(stamp).wall - now);
}

/** True when `stamp` is further ahead of `now` than {@link MAX_CLOCK_DRIFT_MS} allows. */
export function tooFarAhead(stamp: string, now = Date.now()): boolean {
  return aheadBy(stamp, now) > MAX_CLOCK_DRIFT_MS;
}

/**
 * Advances the persisted clock past `seen` (the HLC receive rule). A stamp beyond the drift
 * bound is ignored (callers refuse such changes before; this is the last line), and the
 * counter adopted is capped at {@link MAX_ADOPTED_COUNTER}.
 */
export async function receiveClock(tx: SqlExecutor, seen: string): Promise<void> {
  if (!isHlc(seen) || tooFarAhead(seen)) return;
  const { wall, counterDigits } = parseHlc(seen);
  // The counter travels as text: above 2^53 a JS number would round it.
  await tx.execute(
    `UPDATE sync_clock SET
       counter = CASE WHEN :wall > wall THEN min(CAST(:counter AS INTEGER), ${MAX_ADOPTED_COUNTER})
                      WHEN :wall = wall THEN max(counter, min(CAST(:counter AS INTEGER), ${MAX_ADOPTED_COUNTER}))
                      ELSE counter END,
       wall = max(wall, :wall)
     WHERE id = 1`,
    { wall, counter: counterDigits },
  );
}

/** Takes one stamp from the persisted clock (for changes the engine records itself). */
export async function tick(tx: SqlExecutor): Promise<string> {
  const now = Date.now();
  await tx.execute(`UPDATE sync_clock SET counter = CASE WHEN :now > wall THEN 0 ELSE counter + 1 END, wall = max(wall, :now) WHERE id = 1`, { now });
  const row = await tx.queryOne<{ wall: number; counter: string; device: string }>(`SELECT wall, CAST(counter AS TEXT) AS counter, device FROM sync_clock WHERE id = 1`);
  return formatHlc(Number(row!.wall), row!.counter, row!.device);
}
