import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BusEnvelope, MessageBus } from '../../src/bus/index.js';
import { AicoDataError } from '../../src/errors.js';
import { waitFor as until } from '../helpers/wait.js';
import { NATS_SKIP, NATS_SERVER } from '../helpers/bus-tools.js';
import { inProcessKit, natsKit, rawFrame, recordingLogger, waitFor, zmqKit, type BusKit } from './helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function rejectsWith(p: Promise<unknown>, code: string): Promise<AicoDataError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AicoDataError);
  expect((e as AicoDataError).code).toBe(code);
  return e as AicoDataError;
}

const kits: [string, () => Promise<BusKit>, boolean][] = [
  ['in-process', async () => inProcessKit(), true],
  ['zeromq (real broker on 127.0.0.1)', () => zmqKit('json'), true],
  ['zeromq, protobuf envelopes', () => zmqKit('protobuf'), true],
  [`nats (real nats-server with JetStream on 127.0.0.1), protobuf envelopes${NATS_SKIP}`, () => natsKit('protobuf'), NATS_SERVER !== undefined],
  [`nats, JSON envelopes${NATS_SKIP}`, () => natsKit('json'), NATS_SERVER !== undefined],
];

describe.each(kits)('MessageBus contract: %s', (_name, makeKit, available) => {
  if (!available) {
    it.skip('needs nats-server', () => undefined);
    return;
  }
  let kit: BusKit;
  let a: MessageBus;
  let b: MessageBus;

  beforeAll(async () => {
    kit = await makeKit();
    a = await kit.bus('module-a');
    b = await kit.bus('module-b');
  });
  afterAll(async () => {
    await kit.close();
  });

  it('delivers the AICO envelope to another client, with the upstream field names', async () => {
    const got: BusEnvelope[] = [];
    const sub = await b.subscribe('conversation/message/created/v1', (e) => void got.push(e));
    const sent = await a.publish('conversation/message/created/v1', { id: 'm1', n: 2 }, { correlationId: 'corr-1' });
    await waitFor(() => got.length === 1);
    const e = got[0]!;
    expect(e.payload).toEqual({ id: 'm1', n: 2 });
    expect(e.metadata.message_id).toMatch(UUID);
    expect(e.metadata.message_id).toBe(sent.metadata.message_id);
    expect(e.metadata.message_type).toBe('conversation/message/created/v1');
    expect(e.metadata.source).toBe('module-a');
    expect(e.metadata.version).toBe('1.0');
    expect(e.metadata.attributes.correlation_id).toBe('corr-1');
    expect(Number.isNaN(Date.parse(e.metadata.timestamp))).toBe(false);
    await sub.unsubscribe();
  });

  it('routes by exact topic, prefix and wildcard patterns', async () => {
    const seen: Record<string, string[]> = { exact: [], prefix: [], star: [], rest: [] };
    // Sentinels (payload 'end') are counted apart from the messages under test.
    const ends: Record<string, number> = { exact: 0, prefix: 0, star: 0, rest: 0 };
    const record = (k: string) => (e: BusEnvelope) => void (e.payload === 'end' ? ends[k]!++ : seen[k]!.push(e.metadata.message_type));
    const subs = [
      await b.subscribe('data/memory/created/v1', record('exact')),
      await b.subscribe('data/memory/', record('prefix')),
      await b.subscribe('data/*/deleted/v1', record('star')),
      await b.subscribe('data/**', record('rest')),
    ];
    const topics = ['data/memory/created/v1', 'data/memory/deleted/v1', 'data/message/deleted/v1', 'data/message/created/v1', 'memory/store/request/v1', 'data/memory/created/v10'];
    for (const t of topics) await a.publish(t, null);
    // A positive barrier instead of a pause: delivery is in publish order, so once each
    // subscription has its later sentinels, everything it was going to get has arrived.
    await a.publish('data/memory/created/v1', 'end'); // exact, prefix, rest
    await a.publish('data/memory/deleted/v1', 'end'); // prefix, star, rest
    await waitFor(() => ends.exact === 1 && ends.prefix === 2 && ends.star === 1 && ends.rest === 2);
    expect(seen.exact).toEqual(['data/memory/created/v1']);
    expect(seen.prefix).toEqual(['data/memory/created/v1', 'data/memory/deleted/v1', 'data/memory/created/v10']);
    expect(seen.star).toEqual(['data/memory/deleted/v1', 'data/message/deleted/v1']);
    expect(seen.rest).toEqual(topics.filter((t) => t.startsWith('data/')));
    for (const s of subs) await s.unsubscribe();
  });

  it('stops delivering after unsubscribe, and keeps other subscriptions of the same prefix', async () => {
    const first: unknown[] = [];
    const second: unknown[] = [];
    const s1 = await b.subscribe('system/test/tick/v1', (e) => void first.push(e.payload));
    const s2 = await b.subscribe('system/test/tick/v1', (e) => void second.push(e.payload));
    await a.publish('system/test/tick/v1', 1);
    await waitFor(() => first.length === 1 && second.length === 1);
    await s1.unsubscribe();
    await a.publish('system/test/tick/v1', 2);
    // A later sentinel on the same topic: once the remaining subscription has it, message 2 has
    // been dispatched to every subscription that was still there.
    await a.publish('system/test/tick/v1', 'end');
    await waitFor(() => second.includes('end'));
    expect(first).toEqual([1]);
    expect(second).toEqual([1, 2, 'end']);
    await s2.unsubscribe();
    await s2.unsubscribe(); // idempotent
  });

  it('answers a request on the matching response topic with the same correlation id', async () => {
    const h = await b.handle('memory/store/request/v1', (payload) => ({ stored: (payload as { id: string }).id }));
    const responses: BusEnvelope[] = [];
    const watch = await a.subscribe('memory/store/response/v1', (e) => void responses.push(e));
    const r = await a.request('memory/store/request/v1', { id: 'x1' }, { correlationId: 'c-42' });
    expect(r).toEqual({ stored: 'x1' });
    await waitFor(() => responses.length === 1);
    expect(responses[0]!.metadata.attributes.correlation_id).toBe('c-42');
    expect(responses[0]!.metadata.attributes.status).toBe('ok');
    expect(responses[0]!.metadata.source).toBe('module-b');
    // Concurrent requests each get their own answer.
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => a.request<{ stored: string }>('memory/store/request/v1', { id: `k${i}` })));
    expect(many.map((m) => m.stored)).toEqual(Array.from({ length: 20 }, (_, i) => `k${i}`));
    await watch.unsubscribe();
    await h.unsubscribe();
  });

  it('turns a throwing request handler into an error response and keeps running', async () => {
    const logger = recordingLogger();
    const server = await kit.bus('failing-server', logger);
    let calls = 0;
    const h = await server.handle('memory/retrieve/request/v1', (p) => {
      calls++;
      if ((p as { fail?: string }).fail === 'domain') throw new AicoDataError('NOT_FOUND', 'no such memory');
      if ((p as { fail?: string }).fail === 'bug') throw new TypeError('boom');
      return { ok: true };
    });
    const e1 = await rejectsWith(a.request('memory/retrieve/request/v1', { fail: 'domain' }), 'NOT_FOUND');
    expect(e1.message).toBe('no such memory');
    await rejectsWith(a.request('memory/retrieve/request/v1', { fail: 'bug' }), 'INTERNAL');
    expect(await a.request('memory/retrieve/request/v1', {})).toEqual({ ok: true });
    expect(calls).toBe(3);
    expect(server.stats().handlerErrors).toBe(2);
    expect(logger.lines.map((l) => l.details?.code)).toEqual(['NOT_FOUND', 'INTERNAL']);
    await h.unsubscribe();
  });

  it('times out a request nobody answers', async () => {
    const e = await rejectsWith(a.request('nobody/listens/request/v1', {}, { timeoutMs: 150 }), 'TIMEOUT');
    expect(e.details?.topic).toBe('nobody/listens/request/v1');
  });

  it('logs and drops malformed envelopes without stopping delivery', async () => {
    const logger = recordingLogger();
    const victim = await kit.bus('victim', logger);
    const got: unknown[] = [];
    await victim.subscribe('bad/frames/test/v1', (e) => void got.push(e.payload));
    const good = rawFrame(kit.codec, { metadata: { message_id: '1', timestamp: 'x', source: 's', message_type: 'bad/frames/test/v1', version: '1.0', attributes: {} }, payload: 1 });
    // Send until the foreign publisher has learnt the subscription (ZeroMQ slow joiner): a bounded poll.
    await until(
      async () => {
        await kit.injectRaw(['bad/frames/test/v1', Buffer.from('{not json')]);
        return victim.stats().rejected > 0;
      },
      { intervalMs: 10, timeoutMs: 15_000, what: 'the first malformed frame reaching the victim' },
    );
    await kit.injectRaw(['bad/frames/test/v1', good]); // bad message_id and timestamp
    await kit.injectRaw(['bad/frames/test/v1', rawFrame(kit.codec, { metadata: { message_type: 'other/topic/x/v1' }, payload: 1 })]);
    await waitFor(() => victim.stats().rejected >= 3);
    expect(logger.lines.length).toBeGreaterThanOrEqual(3);
    expect(logger.lines.every((l) => l.details?.code === 'MALFORMED_MESSAGE')).toBe(true);
    expect(logger.lines.some((l) => /message_id is not a UUID/.test(l.message))).toBe(true);
    expect(got).toEqual([]);
    await a.publish('bad/frames/test/v1', 'still fine');
    await waitFor(() => got.length === 1);
    expect(got).toEqual(['still fine']);
  });

  it('keeps delivering when a subscriber throws or rejects', async () => {
    const logger = recordingLogger();
    const c = await kit.bus('throwing-subscriber', logger);
    const got: number[] = [];
    await c.subscribe('system/flaky/event/v1', (e) => {
      if (e.payload === 1) throw new Error('sync throw');
      if (e.payload === 2) return Promise.reject(new Error('async reject'));
      got.push(e.payload as number);
    });
    for (const n of [1, 2, 3]) await a.publish('system/flaky/event/v1', n);
    await waitFor(() => got.length === 1 && c.stats().handlerErrors === 2);
    expect(got).toEqual([3]);
    expect(logger.lines.length).toBe(2);
  });

  it('rejects bad arguments with INVALID_ARGUMENT', async () => {
    await rejectsWith(a.publish('Not A Topic', 1), 'INVALID_ARGUMENT');
    await rejectsWith(a.publish('a/b/c', 1), 'INVALID_ARGUMENT');
    await rejectsWith(a.publish('a/b/c/v1', { n: 1n }), 'INVALID_ARGUMENT');
    await rejectsWith(a.publish('a/b/c/v1', 1, { replyTo: 'nope' }), 'INVALID_ARGUMENT');
    await rejectsWith(a.subscribe('', () => undefined), 'INVALID_ARGUMENT');
    await rejectsWith(a.subscribe('a/**/b', () => undefined), 'INVALID_ARGUMENT');
    await rejectsWith(a.subscribe('a/b/c/v1', 'nope' as never), 'INVALID_ARGUMENT');
    await rejectsWith(a.request('a/b/event/v1', 1), 'INVALID_ARGUMENT'); // not a request topic
    await rejectsWith(a.request('a/b/request/v1', 1, { timeoutMs: -1 }), 'INVALID_ARGUMENT');
  });

  it('after close: publishing fails with CLOSED and waiting requests are rejected with CLOSED', async () => {
    const d = await kit.bus('closing');
    // The request is waiting once it is on the bus (it is registered before it is sent).
    const sent: unknown[] = [];
    const watch = await b.subscribe('slow/thing/request/v1', (e) => void sent.push(e));
    const waiting = d.request('slow/thing/request/v1', {}, { timeoutMs: 10_000 });
    await waitFor(() => sent.length === 1);
    await watch.unsubscribe();
    await d.close();
    await rejectsWith(waiting, 'CLOSED');
    await rejectsWith(d.publish('a/b/c/v1', 1), 'CLOSED');
    await d.close(); // idempotent
  });
});
