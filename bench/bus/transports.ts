/**
 * bench/bus/transports: the buses alone, without a data layer (no native addon needed):
 * publish/subscribe throughput (one publisher, one subscriber in the same process, 256 publishes
 * in flight) and the request/response round trip, for the in-process bus, ZeroMQ (CURVE broker
 * on 127.0.0.1) and NATS (a real nats-server on 127.0.0.1 with authorization; core subjects, and
 * JetStream for change events, where each publish waits for the stream's ack), each with JSON
 * and protobuf envelopes.
 *
 *   npx tsx bench/bus/transports.ts      (AICO_BENCH_MS=3000 for longer round-trip runs,
 *                                         AICO_BENCH_MESSAGES=20000 for the throughput runs)
 */
import { connectNatsBus, connectZmqBus, generateBusKeyPair, generateNatsCredentials, InProcessBus, startZmqBroker, type EnvelopeCodecName, type MessageBus } from '../../src/bus/index.js';
import { NATS_SERVER } from '../../__test__/helpers/bus-tools.js';
import { startNatsServer } from '../../__test__/helpers/nats-server.js';
import { measure } from '../lib/measure.js';

const MS = Number(process.env.AICO_BENCH_MS ?? 1500);
const N = Number(process.env.AICO_BENCH_MESSAGES ?? 20_000);
const WINDOW = 256;
const PAYLOAD = { id: '6f1c2a9e-3b7d-4e21-9a0f-5c8d7e6b4a31', entity: 'memory', user: 'u-1', n: 0 };

interface Row {
  name: string;
  received: number;
  perSec: number;
  rtP50: number;
  rtP95: number;
}

/** Publishes N messages on `topic` from `a` and times until `b` has them all (or 20 s pass). */
async function throughput(a: MessageBus, b: MessageBus, topic: string): Promise<{ received: number; perSec: number }> {
  let got = 0;
  let done: () => void = () => undefined;
  const all = new Promise<void>((r) => (done = r));
  const sub = await b.subscribe(topic, () => void (++got === N && done()));
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i += WINDOW) {
    await Promise.all(Array.from({ length: Math.min(WINDOW, N - i) }, (_, k) => a.publish(topic, { ...PAYLOAD, n: i + k })));
  }
  await Promise.race([all, new Promise((r) => setTimeout(r, 20_000).unref())]);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await sub.unsubscribe();
  return { received: got, perSec: got / s };
}

async function row(name: string, a: MessageBus, b: MessageBus, topic: string): Promise<Row> {
  const t = await throughput(a, b, topic);
  const h = await b.handle('bench/echo/request/v1', (p) => p);
  const rt = await measure(name, (i) => a.request('bench/echo/request/v1', { ...PAYLOAD, n: i }), MS);
  await h.unsubscribe();
  return { name, received: t.received, perSec: t.perSec, rtP50: rt.p50us, rtP95: rt.p95us };
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  for (const codec of ['json', 'protobuf'] as EnvelopeCodecName[]) {
    const inproc = new InProcessBus({ source: 'a', codec });
    rows.push(await row(`in-process, ${codec}`, inproc, inproc.fork('b', { codec }), 'bench/event/created/v1'));
    await inproc.close();

    const ka = generateBusKeyPair();
    const kb = generateBusKeyPair();
    const broker = await startZmqBroker({ allowedClients: [ka.publicKey, kb.publicKey] });
    const za = await connectZmqBus({ ...broker.endpoints, ...ka, source: 'a', codec });
    const zb = await connectZmqBus({ ...broker.endpoints, ...kb, source: 'b', codec });
    rows.push(await row(`ZeroMQ (CURVE), ${codec}`, za, zb, 'bench/event/created/v1'));
    await za.close();
    await zb.close();
    await broker.stop();

    if (NATS_SERVER) {
      const owner = generateNatsCredentials('owner');
      const server = await startNatsServer({ users: [owner] });
      const na = await connectNatsBus({ servers: server.url, ...owner, source: 'a', codec });
      const nb = await connectNatsBus({ servers: server.url, ...owner, source: 'b', codec });
      rows.push(await row(`NATS core, ${codec}`, na, nb, 'bench/event/created/v1'));
      const js = await throughput(na, nb, 'data/bench/created/v1');
      rows.push({ name: `NATS JetStream publish (acked), ${codec}`, received: js.received, perSec: js.perSec, rtP50: NaN, rtP95: NaN });
      await na.close();
      await nb.close();
      await server.stop();
    }
  }
  console.log(`\n### bus transports: ${N} publishes (${WINDOW} in flight), request/response round trip (${MS} ms)`);
  console.log('| bus, codec | received | messages/s | round trip p50 µs | p95 µs |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.name} | ${r.received} | ${r.perSec.toFixed(0)} | ${Number.isNaN(r.rtP50) ? '-' : r.rtP50.toFixed(0)} | ${Number.isNaN(r.rtP95) ? '-' : r.rtP95.toFixed(0)} |`);
}

await main();
