/**
 * Time-ordered identifiers in the UUIDv7 layout (RFC 9562): 48 bits of Unix milliseconds,
 * then a 12-bit counter (so ids made in the same millisecond still sort in creation order),
 * then 62 random bits. `crypto.randomUUID()` gives v4, whose random order would make
 * (created_at, id) pagination and index locality worse.
 */

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const POOL_SIZE = 4096;
const pool = new Uint8Array(POOL_SIZE);
let poolAt = POOL_SIZE;
let lastMs = -1;
let counter = 0;

function randomBytes(n: number): Uint8Array {
  if (poolAt + n > POOL_SIZE) {
    globalThis.crypto.getRandomValues(pool);
    poolAt = 0;
  }
  const out = pool.subarray(poolAt, poolAt + n);
  poolAt += n;
  return out;
}

/**
 * A new UUIDv7 string, e.g. `01932c07-a1b2-7c3d-8e4f-0123456789ab`. Monotonic within this
 * process: a later call never returns a smaller id, even if the clock steps back.
 */
export function newId(now: number = Date.now()): string {
  let ms = Math.floor(now);
  if (ms > lastMs) {
    lastMs = ms;
    // Start the counter at a random point in its lower half: unguessable, leaves room to count.
    counter = randomBytes(1)[0]! << 3;
  } else {
    ms = lastMs;
    counter++;
    if (counter > 0xfff) {
      // 4096 ids in one millisecond: borrow the next millisecond rather than lose order.
      lastMs = ++ms;
      counter = 0;
    }
  }
  const r = randomBytes(8);
  const b = new Uint8Array(16);
  // 48-bit big-endian milliseconds (2^48 ms reaches year 10889).
  const hi = Math.floor(ms / 0x1000000);
  const lo = ms % 0x1000000;
  b[0] = (hi >>> 16) & 0xff;
  b[1] = (hi >>> 8) & 0xff;
  b[2] = hi & 0xff;
  b[3] = (lo >>> 16) & 0xff;
  b[4] = (lo >>> 8) & 0xff;
  b[5] = lo & 0xff;
  b[6] = 0x70 | (counter >>> 8);
  b[7] = counter & 0xff;
  b[8] = 0x80 | (r[0]! & 0x3f);
  for (let i = 1; i < 8; i++) b[8 + i] = r[i]!;
  let s = '';
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
    s += HEX[b[i]!];
  }
  return s;
}

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The Unix milliseconds inside a UUIDv7, or `undefined` for any other string. */
export function idTimestamp(id: string): number | undefined {
  if (!V7.test(id)) return undefined;
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
