/**
 * bench/bus: end-to-end latency of `processUserMessage` (store the user's message, recall
 * memories, answer, store the answer) with every store on (encrypted libSQL, DuckDB, RocksDB,
 * the managed Chroma server; the outbox dispatcher running), called:
 *  - directly (no bus): the floor;
 *  - as a request over the in-process bus (`conversation/message/process/request/v1`);
 *  - as the same request over ZeroMQ through a real XSUB/XPUB broker on 127.0.0.1.
 * Plus a bare request/response round trip on each bus (empty handler), to separate the bus's
 * own cost from the data layer's.
 *
 *   npx tsx bench/bus/index.ts        (AICO_BENCH_MS=3000 for longer runs)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectZmqBus, generateBusKeyPair, InProcessBus, startZmqBroker, type MessageBus } from '../../src/bus/index.js';
import { DATABASE_TOPICS } from '../../src/services/index.js';
import { openDataLayer, type DataLayer } from '../../src/index.js';
import { measure, type CaseResult } from '../lib/measure.js';
import { emit } from '../lib/results.js';

const MS = Number(process.env.AICO_BENCH_MS ?? 1500);
const responder = ({ message }: { message: { content: string } }) => `noted: ${message.content.slice(0, 40)}`;

async function seed(data: DataLayer): Promise<string> {
  const userId = (await data.services.onboarding.onboardNewUser({ name: 'Bench' })).user.id;
  await data.memories.rememberMany(
    Array.from({ length: 200 }, (_, i) => ({ userId, type: 'semantic' as const, content: `fact ${i}: likes ${['tea', 'chess', 'hiking', 'jazz'][i % 4]} number ${i}` })),
  );
  await data.outbox!.drain();
  return userId;
}

async function processCase(name: string, data: DataLayer, userId: string, client: MessageBus | undefined): Promise<CaseResult> {
  const text = (i: number) => `message ${i} about tea and chess`;
  return measure(
    name,
    client
      ? (i) => client.request(DATABASE_TOPICS.messageProcess, { userId, message: text(i) }, { timeoutMs: 30_000 })
      : (i) => data.services.conversation.processUserMessage(userId, text(i), responder),
    MS,
  );
}

async function roundTrip(name: string, server: MessageBus, client: MessageBus): Promise<CaseResult> {
  const sub = await server.handle('bench/echo/request/v1', (p) => p);
  const r = await measure(name, (i) => client.request('bench/echo/request/v1', { i }), MS);
  await sub.unsubscribe();
  return r;
}

function table(title: string, rows: CaseResult[]): void {
  console.log(`\n### ${title}`);
  console.log('| path | calls | p50 µs | p95 µs | calls/s |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.name} | ${r.ops} | ${r.p50us.toFixed(0)} | ${r.p95us.toFixed(0)} | ${r.opsPerSec.toFixed(0)} |`);
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'aico-bench-bus-'));
  // The authenticated bus (CURVE), as deployed: each client with its own allowed key pair.
  const serverKeys = generateBusKeyPair();
  const clientKeys = generateBusKeyPair();
  const broker = await startZmqBroker({ allowedClients: [serverKeys.publicKey, clientKeys.publicKey] });
  const inproc = new InProcessBus({ source: 'aico-data' });
  const zmqServer = await connectZmqBus({ ...broker.endpoints, ...serverKeys, source: 'aico-data' });
  const a = await openDataLayer({ dir: join(root, 'inproc'), password: 'bench password', bus: inproc });
  const b = await openDataLayer({ dir: join(root, 'zmq'), password: 'bench password', bus: zmqServer });
  const inprocClient = inproc.fork('client');
  const zmqClient = await connectZmqBus({ ...broker.endpoints, ...clientKeys, source: 'client' });
  try {
    const [ua, ub] = [await seed(a), await seed(b)];
    await a.serveBus({ responder });
    await b.serveBus({ responder });

    const direct = await processCase('direct call (no bus)', a, ua, undefined);
    const viaInproc = await processCase('in-process bus request', a, ua, inprocClient);
    const viaZmq = await processCase('ZeroMQ bus request (broker on 127.0.0.1)', b, ub, zmqClient);
    table('processUserMessage, all stores on (libSQL + DuckDB + RocksDB + Chroma, outbox running)', [direct, viaInproc, viaZmq]);

    const rtIn = await roundTrip('in-process bus', inproc, inprocClient);
    const rtZmq = await roundTrip('ZeroMQ bus', zmqServer, zmqClient);
    table('bare request/response round trip (empty handler)', [rtIn, rtZmq]);
    console.log(`\nZeroMQ / in-process, processUserMessage p50: ${(viaZmq.p50us / viaInproc.p50us).toFixed(2)}x, p95: ${(viaZmq.p95us / viaInproc.p95us).toFixed(2)}x`);

    for (const [unit, pick] of [
      ['µs p50', (r: CaseResult) => r.p50us],
      ['µs p95', (r: CaseResult) => r.p95us],
    ] as const) {
      emit({
        suite: 'bus',
        workload: `processUserMessage over the bus, all stores on (${unit.split(' ')[1]})`,
        unit,
        better: 'lower',
        aico: { name: 'ZeroMQ bus', value: pick(viaZmq) },
        peer: { name: 'in-process bus', value: pick(viaInproc) },
      });
      emit({
        suite: 'bus',
        workload: `processUserMessage, in-process bus vs direct call (${unit.split(' ')[1]})`,
        unit,
        better: 'lower',
        aico: { name: 'in-process bus', value: pick(viaInproc) },
        peer: { name: 'direct call', value: pick(direct) },
      });
    }
    emit({
      suite: 'bus',
      workload: 'bare request/response round trip (p50)',
      unit: 'µs p50',
      better: 'lower',
      aico: { name: 'ZeroMQ bus', value: rtZmq.p50us },
      peer: { name: 'in-process bus', value: rtIn.p50us },
    });
  } finally {
    await inprocClient.close();
    await zmqClient.close();
    await a.close();
    await b.close();
    await inproc.close();
    await zmqServer.close();
    await broker.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
