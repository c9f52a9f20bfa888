/**
 * bench/sync/relay: changes/s from one device to another end to end (export, send, receive,
 * import) through the NATS JetStream relay (a real nats-server on 127.0.0.1) against the same
 * changesets over the files transport. Each round: N new messages on a, then a sends and b
 * receives and imports. Best of AICO_BENCH_ROUNDS rounds.
 *
 *   npx tsx bench/sync/relay.ts        (AICO_BENCH_SYNC_ROWS=2000, AICO_BENCH_ROUNDS=3)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateNatsCredentials } from '../../src/bus/index.js';
import { openDataLayer, type DataLayer } from '../../src/data-layer.js';
import { FileTransport, type SyncTransport } from '../../src/sync/index.js';
import { NATS_SERVER } from '../../__test__/helpers/bus-tools.js';
import { startNatsServer } from '../../__test__/helpers/nats-server.js';

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
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

await main();
