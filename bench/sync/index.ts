/**
 * bench/sync: what device sync costs.
 *
 * 1. Change capture: a message insert with sync enabled (capture trigger: clock bump + change
 *    log row in the same transaction) against the same insert in a folder without sync.
 * 2. Changeset round trip: export (collect, deflate, AES-GCM, Ed25519) + import (verify,
 *    decrypt, log, materialize) of N new messages, against the floor: inserting the same rows
 *    into the second folder directly in one transaction.
 *
 *   npx tsx bench/sync/index.ts        (AICO_BENCH_MS, AICO_BENCH_SYNC_ROWS)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataLayer, type DataLayer } from '../../src/data-layer.js';
import { measure, report } from '../lib/measure.js';
import { emit } from '../lib/results.js';

const MS = Number(process.env.AICO_BENCH_MS ?? 1500);
const ROWS = Number(process.env.AICO_BENCH_SYNC_ROWS ?? 2000);
const ROUNDS = Number(process.env.AICO_BENCH_ROUNDS ?? 3);
const CONTENT = 'I walked the dog along the river this morning and it started to rain halfway';
const INSERT = `INSERT INTO messages (id, conversation_id, user_id, role, content) VALUES (?, 'c1', 'u1', 'user', ?)`;

const dirs: string[] = [];
async function open(name: string): Promise<DataLayer> {
  const dir = mkdtempSync(join(tmpdir(), `aico-bench-sync-${name}-`));
  dirs.push(dir);
  const d = await openDataLayer({ dir, password: 'bench password', analytics: false, kv: false, vectors: false, outbox: false, bus: false });
  await d.sql.execute(`INSERT INTO users (id, name) VALUES ('u1', 'Ada')`);
  await d.sql.execute(`INSERT INTO conversations (id, user_id) VALUES ('c1', 'u1')`);
  return d;
}

async function main(): Promise<void> {
  const plain = await open('plain');
  const a = await open('a');
  const b = await open('b');
  try {
    await a.sync.enable({ name: 'a' });
    await b.sync.enable({ name: 'b' });
    const offer = await b.sync.createPairingOffer();
    const reveal = await b.sync.completePairing((await a.sync.pair(offer.payload)).payload!);
    await b.sync.completePairing((await a.sync.pair(reveal.payload!, reveal.code)).payload!);
    const [aId, bId] = [await a.sync.deviceId(), await b.sync.deviceId()];
    await b.sync.importChanges(await a.sync.exportChanges(bId));
    await a.sync.importChanges(await b.sync.exportChanges(aId));

    // 1. capture overhead
    let n = 0;
    const best = new Map<string, Awaited<ReturnType<typeof measure>>>();
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, d] of [
        ['insert, sync enabled (captured)', a],
        ['insert, no sync (peer)', plain],
      ] as const) {
        const res = await measure(name, () => d.sql.execute(INSERT, [`m-${++n}`, CONTENT]), MS);
        if (!best.has(name) || res.opsPerSec > best.get(name)!.opsPerSec) best.set(name, res);
      }
    }
    const captured = best.get('insert, sync enabled (captured)')!;
    const peer = best.get('insert, no sync (peer)')!;
    report('message insert: change capture cost', [captured, peer], 'insert, no sync (peer)');
    emit({
      suite: 'sync',
      workload: 'message insert with change capture',
      unit: 'ops/s',
      better: 'higher',
      aico: { name: 'aico-data sync capture', value: captured.opsPerSec },
      peer: { name: 'same insert, sync off', value: peer.opsPerSec },
    });

    // Bring b up to date, so each round trip below carries only the new rows.
    await b.sync.importChanges(await a.sync.exportChanges(bId));
    await a.sync.importChanges(await b.sync.exportChanges(aId));

    // 2. changeset round trip vs direct insert of the same rows
    let syncBest = Infinity;
    let floorBest = Infinity;
    let bytes = 0;
    for (let r = 0; r < ROUNDS; r++) {
      await a.sql.transaction(async (tx) => {
        for (let i = 0; i < ROWS; i++) await tx.execute(INSERT, [`rt-${r}-${i}`, `${CONTENT} ${i}`]);
      });
      const t0 = process.hrtime.bigint();
      const cs = await a.sync.exportChanges(bId);
      const res = await b.sync.importChanges(cs);
      const t1 = process.hrtime.bigint();
      if (res.applied !== ROWS) throw new Error(`expected ${ROWS} changes, applied ${res.applied}`);
      await a.sync.importChanges(await b.sync.exportChanges(aId));
      bytes = cs.length;
      syncBest = Math.min(syncBest, Number(t1 - t0) / 1e6);
      const t2 = process.hrtime.bigint();
      await plain.sql.transaction(async (tx) => {
        for (let i = 0; i < ROWS; i++) await tx.execute(INSERT, [`fl-${r}-${i}`, `${CONTENT} ${i}`]);
      });
      const t3 = process.hrtime.bigint();
      floorBest = Math.min(floorBest, Number(t3 - t2) / 1e6);
    }
    const syncRate = ROWS / (syncBest / 1000);
    const floorRate = ROWS / (floorBest / 1000);
    console.log(`\n### changeset round trip of ${ROWS} messages`);
    console.log('| path | ms | rows/s | bytes/row |');
    console.log('|---|---:|---:|---:|');
    console.log(`| export + import (signed, encrypted, deflated) | ${syncBest.toFixed(1)} | ${Math.round(syncRate)} | ${(bytes / ROWS).toFixed(1)} |`);
    console.log(`| direct insert in one transaction (floor) | ${floorBest.toFixed(1)} | ${Math.round(floorRate)} | - |`);
    emit({
      suite: 'sync',
      workload: `changeset export+import, ${ROWS} messages`,
      unit: 'rows/s',
      better: 'higher',
      aico: { name: 'aico-data sync round trip', value: syncRate },
      peer: { name: 'direct insert of the same rows', value: floorRate },
      note: `${(bytes / ROWS).toFixed(1)} bytes per change on the wire`,
    });
  } finally {
    for (const d of [plain, a, b]) await d.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

await main();
