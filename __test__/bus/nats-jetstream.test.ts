/**
 * Change events of the NATS bus on JetStream (issue 20 item 2): `publish` of a `data/**` topic
 * resolves once the stream stored it, and `consume` reads through a durable consumer with
 * explicit acks: events published while nobody consumed arrive later, a failed handler gets the
 * event again, an unacknowledged delivery is redelivered to the next consumer of that durable,
 * a duplicate publish (same message id) is stored once, and a malformed message is dropped
 * for good. On a real nats-server.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNatsBus, generateNatsCredentials, type BusEnvelope, type NatsBus } from '../../src/bus/index.js';
import { AicoDataError } from '../../src/errors.js';
import { NATS_SERVER, NATS_SKIP } from '../helpers/bus-tools.js';
import { natsClient, startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { waitFor as until } from '../helpers/wait.js';
import { rawFrame, recordingLogger, waitFor } from './helpers.js';

describe.skipIf(!NATS_SERVER)(`NATS bus: change events on JetStream${NATS_SKIP}`, () => {
  const owner = generateNatsCredentials('owner');
  let server: NatsServer;
  let pub: NatsBus;
  const open: NatsBus[] = [];
  const bus = async (source: string, logger = recordingLogger()) => {
    const b = await connectNatsBus({ servers: server.url, ...owner, source, codec: 'protobuf', logger });
    open.push(b);
    return b;
  };
  /** Pending and unacknowledged counts of a durable consumer, from the server. */
  const consumerState = async (durable: string) => {
    const nc = await natsClient(server, owner);
    try {
      const info = await (await jetstreamManager(nc)).consumers.info(pub.eventStream!, durable);
      return { pending: info.num_pending, unacked: info.num_ack_pending, redelivered: info.num_redelivered };
    } finally {
      await nc.close();
    }
  };

  beforeAll(async () => {
    server = await startNatsServer({ users: [owner] });
    pub = await bus('publisher');
  });
  afterAll(async () => {
    for (const b of open) await b.close();
    await server.stop();
  });

  it('stores events before publish resolves and delivers those published while nobody consumed', async () => {
    expect(pub.eventStream).toBe('AICO_DATA_EVENTS_default');
    for (let i = 0; i < 20; i++) await pub.publish('data/memory/created/v1', { i });
    const consumer = await bus('late-consumer');
    const got: number[] = [];
    const sub = await consumer.consume('data/memory/', 'memories', (e) => void got.push((e.payload as { i: number }).i));
    await waitFor(() => got.length === 20);
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i));
    const state = await consumerState('memories');
    expect(state.pending).toBe(0);
    await sub.unsubscribe();
    // Published while the durable is not consumed: the next consume starts where it left off.
    await pub.publish('data/memory/created/v1', { i: 20 });
    const again: number[] = [];
    const sub2 = await consumer.consume('data/memory/', 'memories', (e) => void again.push((e.payload as { i: number }).i));
    await waitFor(() => again.length === 1);
    expect(again).toEqual([20]);
    await sub2.unsubscribe();
  });

  it('delivers an event again when the handler throws, and acknowledges it once it succeeds', async () => {
    const logger = recordingLogger();
    const consumer = await bus('flaky', logger);
    const calls: string[] = [];
    const sub = await consumer.consume('data/flaky/', 'flaky', (e) => {
      calls.push(e.metadata.message_id);
      if (calls.length === 1) throw new AicoDataError('BUSY', 'try later');
    });
    const sent = await pub.publish('data/flaky/updated/v1', { n: 1 });
    await waitFor(() => calls.length === 2);
    expect(calls).toEqual([sent.metadata.message_id, sent.metadata.message_id]);
    expect(consumer.stats().handlerErrors).toBe(1);
    expect(logger.lines.map((l) => l.details?.code)).toEqual(['BUSY']);
    const after = await pub.publish('data/flaky/updated/v1', { n: 2 }); // a later event as a barrier
    await waitFor(() => calls.includes(after.metadata.message_id));
    expect(calls.length).toBe(3);
    expect(await consumerState('flaky')).toMatchObject({ pending: 0, unacked: 0 });
    await sub.unsubscribe();
  });

  it('redelivers an event whose consumer went away before acknowledging it to the next consumer of that durable', async () => {
    const first = await bus('crashing');
    let started = 0;
    await first.consume('data/job/', 'jobs', () => {
      started++;
      return new Promise<void>(() => undefined); // never finishes: no ack
    }, { ackWaitMs: 300 });
    const sent = await pub.publish('data/job/created/v1', { job: 1 });
    await waitFor(() => started === 1);
    await first.close();
    const second = await bus('recovering');
    const got: BusEnvelope[] = [];
    await second.consume('data/job/', 'jobs', (e) => void got.push(e), { ackWaitMs: 300 });
    await waitFor(() => got.length === 1, 10_000);
    expect(got[0]!.metadata.message_id).toBe(sent.metadata.message_id);
    await until(async () => (await consumerState('jobs')).unacked === 0, { what: 'the redelivered job being acknowledged' });
  });

  it('stores a re-published message id once', async () => {
    const consumer = await bus('dedupe');
    const got: string[] = [];
    await consumer.consume('data/dup/', 'dup', (e) => void got.push(e.metadata.message_id));
    const sent = await pub.publish('data/dup/created/v1', 1);
    await pub.publish('data/dup/created/v1', 1, { messageId: sent.metadata.message_id });
    const barrier = await pub.publish('data/dup/created/v1', 'end');
    await waitFor(() => got.includes(barrier.metadata.message_id));
    expect(got).toEqual([sent.metadata.message_id, barrier.metadata.message_id]);
  });

  it('drops a malformed message on the stream for good and keeps delivering', async () => {
    const logger = recordingLogger();
    const consumer = await bus('strict', logger);
    const got: unknown[] = [];
    await consumer.consume('data/bad/', 'bad', (e) => void got.push(e.payload));
    const nc = await natsClient(server, owner);
    const js = (await import('@nats-io/jetstream')).jetstream(nc);
    await js.publish('aico.default.data.bad.created.v1', rawFrame('protobuf', { metadata: { message_id: 'x', message_type: 'data/bad/created/v1' }, payload: 1 }));
    await nc.close();
    await pub.publish('data/bad/created/v1', 'fine');
    await waitFor(() => got.length === 1);
    expect(got).toEqual(['fine']);
    expect(consumer.stats().rejected).toBe(1);
    expect(logger.lines[0]!.details?.code).toBe('MALFORMED_MESSAGE');
    expect(await consumerState('bad')).toMatchObject({ pending: 0, unacked: 0, redelivered: 0 });
  });

  it('refuses durable reads outside the durable domains and bad names with INVALID_ARGUMENT', async () => {
    const code = (p: Promise<unknown>) => p.then(() => 'no error', (e: AicoDataError) => e.code);
    expect(await code(pub.consume('memory/store/request/v1', 'x', () => undefined))).toBe('INVALID_ARGUMENT');
    expect(await code(pub.consume('data/memory/', 'bad.name', () => undefined))).toBe('INVALID_ARGUMENT');
    expect(await code(pub.consume('data/memory/', 'ok', () => undefined, { ackWaitMs: 1 }))).toBe('INVALID_ARGUMENT');
    expect(await code(pub.publish('data/mem.ory/created/v1', 1))).toBe('INVALID_ARGUMENT');
    expect(await code(pub.subscribe('data/mem.ory/', () => undefined))).toBe('INVALID_ARGUMENT');
  });

  it('deleteConsumer forgets a durable: a new one with that name starts from the first stored event', async () => {
    const consumer = await bus('forgetful');
    const got: unknown[] = [];
    const s1 = await consumer.consume('data/memory/', 'memories', (e) => void got.push(e.payload));
    await pub.publish('data/memory/created/v1', 'barrier');
    await waitFor(() => got.includes('barrier'));
    expect(got).toEqual(['barrier']); // the durable had acknowledged everything before
    await s1.unsubscribe();
    await consumer.deleteConsumer('memories');
    await consumer.deleteConsumer('memories'); // idempotent
    const all: unknown[] = [];
    await consumer.consume('data/memory/', 'memories', (e) => void all.push(e.payload));
    await waitFor(() => all.includes('barrier'));
    expect(all.length).toBe(22);
  });
});
