/**
 * Hybrid logical clock stamps: `wall.counter.device`, fixed width (`%015d.%05d.<device id>`),
 * so that the text order is the clock order (wall ms, then counter, then device as tie-break).
 *
 * The clock lives in the `sync_clock` row: capture triggers bump it for local writes (see
 * `src/schema/core/sync.ts`); {@link receiveClock} advances it past every imported stamp, so a
 * local write made after seeing a change always sorts after that change.
 */
import type { SqlExecutor } from '../stores/sql/index.js';

/** The parts of a stamp. */
export interface HlcParts {
  readonly wall: number;
  readonly counter: number;
  readonly device: string;
}

const HLC = /^(\d{15})\.(\d{5})\.([0-9a-f]{32})$/;

/** True when `s` is a well-formed stamp. */
export function isHlc(s: unknown): s is string {
  return typeof s === 'string' && HLC.test(s);
}

/** Splits a stamp into wall ms, counter and device. */
export function parseHlc(s: string): HlcParts {
  const m = HLC.exec(s);
  if (!m) throw new TypeError(`not an HLC stamp: ${JSON.stringify(s)}`);
  return { wall: Number(m[1]), counter: Number(m[2]), device: m[3]! };
}

/** Formats a stamp. */
export function formatHlc(wall: number, counter: number, device: string): string {
  return `${String(wall).padStart(15, '0')}.${String(counter).padStart(5, '0')}.${device}`;
}

/** Advances the persisted clock past `seen` (the HLC receive rule). */
export async function receiveClock(tx: SqlExecutor, seen: string): Promise<void> {
  if (!isHlc(seen)) return;
  const { wall, counter } = parseHlc(seen);
  await tx.execute(
    `UPDATE sync_clock SET
       counter = CASE WHEN :wall > wall THEN :counter WHEN :wall = wall THEN max(counter, :counter) ELSE counter END,
       wall = max(wall, :wall)
     WHERE id = 1`,
    { wall, counter },
  );
}

/** Takes one stamp from the persisted clock (for changes the engine records itself). */
export async function tick(tx: SqlExecutor): Promise<string> {
  const now = Date.now();
  await tx.execute(`UPDATE sync_clock SET counter = CASE WHEN :now > wall THEN 0 ELSE counter + 1 END, wall = max(wall, :now) WHERE id = 1`, { now });
  const row = await tx.queryOne<{ wall: number; counter: number; device: string }>(`SELECT wall, counter, device FROM sync_clock WHERE id = 1`);
  return formatHlc(Number(row!.wall), Number(row!.counter), row!.device);
}
