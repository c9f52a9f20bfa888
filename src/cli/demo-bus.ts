/**
 * The demo's view of the event side: a tap on the bus that counts change events per topic and
 * keeps a few envelopes to print, and a wait (with progress) until the outbox dispatcher has
 * applied every committed change to DuckDB, Chroma, RocksDB and the bus.
 */
import type { BusEnvelope } from '../bus/index.js';
import type { DataLayer } from '../data-layer.js';
import { createProgress } from './progress.js';

/** What the tap saw. */
export interface BusTap {
  /** Events per topic. */
  readonly counts: Map<string, number>;
  /** The first envelope of each topic. */
  readonly samples: Map<string, BusEnvelope>;
  stop(): Promise<void>;
}

/** Subscribes to every change event (`data/**`); undefined when the layer has no bus. */
export async function tapBus(data: DataLayer): Promise<BusTap | undefined> {
  if (!data.bus) return undefined;
  const counts = new Map<string, number>();
  const samples = new Map<string, BusEnvelope>();
  const sub = await data.bus.subscribe('data/**', (env) => {
    const t = env.metadata.message_type;
    counts.set(t, (counts.get(t) ?? 0) + 1);
    if (!samples.has(t)) samples.set(t, env);
  });
  return { counts, samples, stop: () => sub.unsubscribe() };
}

/** Waits until the outbox has nothing pending, drawing progress; returns the rows applied meanwhile. */
export async function waitForOutbox(data: DataLayer): Promise<{ applied: number; dead: number }> {
  const outbox = data.outbox;
  if (!outbox) return { applied: 0, dead: 0 };
  const first = await outbox.status();
  const total = first.pending;
  if (total === 0) return { applied: 0, dead: first.dead };
  const progress = createProgress({ label: '  outbox', total, unit: 'changes' });
  const drained = outbox.drain(600_000);
  let done = false;
  void drained.finally(() => (done = true)).catch(() => undefined);
  while (!done) {
    await new Promise((r) => setTimeout(r, 200));
    const s = await outbox.status();
    progress.update(Math.max(0, total - s.pending));
  }
  await drained;
  progress.update(total);
  progress.done();
  const last = await outbox.status();
  return { applied: total, dead: last.dead };
}
