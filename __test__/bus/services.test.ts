import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectZmqBus, generateBusKeyPair, startZmqBroker, type BusEnvelope, type MessageBus, type ZmqBroker } from '../../src/bus/index.js';
import { DATABASE_TOPICS, type ServeBusOptions } from '../../src/services/index.js';
import { openDataLayer, type DataLayer } from '../../src/index.js';
import { tempDir } from '../helpers/folders.js';
import { waitFor } from './helpers.js';

interface Setup {
  data: DataLayer;
  client: MessageBus;
  serve(options: ServeBusOptions): Promise<unknown>;
  close(): Promise<void>;
}

async function inProcess(): Promise<Setup> {
  const t = tempDir('aico-bus-services-');
  const data = await openDataLayer({ dir: join(t.dir, 'data'), password: 'bus services password' });
  const client = (data.bus as import('../../src/bus/index.js').InProcessBus).fork('client');
  return {
    data,
    client,
    async serve(options) {
      return data.serveBus(options);
    },
    async close() {
      await client.close();
      await data.close();
      t.cleanup();
    },
  };
}

/** Configured keys: the application generated them and keeps them; the bus exists before the layer opens. */
async function zeromq(): Promise<Setup> {
  const t = tempDir('aico-bus-services-');
  const serverKeys = generateBusKeyPair();
  const clientKeys = generateBusKeyPair();
  const broker: ZmqBroker = await startZmqBroker({ allowedClients: [serverKeys.publicKey, clientKeys.publicKey] });
  const serverBus = await connectZmqBus({ ...broker.endpoints, ...serverKeys, source: 'aico-data' });
  const data = await openDataLayer({ dir: join(t.dir, 'data'), password: 'bus services password', bus: serverBus });
  const client = await connectZmqBus({ ...broker.endpoints, ...clientKeys, source: 'client' });
  return {
    data,
    client,
    async serve(options) {
      return data.serveBus(options);
    },
    async close() {
      await client.close();
      await data.close();
      await serverBus.close(); // a bus passed in is the caller's to close
      await broker.stop();
      t.cleanup();
    },
  };
}

/**
 * Keys derived from the folder: the layer opens with its in-process bus, the broker and both
 * clients take their keys from `data.busKeys()`, and `serveBus({ bus })` serves on ZeroMQ and
 * forwards the change events there.
 */
async function zeromqFolderKeys(): Promise<Setup> {
  const t = tempDir('aico-bus-services-');
  const data = await openDataLayer({ dir: join(t.dir, 'data'), password: 'bus services password' });
  const server = data.busKeys('server-module');
  const owner = data.busKeys('owner');
  const broker = await startZmqBroker({ serverKeys: owner.server, allowedClients: [server.client.publicKey, owner.client.publicKey] });
  const serverBus = await connectZmqBus({ ...broker.endpoints, ...server.client, source: 'aico-data' });
  const client = await connectZmqBus({ ...broker.endpoints, ...owner.client, source: 'client' });
  return {
    data,
    client,
    async serve(options) {
      return data.serveBus({ ...options, bus: serverBus });
    },
    async close() {
      await client.close();
      await data.close();
      await serverBus.close();
      await broker.stop();
      t.cleanup();
    },
  };
}

describe.each([
  ['in-process bus', inProcess],
  ['ZeroMQ bus through a real CURVE broker (configured keys)', zeromq],
  ['ZeroMQ bus through a real CURVE broker (keys derived from the folder)', zeromqFolderKeys],
])('database services on the %s (all stores on)', (_name, make) => {
  let s: Setup;
  let userId: string;
  const events: BusEnvelope[] = [];

  beforeAll(async () => {
    s = await make();
    await s.serve({ responder: ({ message }) => `you said: ${message.content}` });
    await s.client.subscribe('data/**', (e) => void events.push(e));
    userId = (await s.data.services.onboarding.onboardNewUser({ name: 'Ana' })).user.id;
  });
  afterAll(async () => {
    await s.close();
  });

  it('stores a memory on request, answers with its id, then announces it after commit', async () => {
    const r = await s.client.request<{ id: string }>(DATABASE_TOPICS.memoryStore, { userId, type: 'preference', content: 'Ana loves green tea', importance: 0.9 });
    expect((await s.data.repos.memories.get(r.id))?.content).toBe('Ana loves green tea');
    expect((await s.data.vectors!.memories.get({ ids: [r.id] })).length).toBe(1);
    await waitFor(() => events.some((e) => e.metadata.message_type === 'data/memory/created/v1' && (e.payload as { id: string }).id === r.id));
    const ev = events.find((e) => (e.payload as { id: string }).id === r.id)!;
    expect(ev.payload).toEqual({ id: r.id, user_id: userId }); // ids only
    expect(ev.metadata.source).toBe('aico-data');

    const found = await s.client.request<{ memories: { id: string; content: string }[] }>(DATABASE_TOPICS.memoryRetrieve, { userId, query: 'green tea', limit: 3 });
    expect(found.memories[0]!.id).toBe(r.id);
  });

  it('stores and lists messages, processes a user message end to end', async () => {
    const stored = await s.client.request<{ id: string; conversationId: string }>(DATABASE_TOPICS.messageStore, { userId, role: 'user', content: 'hello over the bus' });
    expect((await s.data.repos.conversations.getMessage(stored.id))?.content).toBe('hello over the bus');
    const listed = await s.client.request<{ messages: { id: string }[] }>(DATABASE_TOPICS.messageList, { userId, conversationId: stored.conversationId });
    expect(listed.messages.map((m) => m.id)).toEqual([stored.id]);

    const processed = await s.client.request<{ response: { content: string; responseTimeMs: number } }>(DATABASE_TOPICS.messageProcess, { userId, message: 'how are you?' });
    expect(processed.response.content).toBe('you said: how are you?');
    await waitFor(() => events.some((e) => e.metadata.message_type === 'data/message/created/v1' && (e.payload as { id: string }).id === stored.id));
  });

  it('answers bad requests with error responses and keeps serving', async () => {
    await expect(s.client.request(DATABASE_TOPICS.memoryStore, 'not an object')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(s.client.request(DATABASE_TOPICS.memoryStore, { userId, type: 'nonsense', content: 'x' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(s.client.request(DATABASE_TOPICS.messageStore, { userId, conversationId: 'no-such-conversation', role: 'user', content: 'x' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(s.client.request(DATABASE_TOPICS.memoryRetrieve, { userId })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const ok = await s.client.request<{ existed: boolean }>(DATABASE_TOPICS.memoryForget, { id: 'never-existed' });
    expect(ok.existed).toBe(false);
  });

  it('forgets a user on request, everywhere', async () => {
    const bob = (await s.data.services.onboarding.onboardNewUser({ name: 'Bob' })).user.id;
    await s.client.request(DATABASE_TOPICS.memoryStore, { userId: bob, type: 'semantic', content: 'Bob plays chess' });
    const r = await s.client.request<{ clean: boolean }>(DATABASE_TOPICS.userForget, { userId: bob }, { timeoutMs: 30_000 });
    expect(r.clean).toBe(true);
    expect((await s.data.forgetStatus(bob)).clean).toBe(true);
    await waitFor(() => events.some((e) => e.metadata.message_type === 'data/user/deleted/v1' && (e.payload as { id: string }).id === bob));
  });
});
