/** Process helpers for tests that spawn, kill and wait for children and servers. */
export { processAlive as alive } from '../../src/util/process-alive.js';

/** Polls `check` until it is true or `ms` pass; resolves with the last answer. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms = 15_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
