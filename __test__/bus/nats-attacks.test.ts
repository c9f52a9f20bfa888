/**
 * The NATS bus against a local attacker (issue 20 item 2, in the style of `attacks.test.ts`): a
 * separate process with a plain TCP socket and no credentials (or a guessed user and password)
 * subscribes to every subject and sends a forged `user/forget` request. With the server's
 * authorization it must read no message and forget nobody, while the owner keeps working; a NATS
 * client without the credentials gets a typed `NOT_AUTHORIZED`. A control run against a server
 * without authorization shows the same attacker succeeding, so these tests can fail.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { connectNatsBus, createEnvelope, deriveNatsCredentials, encodeProtobufEnvelope, generateNatsCredentials, natsServerAuthorization, type BusEnvelope, type NatsBus } from '../../src/bus/index.js';
import { AicoDataError } from '../../src/errors.js';
import { NATS_SERVER, NATS_SKIP } from '../helpers/bus-tools.js';
import { natsClient, startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { waitFor } from './helpers.js';

const ATTACKER = fileURLToPath(new URL('./fixtures/raw-nats-attacker.mjs', import.meta.url));

interface Report {
  lines: string[];
  closed: boolean;
}

/** The attacker process; resolves `ready` once the server answered its first PING or hung up. */
class Attacker {
  readonly child: ChildProcess;
  ready = false;
  #report: Report | undefined;
  constructor(config: Record<string, unknown>) {
    this.child = spawn(process.execPath, [ATTACKER, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const m = JSON.parse(line) as { ready?: boolean; report?: Report };
      if (m.ready) this.ready = true;
      if (m.report) this.#report = m.report;
    });
  }
  async report(): Promise<Report> {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin!.write('report\n');
    await waitFor(() => this.#report !== undefined, 10_000);
    await exited;
    return this.#report!;
  }
}

/** A forged `user/forget` request as a foreign module would encode it. */
function forgedForget(userId: string): string {
  const e = createEnvelope('user/forget/request/v1', { userId }, { source: 'attacker', correlationId: randomUUID(), replyTo: 'user/forget/response/v1' });
  return encodeProtobufEnvelope(e).toString('base64');
}

async function code(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'no error',
    (e: unknown) => (e instanceof AicoDataError ? e.code : `untyped: ${String(e)}`),
  );
}

describe.skipIf(!NATS_SERVER)(`NATS bus: a local process without credentials${NATS_SKIP}`, () => {
  let server: NatsServer | undefined;
  const buses: NatsBus[] = [];
  afterEach(async () => {
    for (const b of buses.splice(0)) await b.close();
    await server?.stop();
  });

  /** The owner: handles user/forget and publishes a canary change event once the attacker is in place. */
  async function scenario(auth: boolean, attackerAuth?: { user: string; pass: string }) {
    const owner = generateNatsCredentials('owner');
    server = await startNatsServer(auth ? { users: [owner] } : {});
    const bus = await connectNatsBus({ servers: server.url, ...(auth ? owner : { insecureNoAuth: true }), source: 'owner', codec: 'protobuf' });
    buses.push(bus);
    const forgotten: unknown[] = [];
    await bus.handle('user/forget/request/v1', (p) => void forgotten.push(p));
    const attacker = new Attacker({ port: server.port, forged: forgedForget('victim'), ...attackerAuth });
    await waitFor(() => attacker.ready, 10_000);
    const canary = `canary-${randomUUID()}`;
    const seen: BusEnvelope[] = [];
    await bus.subscribe('data/**', (e) => void seen.push(e));
    await bus.publish('data/memory/created/v1', { text: canary });
    await waitFor(() => seen.length === 1);
    // The owner's own request still works (and tells that the forged one had its chance first).
    const mine = await bus.request('user/forget/request/v1', { userId: 'owner-asked' });
    const report = await attacker.report();
    return { report, forgotten, canary, mine };
  }

  it('refuses a plain socket without credentials: no message reaches it, its forged request reaches no handler', async () => {
    const { report, forgotten, canary } = await scenario(true);
    expect(report.lines.some((l) => /Authorization Violation/i.test(l))).toBe(true);
    expect(report.closed).toBe(true);
    expect(report.lines.filter((l) => l.startsWith('MSG'))).toEqual([]);
    expect(report.lines.join('\n')).not.toContain(canary);
    expect(forgotten).toEqual([{ userId: 'owner-asked' }]);
  });

  it('refuses a guessed user and password the same way', async () => {
    const { report, forgotten } = await scenario(true, { user: 'aico-owner', pass: 'guess' });
    expect(report.lines.some((l) => /Authorization Violation/i.test(l))).toBe(true);
    expect(report.lines.filter((l) => l.startsWith('MSG'))).toEqual([]);
    expect(forgotten).toEqual([{ userId: 'owner-asked' }]);
  });

  it('control: without authorization on the server the same attacker reads the canary and forgets a user', async () => {
    const { report, forgotten, canary } = await scenario(false);
    expect(report.lines.filter((l) => l.startsWith('MSG')).length).toBeGreaterThan(0);
    // The server routed the forged request before its PONG to the attacker; the owner's client may read it a moment later.
    await waitFor(() => forgotten.some((f) => (f as { userId: string }).userId === 'victim'));
    // The canary travels inside a protobuf frame; MSG payload lines follow their MSG line.
    expect(report.lines.some((l) => l.includes(canary))).toBe(true);
  });

  it('a NATS client without the credentials, or with wrong ones, gets NOT_AUTHORIZED; without any it is refused before connecting', async () => {
    const owner = generateNatsCredentials('owner');
    server = await startNatsServer({ users: [owner] });
    expect(await code(connectNatsBus({ servers: server.url, insecureNoAuth: true }))).toBe('NOT_AUTHORIZED');
    expect(await code(connectNatsBus({ servers: server.url, user: owner.user, password: 'wrong' }))).toBe('NOT_AUTHORIZED');
    expect(await code(connectNatsBus({ servers: server.url, ...generateNatsCredentials('owner') }))).toBe('NOT_AUTHORIZED');
    expect(await code(connectNatsBus({ servers: server.url } as never))).toBe('INVALID_ARGUMENT');
    const ok = await connectNatsBus({ servers: server.url, ...owner });
    buses.push(ok);
    expect(ok.tenantId).toBe('default');
  });

  it("an admitted client cannot read another client's responses: each user subscribes only to its own inbox", async () => {
    const [owner, service, snoop] = [generateNatsCredentials('owner'), generateNatsCredentials('service'), generateNatsCredentials('snoop')];
    server = await startNatsServer({ users: [owner, service, snoop] });
    const served = await connectNatsBus({ servers: server.url, ...service, source: 'service', codec: 'protobuf' });
    const asking = await connectNatsBus({ servers: server.url, ...owner, source: 'owner', codec: 'protobuf' });
    buses.push(served, asking);
    await served.handle('memory/retrieve/request/v1', () => ({ memories: ['private answer'] }));
    const nc = await natsClient(server, snoop);
    try {
      const seen: string[] = [];
      const watch = (subject: string) => {
        const sub = nc.subscribe(subject, { callback: (e, m) => void (e || seen.push(m.subject)) });
        return sub.closed;
      };
      const everyInbox = watch('_INBOX.>');
      const ownersInbox = watch('_INBOX.aico-owner.>');
      watch('aico.>'); // allowed: admitted clients are peers and see requests
      await nc.flush();
      expect(String(await everyInbox)).toMatch(/Permissions Violation/i);
      expect(String(await ownersInbox)).toMatch(/Permissions Violation/i);
      expect(await asking.request('memory/retrieve/request/v1', { q: 'x' })).toEqual({ memories: ['private answer'] });
      await nc.flush();
      expect(seen).toContain('aico.default.memory.retrieve.request.v1');
      expect(seen.filter((s) => s.startsWith('_INBOX') || s.includes('response'))).toEqual([]);
    } finally {
      await nc.close();
    }
  });
});

describe('NATS credentials and server authorization: bad input', () => {
  it('refuses user names that are no subject token and empty passwords; derived credentials differ per name', () => {
    const codeOf = (f: () => unknown) => {
      try {
        f();
        return 'no error';
      } catch (e) {
        return e instanceof AicoDataError ? e.code : 'untyped';
      }
    };
    expect(codeOf(() => natsServerAuthorization([{ user: 'a.b', password: 'x' }]))).toBe('INVALID_ARGUMENT'); // "." would split the inbox token
    expect(codeOf(() => natsServerAuthorization([{ user: 'ok', password: '' }]))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => generateNatsCredentials('Bad Name'))).toBe('INVALID_ARGUMENT');
    const hmac = (_p: string, d: Uint8Array) => Buffer.from(d).subarray(0, 32); // a stand-in keyed hash: only the label varies
    expect(deriveNatsCredentials({ hmac }, 'a').password).not.toBe(deriveNatsCredentials({ hmac }, 'b').password);
    expect(natsServerAuthorization([{ user: 'aico-owner', password: 'p"w' }])).toContain('"p\\"w"'); // quoted, not injected
  });
});
