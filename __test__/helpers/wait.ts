/**
 * Waiting in tests: for the event itself or for a bounded poll of the exact condition, never
 * for a fixed time (a loaded machine overruns any fixed time; issue 17 item 7).
 */
import { randomUUID } from 'node:crypto';
import type { MessageBus } from '../../src/bus/index.js';

export interface WaitOptions {
  /** Give up (throw) after this long (default 10 s). */
  readonly timeoutMs?: number;
  /** Pause between checks (default 5 ms). */
  readonly intervalMs?: number;
  /** Named in the error when the condition never holds. */
  readonly what?: string;
}

/** Polls `check` until it holds; throws once `timeoutMs` pass without it holding. */
export async function waitFor(check: () => boolean | Promise<boolean>, options: WaitOptions = {}): Promise<void> {
  const { timeoutMs = 10_000, intervalMs = 5, what = 'the condition' } = options;
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Resolves once the wall clock (Unix ms) is past `t`. TTLs and leases expire by the wall clock
 * at read time, so after this an expiry at or before `t` has certainly passed.
 */
export function clockPast(t: number): Promise<void> {
  return waitFor(() => Date.now() > t, { timeoutMs: Math.max(0, t - Date.now()) + 10_000, intervalMs: 1, what: `the clock passing ${t}` });
}

/** Rejects with a clear error when `p` does not settle within `ms` (a watchdog, not a wait). */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const watchdog = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, watchdog]);
  } finally {
    clearTimeout(timer);
  }
}

/** The topic of {@link busBarrier}'s sentinels (outside `data/`, so no test subscription sees them). */
export const BARRIER_TOPIC = 'test/barrier/reached/v1';

/**
 * A positive barrier on the in-process bus: publishes a sentinel and waits until it comes back.
 * The hub delivers in publish order (one queue), so when this resolves every message published
 * before the call has been handed to its subscribers: what has not arrived by then was not sent.
 * (On ZeroMQ a fresh subscription may miss the sentinel until it has joined: not for that bus.)
 */
export async function busBarrier(bus: MessageBus, timeoutMs = 10_000): Promise<void> {
  const token = randomUUID();
  let reached!: () => void;
  const arrived = new Promise<void>((r) => (reached = r));
  const sub = await bus.subscribe(BARRIER_TOPIC, (e) => {
    if (e.payload === token) reached();
  });
  try {
    await bus.publish(BARRIER_TOPIC, token);
    await within(arrived, timeoutMs, 'the bus barrier');
  } finally {
    await sub.unsubscribe();
  }
}
