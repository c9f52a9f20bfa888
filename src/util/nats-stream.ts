/**
 * The one kind of JetStream stream aico-data makes (bus change events, the sync relay): limits
 * retention on file storage, oldest dropped at either limit, a two-minute duplicate window for
 * `Nats-Msg-Id`. Created when missing; an existing stream is used as its owner configured it.
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import { natsCore, natsJetstream } from './nats.js';

/** What {@link ensureLimitsStream} creates. */
export interface LimitsStream {
  readonly name: string;
  readonly subjects: string[];
  readonly maxAgeMs: number;
  readonly maxBytes: number;
}

/** Creates the stream unless it exists (also when another client creates it meanwhile). */
export async function ensureLimitsStream(jsm: JetStreamManager, s: LimitsStream): Promise<void> {
  try {
    await jsm.streams.info(s.name);
    return;
  } catch (e) {
    if (!/not found/i.test((e as Error).message)) throw e;
  }
  const { RetentionPolicy, StorageType, DiscardPolicy } = natsJetstream();
  const { nanos } = natsCore();
  try {
    await jsm.streams.add({
      name: s.name,
      subjects: s.subjects,
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(s.maxAgeMs),
      max_bytes: s.maxBytes,
      // Re-publishing with the same message id within this window is stored once.
      duplicate_window: nanos(120_000),
    });
  } catch (e) {
    if (!/already in use|exists/i.test((e as Error).message)) throw e;
  }
}
