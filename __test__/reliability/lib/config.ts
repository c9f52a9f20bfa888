/**
 * Trial counts of the reliability suite. `AICO_RELIABILITY=long` (set by `npm run test:reliability`)
 * runs the long versions and records the figures; CI's `vitest run` runs the short ones.
 */
import { seededRandom } from '../../../src/util/seeded-random.js';
export const LONG = process.env.AICO_RELIABILITY === 'long';

/** `short` in CI, `long` under `npm run test:reliability`. */
export function scale(short: number, long: number): number {
  return LONG ? long : short;
}

/** Per-test timeout for a part that runs `trials` of roughly `perTrialMs` each, with slack for a busy machine. */
export function timeoutFor(trials: number, perTrialMs: number): number {
  return 60_000 + trials * perTrialMs * 3;
}

/** Deterministic pseudo-random numbers: a failing trial can be replayed from its seed. */
export const rng = seededRandom;

/** The run's base seed: `AICO_RELIABILITY_SEED` replays a run, otherwise the clock. */
export const BASE_SEED = Number(process.env.AICO_RELIABILITY_SEED ?? Date.now() % 2_147_483_647);
