/**
 * bench/sync/relay: changes/s from one device to another end to end (export, send, receive,
 * import) through the NATS JetStream relay (a real nats-server on 127.0.0.1) against the same
 * changesets over the files transport. Each round: N new messages on a, then a sends and b
 * receives and imports. Best of AICO_BENCH_ROUNDS rounds.
 *
 * Then the delay from commit on one device to visibility on the two others, through a 3-node
 * JetStream cluster (3 replicas): a commits one message, sends it to b and c, and each of them
 * receives, imports and reads it; p50/p95 over AICO_BENCH_SYNC_LATENCY_N commits.
 *
 *   npx tsx bench/sync/relay.ts        (AICO_BENCH_SYNC_ROWS=2000, AICO_BENCH_ROUNDS=3, AICO_BENCH_SYNC_LATENCY_N=200)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateNatsCredentials } from '../../src/bus/index.js';
import { openDataLayer, type DataLayer } from '../../src/data-layer.js';
import { FileTransport, type SyncTransport } from '../../src/sync/index.js';
import { NATS_SERVER } from '../../__test__/helpers/bus-tools.js';
import { startNatsCluster, startNatsServer } from '../../__test__/helpers/nats-server.js';
import { DiscardPolicy, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { natsInboxPrefix } from '../../src/util/nats.js';

const ROWS = Number(process.env.AICO_BENCH_SYNC_ROWS ?? 2000);
const ROUNDS = Number(process.env.AICO_BENCH_ROUNDS ?? 3);
const CONTENT = 'I walked the dog along the river this morning and it started to rain halfway';

const dirs: string[] = [];
const tmp = (name: string) => {
  const d = mkdtempSync(join(tmpdir(), `aico-bench-relay-${name}-`));
  dirs.push(d);
  return d;
};

async function open(name: string): Promise<DataLayer> {
  const d = await openDataLayer({ dir: tmp(name), password: 'bench password', analytics: false, kv: false, vectors: false, outbox: false, bus: false });
  await d.sync.enable({ name });
  return d;
}

let seq = 0;
/** Best changes/s of a -> b over these transports. */
async function run(a: DataLayer, b: DataLayer, ta: SyncTransport, tb: SyncTransport, aId: string, bId: string): Promise<number> {
  let best = 0;
  for (let r = 0; r < ROUNDS; r++) {
    await a.sql.transaction(async (tx) => {
      for (let i = 0; i < ROWS; i++) await tx.execute(`INSERT INTO messages (id, conversation_id, user_id, role, content) VALUES (?, 'c1', 'u1', 'user', ?)`, [`m-${++seq}`, CONTENT]);
    });
    const t0 = process.hrtime.bigint();
    await ta.send(bId, await a.sync.exportChanges(bId));
    let applied = 0;
    for (const bytes of await tb.receive()) applied += (await b.sync.importChanges(bytes)).applied;
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (applied < ROWS) throw new Error(`only ${applied} of ${ROWS} changes arrived`);
    best = Math.max(best, ROWS / s);
    // b reports what it holds, so a's next changeset carries only the new rows.
    await a.sync.importChanges(await b.sync.exportChanges(aId));
  }
  return best;
}

async function main(): Promise<void> {
  if (!NATS_SERVER) throw new Error('nats-server is missing: node scripts/ensure-bus-tools.mjs');
  const relayUser = generateNatsCredentials('relay');
  const server = await startNatsServer({ users: [relayUser], maxPayload: 32 * 1024 * 1024 });
  const a = await open('a');
  const b = await open('b');
  try {
    const offer = await b.sync.createPairingOffer();
    const reveal = await b.sync.completePairing((await a.sync.pair(offer.payload)).payload!);
    await b.sync.completePairing((await a.sync.pair(reveal.payload!, reveal.code)).payload!);
    const [aId, bId] = [await a.sync.deviceId(), await b.sync.deviceId()];
    await a.sql.execute(`INSERT INTO users (id, name) VALUES ('u1', 'Ada')`);
    await a.sql.execute(`INSERT INTO conversations (id, user_id) VALUES ('c1', 'u1')`);
    await b.sync.importChanges(await a.sync.exportChanges(bId));
    await a.sync.importChanges(await b.sync.exportChanges(aId));

    const shared = tmp('files');
    const files = await run(a, b, new FileTransport(shared, aId), new FileTransport(shared, bId), aId, bId);
    const ra = await a.sync.jetstreamTransport({ servers: server.url, ...relayUser });
    const rb = await b.sync.jetstreamTransport({ servers: server.url, ...relayUser });
    const relay = await run(a, b, ra, rb, aId, bId);
    console.log(`\n### sync a -> b, ${ROWS} new messages per round (export, send, receive, import), best of ${ROUNDS}`);
    console.log('| transport | changes/s |');
    console.log('|---|---:|');
    console.log(`| files (shared folder) | ${files.toFixed(0)} |`);
    console.log(`| NATS JetStream relay (127.0.0.1) | ${relay.toFixed(0)} |`);
    console.log(`\nrelay / files: ${(relay / files).toFixed(2)}x`);
  } finally {
    await a.close();
    await b.close();
    await server.stop();
  }
}
process.on('exit', () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function pair(a: DataLayer, b: DataLayer): Promise<void> {
  const offer = await b.sync.createPairingOffer();
  const reveal = await b.sync.completePairing((await a.sync.pair(offer.payload)).payload!);
  await b.sync.completePairing((await a.sync.pair(reveal.payload!, reveal.code)).payload!);
}

/** p50/p95 ms from commit on a to the row being readable on b and on c, through a 3-node cluster. */
async function latency(): Promise<void> {
  const N = Number(process.env.AICO_BENCH_SYNC_LATENCY_N ?? 200);
  const relayUser = generateNatsCredentials('relay');
  const cluster = await startNatsCluster({ users: [relayUser], maxPayload: 8 * 1024 * 1024 });
  const STREAM = 'AICO_DATA_SYNC';
  const [a, b, c] = [await open('la'), await open('lb'), await open('lc')];
  try {
    const admin = await connect({ servers: cluster.urls, user: relayUser.user, pass: relayUser.password, inboxPrefix: natsInboxPrefix(relayUser.user) });
    const jsm = await jetstreamManager(admin, { timeout: 20_000 });
    await jsm.streams.add({ name: STREAM, subjects: ['aicosync.>'], retention: RetentionPolicy.Limits, storage: StorageType.File, discard: DiscardPolicy.Old, num_replicas: 3 });
    await admin.close();
    await pair(a, b);
    await pair(a, c);
    const ids = { a: await a.sync.deviceId(), b: await b.sync.deviceId(), c: await c.sync.deviceId() };
    await a.sql.execute(`INSERT INTO users (id, name) VALUES ('u1', 'Ada')`);
    await a.sql.execute(`INSERT INTO conversations (id, user_id) VALUES ('c1', 'u1')`);
    const t = {
      a: await a.sync.jetstreamTransport({ servers: cluster.urls, ...relayUser, stream: STREAM }),
      b: await b.sync.jetstreamTransport({ servers: cluster.urls, ...relayUser, stream: STREAM }),
      c: await c.sync.jetstreamTransport({ servers: cluster.urls, ...relayUser, stream: STREAM }),
    };
    const deliver = async (to: DataLayer, tr: SyncTransport, id: string, t0: bigint): Promise<number> => {
      for (;;) {
        for (const bytes of await tr.receive()) await to.sync.importChanges(bytes);
        if (await to.sql.queryOne('SELECT 1 FROM messages WHERE id = ?', [id])) return Number(process.hrtime.bigint() - t0) / 1e6;
      }
    };
    const both: number[] = [];
    for (let i = 0; i < N + 5; i++) {
      const id = `lat-${i}`;
      const t0 = process.hrtime.bigint();
      await a.sql.execute(`INSERT INTO messages (id, conversation_id, user_id, role, content) VALUES (?, 'c1', 'u1', 'user', ?)`, [id, CONTENT]);
      await t.a.send(ids.b, await a.sync.exportChanges(ids.b));
      await t.a.send(ids.c, await a.sync.exportChanges(ids.c));
      const [mb, mc] = await Promise.all([deliver(b, t.b, id, t0), deliver(c, t.c, id, t0)]);
      // b and c acknowledge, so a's next changeset carries only the new row.
      await a.sync.importChanges(await b.sync.exportChanges(ids.a));
      await a.sync.importChanges(await c.sync.exportChanges(ids.a));
      if (i >= 5) both.push(Math.max(mb, mc)); // the first rounds warm connections and consumers
    }
    both.sort((x, y) => x - y);
    const q = (f: number) => both[Math.min(both.length - 1, Math.floor(both.length * f))]!;
    console.log(`\n### commit on a -> visible on b and c, 3-node JetStream cluster (3 replicas), ${N} commits`);
    console.log(`p50 ${q(0.5).toFixed(1)} ms, p95 ${q(0.95).toFixed(1)} ms (export, publish, fetch, import, read; both peers)`);
    for (const tr of Object.values(t)) await (tr as { close?: () => Promise<void> }).close?.();
  } finally {
    await a.close();
    await b.close();
    await c.close();
    await cluster.stop();
  }
}

await main();
if (process.env.AICO_BENCH_SYNC_LATENCY !== '0') await latency();
