/**
 * The database services on the bus: request handlers that call the repositories and memory
 * layer and answer on the matching response topics (AICO's "database operations triggered by
 * messages"). Change events are not published here: the outbox dispatcher publishes them after
 * commit (see `src/outbox/targets/events.ts`).
 */
import { AicoDataError, invalidArgument } from '../errors.js';
import {
  createConversation,
  createMessage,
  type Memory,
  type Message,
  type NewMemory,
  type Repositories,
  type Responder,
  type SearchHit,
  type Services,
} from '../domain/index.js';
import type { RecallWeights } from '../stores/vectors/recall.js';
import type { MessageBus, Subscription } from '../bus/message-bus.js';

/** Request topics served by {@link startDatabaseServices}. */
export const DATABASE_TOPICS = {
  memoryStore: 'memory/store/request/v1',
  memoryRetrieve: 'memory/retrieve/request/v1',
  memoryForget: 'memory/forget/request/v1',
  messageStore: 'conversation/message/store/request/v1',
  messageList: 'conversation/message/list/request/v1',
  messageProcess: 'conversation/message/process/request/v1',
  userForget: 'user/forget/request/v1',
} as const;

/** What the services need from the data layer (a `DataLayer` has all of it). */
export interface DatabaseServiceDeps {
  readonly repos: Repositories;
  readonly services: Services;
  readonly memories: {
    remember(input: NewMemory): Promise<Memory>;
    recall(text: string, options: { userId: string; limit?: number; weights?: RecallWeights }): Promise<SearchHit<Memory>[]>;
    forget(id: string): Promise<boolean>;
  };
  forgetUser?(userId: string): Promise<{ clean: boolean }>;
}

/** Options of {@link startDatabaseServices}. */
export interface DatabaseServiceOptions {
  /**
   * Answers user messages for `conversation/message/process/request/v1` (the model call). Without
   * it that topic is not served.
   */
  readonly responder?: Responder;
}

/** Running services; `stop()` unsubscribes them all. */
export interface DatabaseServices {
  readonly topics: string[];
  stop(): Promise<void>;
}

function body(p: unknown): Record<string, unknown> {
  if (p === null || typeof p !== 'object' || Array.isArray(p)) throw invalidArgument('the request payload must be an object', { field: 'payload' });
  return p as Record<string, unknown>;
}

function str(o: Record<string, unknown>, k: string, optional = false): string | undefined {
  const v = o[k];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || v.length === 0) throw invalidArgument(`${k} must be a non-empty string`, { field: k });
  return v;
}

const messageOut = (m: Message) => ({
  id: m.id,
  conversationId: m.conversationId,
  userId: m.userId,
  role: m.role,
  content: m.content,
  createdAt: m.createdAt.toISOString(),
  responseTimeMs: m.responseTimeMs,
});
const memoryOut = (m: Memory) => ({ id: m.id, userId: m.userId, type: m.type, content: m.content, importance: m.importance, createdAt: m.createdAt.toISOString() });

/** Registers the database request handlers on `bus`. */
export async function startDatabaseServices(bus: MessageBus, deps: DatabaseServiceDeps, options: DatabaseServiceOptions = {}): Promise<DatabaseServices> {
  const { repos, memories } = deps;
  const handlers: [string, (p: unknown) => Promise<unknown>][] = [
    [
      DATABASE_TOPICS.memoryStore,
      async (p) => {
        const m = await memories.remember(body(p) as unknown as NewMemory);
        return { id: m.id, userId: m.userId, createdAt: m.createdAt.toISOString() };
      },
    ],
    [
      DATABASE_TOPICS.memoryRetrieve,
      async (p) => {
        const b = body(p);
        const limit = b.limit === undefined ? undefined : Number(b.limit);
        const hits = await memories.recall(str(b, 'query')!, { userId: str(b, 'userId')!, ...(limit !== undefined ? { limit } : {}) });
        return { memories: hits.map((h) => ({ ...memoryOut(h.item), score: h.score })) };
      },
    ],
    [DATABASE_TOPICS.memoryForget, async (p) => ({ existed: await memories.forget(str(body(p), 'id')!) })],
    [
      DATABASE_TOPICS.messageStore,
      async (p) => {
        const b = body(p);
        const userId = str(b, 'userId')!;
        let conversationId = str(b, 'conversationId', true);
        if (conversationId === undefined) {
          const c = createConversation({ userId });
          await repos.conversations.save(c);
          conversationId = c.id;
        } else {
          const c = await repos.conversations.get(conversationId);
          if (!c || c.userId !== userId) throw new AicoDataError('NOT_FOUND', `conversation ${conversationId} of user ${userId} does not exist`, { field: 'conversationId' });
        }
        const m = createMessage({ ...(b as object), userId, conversationId } as Parameters<typeof createMessage>[0]);
        await repos.conversations.saveMessage(m);
        return { id: m.id, conversationId, createdAt: m.createdAt.toISOString() };
      },
    ],
    [
      DATABASE_TOPICS.messageList,
      async (p) => {
        const b = body(p);
        const limit = b.limit === undefined ? undefined : Number(b.limit);
        const conversationId = str(b, 'conversationId', true);
        const page = await repos.conversations.getByUser(str(b, 'userId')!, { ...(limit !== undefined ? { limit } : {}), ...(conversationId ? { conversationId } : {}) });
        return { messages: page.items.map(messageOut), nextCursor: page.nextCursor ?? null };
      },
    ],
  ];
  if (options.responder) {
    const respond = options.responder;
    handlers.push([
      DATABASE_TOPICS.messageProcess,
      async (p) => {
        const b = body(p);
        const conversationId = str(b, 'conversationId', true);
        const r = await deps.services.conversation.processUserMessage(str(b, 'userId')!, str(b, 'message')!, respond, conversationId ? { conversationId } : {});
        return { conversationId: r.conversation.id, userMessage: messageOut(r.userMessage), response: messageOut(r.response), memories: r.memories.map((m) => m.id) };
      },
    ]);
  }
  if (deps.forgetUser) {
    const forget = deps.forgetUser.bind(deps);
    handlers.push([DATABASE_TOPICS.userForget, async (p) => ({ clean: (await forget(str(body(p), 'userId')!)).clean })]);
  }
  const subs: Subscription[] = [];
  try {
    for (const [t, h] of handlers) subs.push(await bus.handle(t, h));
  } catch (e) {
    for (const s of subs) await s.unsubscribe();
    throw e;
  }
  return {
    topics: handlers.map(([t]) => t),
    async stop() {
      for (const s of subs) await s.unsubscribe();
    },
  };
}
