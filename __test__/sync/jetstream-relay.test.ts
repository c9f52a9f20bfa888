/**
 * The sync relay on NATS JetStream (issue 20 item 3), on a real nats-server: three paired
 * devices exchange changesets through one stream; one of them is offline (no connection at all)
 * while the others write, and catches up from its durable consumer when it returns. The relay
 * stores no plaintext (a scan of its JetStream store directory finds no canary), and its
 * subjects and consumer names carry only keyed-hash mailbox ids, never device ids, names or
 * table names. A revoked device's consumer is deleted and its later changesets are dropped.
 */
import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateNatsCredentials } from '../../src/bus/index.js';
import type { DataLayer } from '../../src/data-layer.js';
import { relayMailbox, type JetStreamTransport } from '../../src/sync/index.js';
import { NATS_SERVER, NATS_SKIP } from '../helpers/bus-tools.js';
import { filesContaining } from '../helpers/folders.js';
import { natsClient, startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { cleanupDevices, openDevice, pairDevices, snapshot } from './helpers.js';

const CANARY = 'CANARY-relay-8c41f2';

describe.skipIf(!NATS_SERVER)(`sync through a JetStream relay${NATS_SKIP}`, () => {
  const relayUser = generateNatsCredentials('relay');
  let server: NatsServer;
  let a: DataLayer, b: DataLayer, c: DataLayer;
  let ids: Record<'a' | 'b' | 'c', string>;
  const relay = (d: DataLayer) => d.sync.jetstreamTransport({ servers: server.url, ...relayUser });
  /** One round each way between `x` and every other device, `x` first. */
  const roundAll = async (x: DataLayer, t: JetStreamTransport, peers: string[]) => {
    for (const p of peers) await x.sync.syncWith({ deviceId: p, transport: t });
  };

  beforeAll(async () => {
    server = await startNatsServer({ users: [relayUser], maxPayload: 32 * 1024 * 1024 });
    [a, b, c] = [await openDevice('a'), await openDevice('b'), await openDevice('c')];
    await a.sync.enable({ name: 'desktop' });
    await b.sync.enable({ name: 'phone' });
    await c.sync.enable({ name: 'laptop' });
    await pairDevices(a, b);
    await pairDevices(a, c);
    ids = { a: await a.sync.deviceId(), b: await b.sync.deviceId(), c: await c.sync.deviceId() };
  });
  afterAll(async () => {
    await cleanupDevices();
    await server?.stop();
  });

  it('delivers to a device that was offline while the others synced, and all three converge', async () => {
    await a.sql.execute(`INSERT INTO users (id, name) VALUES ('u1', 'Ada')`);
    await a.sql.execute(`INSERT INTO conversations (id, user_id, title) VALUES ('c1', 'u1', ?)`, [CANARY]);
    await a.sql.execute(`INSERT INTO messages (id, conversation_id, user_id, role, content) VALUES ('m1', 'c1', 'u1', 'user', ?)`, [`secret ${CANARY}`]);
    const ta = await relay(a);
    const tc = await relay(c);
    // b is offline: no connection, no consumer yet. a sends to both; c answers and writes too.
    await roundAll(a, ta, [ids.b, ids.c]);
    await roundAll(c, tc, [ids.a]);
    await c.sql.execute(`INSERT INTO messages (id, conversation_id, user_id, role, content) VALUES ('m2', 'c1', 'u1', 'assistant', 'from the laptop')`);
    await roundAll(c, tc, [ids.a, ids.b]);
    await roundAll(a, ta, [ids.b, ids.c]);
    expect(await c.sql.queryOne(`SELECT content FROM messages WHERE id = 'm1'`)).toEqual({ content: `secret ${CANARY}` });

    // b comes back: its durable consumer starts at the first changeset stored for its mailbox.
    const tb = await relay(b);
    const back = await b.sync.syncWith({ deviceId: ids.a, transport: tb });
    expect(back.errors).toEqual([]);
    expect(back.received).toBeGreaterThanOrEqual(2); // from a (twice) and from c
    await roundAll(b, tb, [ids.c]);
    // Until nobody has anything new: every device takes one more round with each peer.
    for (let i = 0; i < 2; i++) {
      await roundAll(a, ta, [ids.b, ids.c]);
      await roundAll(b, tb, [ids.a, ids.c]);
      await roundAll(c, tc, [ids.a, ids.b]);
    }
    const [sa, sb, sc] = [await snapshot(a), await snapshot(b), await snapshot(c)];
    expect(sb).toEqual(sa);
    expect(sc).toEqual(sa);
    expect(sa.messages.map((m) => (m as { id: string }).id)).toEqual(['m1', 'm2']);
  });

  it('stores no plaintext and names nothing: subjects and consumers carry keyed-hash mailbox ids only', async () => {
    const nc = await natsClient(server, relayUser);
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info('AICO_DATA_SYNC', { subjects_filter: '>' });
      const subjects = Object.keys(info.state.subjects ?? {});
      expect(subjects.length).toBeGreaterThan(0);
      const consumers: string[] = [];
      for await (const ci of jsm.consumers.list('AICO_DATA_SYNC')) consumers.push(ci.name);
      const boxes = new Set<string>();
      for (const d of [a, b, c]) boxes.add(relayMailbox((await d.sync.devices()).find((x) => x.self)!.kexPublicKey!));
      for (const s of subjects) {
        const [head, to, from, ...rest] = s.split('.');
        expect(head).toBe('aicosync');
        expect(rest).toEqual([]);
        expect(boxes.has(to!) && boxes.has(from!)).toBe(true);
      }
      expect(consumers.sort()).toEqual([...boxes].map((x) => `d${x}`).sort());
      const names = [...Object.values(ids), 'desktop', 'phone', 'laptop', 'messages', 'conversations', 'users'];
      for (const n of names) {
        expect(subjects.join(' ')).not.toContain(n);
        expect(consumers.join(' ')).not.toContain(n);
      }
    } finally {
      await nc.close();
    }
    // Every byte the server stored: the sealed changesets never show the canary.
    expect(filesContaining(server.storeDir, CANARY)).toEqual([]);
    expect(filesContaining(server.storeDir, 'secret')).toEqual([]);
  });

  it("revoking a device deletes its consumer and drops what it sends afterwards", async () => {
    const ta = await relay(a);
    const tc = await relay(c);
    const cBox = relayMailbox((await c.sync.devices()).find((x) => x.self)!.kexPublicKey!);
    await a.sync.revoke(ids.c);
    await a.sync.syncWith({ deviceId: ids.b, transport: ta }); // any call applies the revocation at the relay
    const nc = await natsClient(server, relayUser);
    try {
      const jsm = await jetstreamManager(nc);
      await expect(jsm.consumers.info('AICO_DATA_SYNC', `d${cBox}`)).rejects.toThrow(/not found/i);
    } finally {
      await nc.close();
    }
    // c (which does not know yet) still sends to a; a's transport drops it as no peer's.
    await c.sql.execute(`INSERT INTO messages (id, conversation_id, user_id, role, content) VALUES ('m3', 'c1', 'u1', 'user', 'after revocation')`);
    await tc.send(ids.a, await c.sync.exportChanges(ids.a));
    const before = ta.refused;
    const r = await a.sync.syncWith({ deviceId: ids.b, transport: ta });
    expect(ta.refused).toBe(before + 1);
    expect(r.errors).toEqual([]);
    expect(await a.sql.queryOne(`SELECT id FROM messages WHERE id = 'm3'`)).toBeUndefined();
    // a no longer sends to c at all.
    await expect(ta.send(ids.c, Buffer.from('x'))).rejects.toMatchObject({ code: 'SYNC_UNTRUSTED' });
  });
});

describe.skipIf(!NATS_SERVER)(`sync through a relay with a small max_payload${NATS_SKIP}`, () => {
  const relayUser = generateNatsCredentials('relay');
  let server: NatsServer;
  afterAll(async () => {
    await cleanupDevices();
    await server?.stop();
  });

  it('a changeset larger than max_payload goes in chunks and arrives whole', async () => {
    // 64 KiB per message (a default nats-server takes 1 MiB; the exporter fills up to 16 MiB).
    server = await startNatsServer({ users: [relayUser], maxPayload: 64 * 1024 });
    const [a, b] = [await openDevice('chunk-a'), await openDevice('chunk-b')];
    await a.sync.enable({ name: 'desktop' });
    await b.sync.enable({ name: 'phone' });
    await pairDevices(a, b);
    const [ida, idb] = [await a.sync.deviceId(), await b.sync.deviceId()];
    await a.sql.execute(`INSERT INTO users (id, name) VALUES ('u1', 'Ada')`);
    await a.sql.execute(`INSERT INTO conversations (id, user_id, title) VALUES ('c1', 'u1', 'big')`);
    // Incompressible text: the sealed changeset stays several times larger than one message.
    for (let i = 0; i < 8; i++) {
      await a.sql.execute(`INSERT INTO messages (id, conversation_id, user_id, role, content) VALUES (?, 'c1', 'u1', 'user', ?)`, [`m${i}`, randomBytes(40_000).toString('base64')]);
    }
    const ta = await a.sync.jetstreamTransport({ servers: server.url, ...relayUser });
    const tb = await b.sync.jetstreamTransport({ servers: server.url, ...relayUser });
    const changeset = await a.sync.exportChanges(idb);
    expect(changeset.length).toBeGreaterThan(4 * 64 * 1024);
    await ta.send(idb, changeset);
    // The same changeset again (a retry): JetStream's duplicate window drops every chunk.
    await ta.send(idb, changeset);
    const got = await tb.receive();
    expect(got).toHaveLength(1);
    expect(got[0]!.equals(Buffer.from(changeset))).toBe(true);
    expect(tb.rejectedChunks).toBe(0);
    // And through the sync engine: b ends up with every row.
    const r = await b.sync.syncWith({ deviceId: ida, transport: tb });
    expect(r.errors).toEqual([]);
    await a.sync.syncWith({ deviceId: idb, transport: ta });
    await b.sync.syncWith({ deviceId: ida, transport: tb });
    expect(await b.sql.queryOne<{ n: number }>(`SELECT count(*) AS n FROM messages`)).toEqual({ n: 8 });
    expect(await snapshot(b)).toEqual(await snapshot(a));
    await ta.close();
    await tb.close();
  });
});
