/**
 * Checking one incoming change before it may join the change log. A changeset is signed by a
 * trusted device, but that device may be buggy or compromised: every change is checked alone,
 * and a bad one is refused alone (the rest of its changeset applies), with a typed reason:
 *
 * - `CORRUPT`: not a well-formed change (shape, stamp, table, key, image JSON, value encoding,
 *   an image whose key column names another row, a `base` that is not a stamp list).
 * - `SYNC_CLOCK_SKEW`: stamped more than {@link MAX_CLOCK_DRIFT_MS} ahead of this device's
 *   wall time. Adopting it would drag the local clock (and every later local write) along.
 *
 * A change that passes is exactly what the capture triggers write, so materializing it cannot
 * throw a parse error later.
 */
import { AicoDataError } from '../errors.js';
import type { WireChange } from './wire.js';
import { isHlc, MAX_CLOCK_DRIFT_MS, parseHlc } from './hlc.js';
import { decodeValue, specOf } from './tables.js';

/** The outcome of {@link checkChange}. */
export type ChangeCheck =
  | { readonly ok: true; readonly change: WireChange }
  | {
      readonly ok: false;
      readonly error: AicoDataError;
      /** What could be read of the change (for the record and the version vector cap). */
      readonly hlc: string | null;
      readonly origin: string | null;
      readonly table: string | null;
    };

const DEVICE = /^[0-9a-f]{32}$/;
/** Longest primary key accepted (the synced keys are uuids and short config keys). */
const MAX_PK = 512;

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/** Checks one raw change of a decrypted changeset body. */
export function checkChange(raw: unknown, now = Date.now()): ChangeCheck {
  const arr = Array.isArray(raw) ? (raw as unknown[]) : [];
  const hlc = str(arr[0]);
  const origin = str(arr[1]);
  const table = str(arr[2]);
  const bad = (why: string): ChangeCheck => ({
    ok: false,
    error: new AicoDataError('CORRUPT', `a sync change was refused: ${why}`, { hlc, origin, table }),
    hlc,
    origin,
    table,
  });
  if (!Array.isArray(raw) || raw.length !== 9) return bad('not a 9-field change');
  const [, , , pk, op, base, cols, data, sv] = arr;
  if (!isHlc(hlc)) return bad('malformed stamp');
  if (origin === null || !DEVICE.test(origin) || !hlc.endsWith(`.${origin}`)) return bad('origin does not match the stamp');
  const spec = table === null ? undefined : specOf(table);
  if (!spec) return bad('not a synced table');
  if (typeof pk !== 'string' || pk === '' || pk.length > MAX_PK) return bad('malformed primary key');
  if (op !== 'I' && op !== 'U' && op !== 'D') return bad('unknown operation');
  if (!Number.isInteger(sv) || (sv as number) < 0) return bad('malformed schema version');
  if (base !== null && (typeof base !== 'string' || !base.split(',').every(isHlc))) return bad('malformed base');
  if (cols !== null && (typeof cols !== 'string' || !/^\|([a-z0-9_]+\|)*$/.test(cols))) return bad('malformed column list');
  if (op === 'D') {
    if (data !== null) return bad('a delete carries no image');
  } else {
    if (typeof data !== 'string') return bad('an insert or update without an image');
    let img: unknown;
    try {
      img = JSON.parse(data);
    } catch {
      return bad('the row image is not JSON');
    }
    if (img === null || typeof img !== 'object' || Array.isArray(img)) return bad('the row image is not an object');
    const image = img as Record<string, unknown>;
    for (const c of spec.columns) {
      if (!(c in image)) continue;
      try {
        decodeValue(image[c]);
      } catch {
        return bad(`column ${c} holds a value no capture trigger writes`);
      }
    }
    // The image must describe the row it is filed under, or folding would write another row.
    if (op === 'I' && !(spec.pk in image)) return bad('an insert without its key column');
    if (spec.pk in image && image[spec.pk] !== pk) return bad('the image names another row');
  }
  if (parseHlc(hlc).wall > now + MAX_CLOCK_DRIFT_MS) {
    return {
      ok: false,
      error: new AicoDataError(
        'SYNC_CLOCK_SKEW',
        `a sync change is stamped ${Math.round((parseHlc(hlc).wall - now) / 3_600_000)} h ahead of this device's clock (at most ${MAX_CLOCK_DRIFT_MS / 3_600_000} h): kept aside`,
        { hlc, origin, table },
      ),
      hlc,
      origin,
      table,
    };
  }
  return { ok: true, change: raw as WireChange };
}
