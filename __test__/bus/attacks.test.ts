/**
 * Issue 15 item 8: the ZeroMQ bus against a local attacker. The attacker is a separate process
 * with plain `zeromq` sockets (as in the issue): it subscribes to every topic and sends
 * `user/forget` requests as a publisher and on the request path. Without keys, or with a key
 * pair the broker never allowed, it must read no frame and forget nobody, while the owner's
 * client keeps working. A control run against an `insecurePlaintext` broker shows the same
 * attacker succeeding, so these tests can fail. And an allowed client cannot read the responses
 * of another client: responses go to their requester only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Subscriber } from 'zeromq';
import { connectZmqBus, generateBusKeyPair, startZmqBroker, type BusEnvelope, type MessageBus, type ZmqBroker, type ZmqBus } from '../../src/bus/index.js';
import { DATABASE_TOPICS, type DatabaseServices } from '../../src/services/index.js';
import { AicoDataError } from '../../src/errors.js';
import { openDataLayer, type DataLayer } from '../../src/index.js';
import { tempDir } from '../helpers/folders.js';
import { waitFor as poll } from '../helpers/processes.js';
import { waitFor } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ATTACKER = fileURLToPath(new URL('./fixtures/raw-attacker.mjs', import.meta.url));
const CANARY = `canary-${randomUUID()}`;

interface AttackerReport {
  frames: string[][];
  events: Record<'sub' | 'pub' | 'req', Record<string, number>>;
  sent: number;
}

/** The attacker process: started against a broker, asked for its report at the end. */
class Attacker {
  readonly child: ChildProcess;
  readonly events: { event: string; socket: string }[] = [];
  /** Topics of the frames its subscriber received, as they arrive. */
  readonly topics: string[] = [];
  #report: AttackerReport | undefined;
  constructor(config: Record<string, unknown>) {
    this.child = spawn(process.execPath, [ATTACKER, JSON.stringify(config)], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const m = JSON.parse(line) as { event?: string; socket?: string; frame?: string; report?: AttackerReport };
      if (m.report) this.#report = m.report;
      else if (m.frame !== undefined) this.topics.push(m.frame);
      else if (m.event) this.events.push({ event: m.event, socket: m.socket! });
    });
  }
  /** How often `socket` saw an event of this kind. */
  count(socket: string, test: (event: string) => boolean): number {
    return this.events.filter((e) => e.socket === socket && test(e.event)).length;
  }
  async report(): Promise<AttackerReport> {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin!.write('report\n');
    await waitFor(() => this.#report !== undefined, 10_000);
    await exited;
    return this.#report!;
  }
  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

const SOCKETS = ['sub', 'pub', 'req'] as const;
const failedHandshake = (e: string) => e.startsWith('handshake:error');

interface Setup {
  data: DataLayer;
  broker: ZmqBroker;
  server: ZmqBus;
  owner: ZmqBus;
  served: DatabaseServices;
  userId: string;
  close(): Promise<void>;
}

/** A served data layer whose bus keys are derived from its folder; a user with a private message. */
async function setup(plaintext = false): Promise<Setup> {
  const t = tempDir('aico-bus-attacks-');
  const data = await openDataLayer({ dir: join(t.dir, 'data'), password: 'bus attack password', vectors: false, analytics: false });
  const serverKeys = data.busKeys('server');
  const ownerKeys = data.busKeys('owner');
  const broker = plaintext
    ? await startZmqBroker({ insecurePlaintext: true })
    : await startZmqBroker({ serverKeys: serverKeys.server, allowedClients: [serverKeys.client.publicKey, ownerKeys.client.publicKey] });
  const keys = (k: typeof serverKeys) => (plaintext ? { insecurePlaintext: true } : k.client);
  const server = await connectZmqBus({ ...broker.endpoints, ...keys(serverKeys), source: 'aico-data' });
  const owner = await connectZmqBus({ ...broker.endpoints, ...keys(ownerKeys), source: 'owner-app' });
  const served = await data.serveBus({ bus: server });
  const userId = (await data.services.onboarding.onboardNewUser({ name: 'Ana' })).user.id;
  await data.services.conversation.processUserMessage(userId, `my secret is ${CANARY}`, () => 'noted');
  return {
    data,
    broker,
    server,
    owner,
    served,
    userId,
    async close() {
      await served.stop();
      await owner.close();
      await server.close();
      await broker.stop();
      await data.close();
      t.cleanup();
    },
  };
}

/** The owner's normal traffic: events and requests whose responses carry the canary. */
async function ownerTraffic(s: Setup, events: BusEnvelope[]): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const listed = await s.owner.request<{ messages: { content: string }[] }>(DATABASE_TOPICS.messageList, { userId: s.userId });
    expect(listed.messages.map((m) => m.content)).toContain(`my secret is ${CANARY}`);
  }
  const stored = await s.owner.request<{ id: string }>(DATABASE_TOPICS.memoryStore, { userId: s.userId, type: 'semantic', content: 'Ana likes jazz' });
  await waitFor(() => events.some((e) => e.metadata.message_type === 'data/memory/created/v1' && (e.payload as { id: string }).id === stored.id), 15_000);
}

const attackers: Attacker[] = [];
afterEach(() => {
  for (const a of attackers.splice(0)) a.kill();
});

describe('the ZeroMQ bus against a local attacker (issue 15.8)', () => {
  let s: Setup;
  const events: BusEnvelope[] = [];
  beforeAll(async () => {
    s = await setup();
    await s.owner.subscribe('data/**', (e) => void events.push(e));
  });
  afterAll(async () => {
    await s.close();
  });

  for (const variant of ['no keys at all', 'a CURVE key pair of its own that the broker never allowed'] as const) {
    it(`an attacker process with ${variant} reads no frame and cannot forget the user; the owner keeps working`, async () => {
      const refusedBefore = s.broker.refused;
      const withKeys = variant !== 'no keys at all';
      const attacker = new Attacker({
        sub: s.broker.subscribeEndpoint,
        pub: s.broker.publishEndpoint,
        req: s.broker.requestEndpoint,
        userId: s.userId,
        ...(withKeys ? { serverKey: s.broker.publicKey, keys: generateBusKeyPair() } : {}),
      });
      attackers.push(attacker);
      // Every attacker socket has tried the broker and been thrown out at the handshake...
      await waitFor(() => SOCKETS.every((k) => attacker.count(k, failedHandshake) >= 1), 15_000);
      // ...while the owner's requests, responses and events flow.
      await ownerTraffic(s, events);
      // The attacker kept sending its forged requests during all of it (report.sent below).
      const report = await attacker.report();
      expect(report.sent).toBeGreaterThan(0);
      expect(report.frames).toEqual([]); // (a) not one event, request or response frame
      expect(SOCKETS.map((k) => report.events[k].handshake ?? 0)).toEqual([0, 0, 0]); // never got in
      if (withKeys) expect(s.broker.refused).toBeGreaterThanOrEqual(refusedBefore + 3); // the ZAP handler said no
      // (b) the user is still there, with everything of theirs.
      expect((await s.data.repos.users.get(s.userId))?.name).toBe('Ana');
      expect((await s.data.forgetStatus(s.userId)).clean).toBe(false);
      // The owner's client still works.
      const after = await s.owner.request<{ messages: unknown[] }>(DATABASE_TOPICS.messageList, { userId: s.userId });
      expect(after.messages.length).toBeGreaterThan(0);
    }, 60_000);
  }

  it('a bus client with a key the broker does not allow gets NOT_AUTHORIZED, and one without keys is refused before connecting', async () => {
    const e = await connectZmqBus({ ...s.broker.endpoints, ...generateBusKeyPair(), connectTimeoutMs: 10_000 }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(AicoDataError);
    expect((e as AicoDataError).code).toBe('NOT_AUTHORIZED');
    // The broker's own key pair is no client key either.
    const serverPair = s.data.busKeys('server').server;
    await expect(connectZmqBus({ ...s.broker.endpoints, ...serverPair, connectTimeoutMs: 10_000 })).rejects.toMatchObject({ code: 'NOT_AUTHORIZED' });
    await expect(connectZmqBus({ publishEndpoint: s.broker.publishEndpoint, subscribeEndpoint: s.broker.subscribeEndpoint })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    // Keys derived from another folder (what a process without this folder's password can compute) are refused.
    const t = tempDir('aico-bus-attacks-other-');
    const other = await openDataLayer({ dir: join(t.dir, 'data'), password: 'another password', vectors: false, analytics: false, bus: false });
    try {
      expect(other.busKeys('owner').client.publicKey).not.toBe(s.data.busKeys('owner').client.publicKey);
      await expect(connectZmqBus({ ...s.broker.endpoints, ...other.busKeys('owner').client, connectTimeoutMs: 10_000 })).rejects.toMatchObject({ code: 'NOT_AUTHORIZED' });
    } finally {
      await other.close();
      t.cleanup();
    }
    // The owner's own keys are the same on every call (derived, not stored).
    expect(s.data.busKeys('owner')).toEqual(s.data.busKeys('owner'));
  });

  it('an allowed client cannot read the responses of another client (responses go to the requester only)', async () => {
    // A second allowed module (its own key from the folder), snooping with a raw socket on every topic.
    const snoopKeys = s.data.busKeys('snoop').client;
    s.broker.allowClient(snoopKeys.publicKey);
    const snoop = new Subscriber({ linger: 0, curveServerKey: s.broker.publicKey!, curvePublicKey: snoopKeys.publicKey, curveSecretKey: snoopKeys.secretKey });
    const frames: string[][] = [];
    snoop.subscribe('');
    snoop.connect(s.broker.subscribeEndpoint);
    const loop = (async () => {
      try {
        for await (const m of snoop) frames.push(m.map((f) => f.toString('utf8')));
      } catch {
        // closed
      }
    })();
    // And through the library, a subscription to the response topic itself.
    const snoopBus: MessageBus = await connectZmqBus({ ...s.broker.endpoints, ...snoopKeys, source: 'snoop' });
    const viaBus: BusEnvelope[] = [];
    await snoopBus.subscribe('conversation/message/list/response/v1', (e) => void viaBus.push(e));
    await snoopBus.subscribe('**', (e) => void viaBus.push(e));
    try {
      // The raw subscriber is in once it sees the owner's requests go by (requests do reach every
      // allowed subscriber); its subscription propagates asynchronously, so drive traffic until then.
      for (let i = 0; i < 200 && !frames.some((f) => f[0] === DATABASE_TOPICS.messageList); i++) {
        await s.owner.request(DATABASE_TOPICS.messageList, { userId: s.userId });
      }
      expect(frames.some((f) => f[0] === DATABASE_TOPICS.messageList)).toBe(true);
      const before = frames.length;
      const listed = await s.owner.request<{ messages: { content: string }[] }>(DATABASE_TOPICS.messageList, { userId: s.userId });
      expect(listed.messages.map((m) => m.content)).toContain(`my secret is ${CANARY}`);
      // The request of this round reached the snoop, its response did not.
      await waitFor(() => frames.length > before, 15_000);
      expect(frames.filter((f) => f[0]!.includes('/response/'))).toEqual([]);
      expect(frames.filter((f) => f.some((x) => x.includes(CANARY)))).toEqual([]);
      expect(viaBus.filter((e) => e.metadata.message_type.includes('/response/'))).toEqual([]);
      expect(viaBus.some((e) => e.metadata.message_type === DATABASE_TOPICS.messageList)).toBe(true);
    } finally {
      snoop.close();
      await loop;
      await snoopBus.close();
      s.broker.denyClient(snoopKeys.publicKey);
    }
  }, 60_000);
});

describe('control: the same attacker against an insecurePlaintext broker succeeds (what the issue saw)', () => {
  it('reads event and request frames and forgets the user', async () => {
    const p = await setup(true);
    try {
      const attacker = new Attacker({ sub: p.broker.subscribeEndpoint, pub: p.broker.publishEndpoint, req: p.broker.requestEndpoint, userId: p.userId });
      attackers.push(attacker);
      await waitFor(() => SOCKETS.every((k) => attacker.count(k, (e) => e === 'handshake') >= 1), 15_000);
      // The forged user/forget requests reach the service: the user disappears.
      expect(await poll(async () => (await p.data.repos.users.get(p.userId)) === undefined, 20_000)).toBe(true);
      await waitFor(() => attacker.topics.includes('data/user/deleted/v1'), 15_000);
      const report = await attacker.report();
      expect(report.frames.some((f) => f[0] === DATABASE_TOPICS.userForget)).toBe(true); // request frames
      expect(report.frames.some((f) => f[0] === 'data/user/deleted/v1')).toBe(true); // event frames
    } finally {
      await p.close();
    }
  }, 60_000);
});
