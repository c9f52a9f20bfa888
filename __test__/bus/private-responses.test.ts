/**
 * Issue 15.8, at the bus level (no data layer): on the authenticated ZeroMQ bus a response goes
 * to its requester only. Another allowed client, subscribed through the library to the response
 * topic or with a raw socket to every topic, sees the requests go by but never a response.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Subscriber } from 'zeromq';
import { connectZmqBus, generateBusKeyPair, startZmqBroker, type BusEnvelope, type ZmqBroker, type ZmqBus } from '../../src/bus/index.js';

const TOPIC = 'memory/retrieve/request/v1';

describe('responses on the ZeroMQ bus go to the requester only', () => {
  let broker: ZmqBroker;
  const buses: ZmqBus[] = [];
  const client = async (source: string) => {
    const keys = generateBusKeyPair();
    broker.allowClient(keys.publicKey);
    const b = await connectZmqBus({ ...broker.endpoints, ...keys, source });
    buses.push(b);
    return b;
  };
  beforeAll(async () => {
    broker = await startZmqBroker({ allowedClients: [] });
  });
  afterAll(async () => {
    for (const b of buses) await b.close();
    await broker.stop();
  });

  it('an allowed snooping client sees requests but not one response, the requester gets each of its own', async () => {
    const server = await client('server');
    await server.handle(TOPIC, (p) => ({ secret: `answer for ${(p as { who: string }).who}` }));
    const alice = await client('alice');
    const mallory = await client('mallory');
    const malloryGot: BusEnvelope[] = [];
    await mallory.subscribe('memory/retrieve/response/v1', (e) => void malloryGot.push(e));
    await mallory.subscribe('**', (e) => void malloryGot.push(e));
    const aliceWatch: BusEnvelope[] = [];
    await alice.subscribe('memory/retrieve/response/v1', (e) => void aliceWatch.push(e));

    const keys = generateBusKeyPair();
    broker.allowClient(keys.publicKey);
    const raw = new Subscriber({ linger: 0, curveServerKey: broker.publicKey!, curvePublicKey: keys.publicKey, curveSecretKey: keys.secretKey });
    raw.subscribe('');
    raw.connect(broker.subscribeEndpoint);
    const rawFrames: string[][] = [];
    const loop = (async () => {
      try {
        for await (const m of raw) rawFrames.push(m.map((f) => f.toString('utf8')));
      } catch {
        // closed
      }
    })();
    try {
      // Drive requests until the raw subscriber's subscription has reached the broker (it sees a request).
      let n = 0;
      for (; n < 200 && !rawFrames.some((f) => f[0] === TOPIC); n++) {
        expect(await alice.request(TOPIC, { who: `alice-${n}` })).toEqual({ secret: `answer for alice-${n}` });
      }
      expect(rawFrames.some((f) => f[0] === TOPIC)).toBe(true);
      const many = await Promise.all(Array.from({ length: 10 }, (_, i) => alice.request<{ secret: string }>(TOPIC, { who: `batch-${i}` })));
      expect(many.map((m) => m.secret)).toEqual(Array.from({ length: 10 }, (_, i) => `answer for batch-${i}`));
      // Alice's own subscription to the response topic saw her responses (delivered locally)...
      expect(aliceWatch.length).toBe(n + 10);
      // ...mallory saw the requests (allowed clients are trusted with requests) but no response.
      expect(malloryGot.filter((e) => e.metadata.message_type === TOPIC).length).toBeGreaterThan(0);
      expect(malloryGot.filter((e) => e.metadata.message_type.includes('/response/'))).toEqual([]);
      expect(rawFrames.filter((f) => f[0]!.includes('/response/') || f.some((x) => x.includes('answer for')))).toEqual([]);
    } finally {
      raw.close();
      await loop;
    }
  });
});
