/**
 * A data folder served over NATS with credentials derived from the folder (issue 20 item 2):
 * the owner's module stores and retrieves a memory through `data.serveBus` on a real nats-server,
 * change events land in the JetStream stream, and the same user name derived from another
 * folder (what a process without this folder's password can compute) is refused.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNatsBus, type BusEnvelope, type NatsBus } from '../../src/bus/index.js';
import { openDataLayer, type DataLayer } from '../../src/index.js';
import { NATS_SERVER, NATS_SKIP } from '../helpers/bus-tools.js';
import { tempDir } from '../helpers/folders.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { waitFor } from './helpers.js';

describe.skipIf(!NATS_SERVER)(`a data folder served over NATS${NATS_SKIP}`, () => {
  const t = tempDir('aico-nats-folder-');
  let data: DataLayer;
  let server: NatsServer;
  let serving: NatsBus;
  let app: NatsBus;

  beforeAll(async () => {
    data = await openDataLayer({ dir: join(t.dir, 'data'), password: 'nats folder password', vectors: false, analytics: false });
    server = await startNatsServer({ users: [data.natsCredentials('server'), data.natsCredentials('owner')] });
    serving = await connectNatsBus({ servers: server.url, ...data.natsCredentials('server'), source: 'aico-data', codec: 'protobuf' });
    app = await connectNatsBus({ servers: server.url, ...data.natsCredentials('owner'), source: 'owner-app', codec: 'protobuf' });
    await data.serveBus({ bus: serving });
  });
  afterAll(async () => {
    await app?.close();
    await serving?.close();
    await data?.close();
    await server?.stop();
    t.cleanup();
  });

  it('answers memory requests and stores their change events durably', async () => {
    const userId = (await data.services.onboarding.onboardNewUser({ name: 'Ana' })).user.id;
    const events: BusEnvelope[] = [];
    await app.consume('data/memory/', 'app-memories', (e) => void events.push(e));
    const stored = await app.request<{ id: string }>('memory/store/request/v1', { userId, type: 'semantic', content: 'likes jazz' });
    expect(typeof stored.id).toBe('string');
    await data.outbox!.drain();
    await waitFor(() => events.some((e) => e.metadata.message_type === 'data/memory/created/v1'), 10_000);
  });

  it('derives the same credentials on every call; another folder derives others, which the server refuses', async () => {
    expect(data.natsCredentials('owner')).toEqual(data.natsCredentials('owner'));
    expect(data.natsCredentials('owner')).not.toEqual(data.natsCredentials('server'));
    const o = tempDir('aico-nats-folder-other-');
    const other = await openDataLayer({ dir: join(o.dir, 'data'), password: 'another password', vectors: false, analytics: false, bus: false });
    try {
      const theirs = other.natsCredentials('owner');
      expect(theirs.user).toBe(data.natsCredentials('owner').user);
      expect(theirs.password).not.toBe(data.natsCredentials('owner').password);
      await expect(connectNatsBus({ servers: server.url, ...theirs })).rejects.toMatchObject({ code: 'NOT_AUTHORIZED' });
    } finally {
      await other.close();
      o.cleanup();
    }
  });
});
