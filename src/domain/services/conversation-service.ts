import { AicoDataError, invalidArgument } from '../../errors.js';
import { createConversation, type Conversation } from '../entities/conversation.js';
import type { Memory } from '../entities/memory.js';
import { createMessage, type Message } from '../entities/message.js';
import type { ConversationRepository } from '../repositories/conversation-repository.js';
import type { MemoryRepository } from '../repositories/memory-repository.js';
import type { UserRepository } from '../repositories/user-repository.js';
import { requireId, requireInteger } from '../validation.js';

/** What the responder (the model) gets to answer a message. */
export interface ResponseContext {
  readonly userId: string;
  readonly conversation: Conversation;
  readonly message: Message;
  /** Memories recalled for the message, most relevant first. */
  readonly memories: readonly Memory[];
}

/** A responder's answer: the text, or the text with metrics about how it was made. */
export type Response =
  | string
  | {
      readonly content: string;
      readonly model?: string | null;
      readonly promptTokens?: number | null;
      readonly completionTokens?: number | null;
      readonly sentimentScore?: number | null;
    };

/** Produces the companion's answer (an LLM call, a rule, a test double). */
export type Responder = (context: ResponseContext) => Promise<Response> | Response;

export interface ProcessMessageOptions {
  /** Continue this conversation (default: the user's latest, or a new one). */
  readonly conversationId?: string;
  /** Memories to recall as context, 0-100 (default 5). */
  readonly recallLimit?: number;
}

/** What {@link ConversationService.processUserMessage} stored and used. */
export interface ProcessedMessage {
  readonly conversation: Conversation;
  readonly userMessage: Message;
  readonly response: Message;
  readonly memories: readonly Memory[];
}

export interface ConversationServiceDeps {
  readonly users: UserRepository;
  readonly conversations: ConversationRepository;
  readonly memories: MemoryRepository;
  /** Epoch milliseconds (default `Date.now`); injectable for tests. */
  readonly now?: () => number;
}

/**
 * The conversation flow of the seed: store the user's message, recall memories for it, let
 * the responder answer, store the answer with its response time.
 *
 * The responder runs outside any transaction (a model call may take seconds and must not
 * hold the single writer); if it throws, the user's message stays stored and the error
 * propagates.
 */
export class ConversationService {
  readonly #deps: ConversationServiceDeps;
  readonly #now: () => number;

  constructor(deps: ConversationServiceDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  async processUserMessage(userId: string, message: string, respond: Responder, options: ProcessMessageOptions = {}): Promise<ProcessedMessage> {
    requireId(userId, 'userId');
    if (typeof respond !== 'function') throw invalidArgument('respond must be a function', { field: 'respond' });
    const recallLimit = options.recallLimit === undefined ? 5 : requireInteger(options.recallLimit, 'recallLimit', 0, 100);
    const { users, conversations, memories } = this.#deps;

    if (!(await users.get(userId))) throw new AicoDataError('NOT_FOUND', `user ${userId} does not exist`, { field: 'userId' });
    const conversation = await this.#conversationFor(userId, options.conversationId);

    const userMessage = createMessage({ conversationId: conversation.id, userId, role: 'user', content: message, createdAt: this.#now() });
    await conversations.saveMessage(userMessage);

    const recalled = recallLimit === 0 ? [] : await memories.getByContext(message, { userId, limit: recallLimit, at: userMessage.createdAt });
    const context = recalled.map((hit) => hit.item);
    if (context.length > 0) await memories.recordAccess(context.map((m) => m.id), userMessage.createdAt);

    const started = this.#now();
    const answer = await respond({ userId, conversation, message: userMessage, memories: context });
    const finished = this.#now();
    const reply = typeof answer === 'string' ? { content: answer } : answer;
    if (reply === null || typeof reply !== 'object') throw invalidArgument('respond must return a string or { content }', { field: 'respond' });

    const response = createMessage({
      conversationId: conversation.id,
      userId,
      role: 'assistant',
      content: reply.content,
      createdAt: Math.max(finished, userMessage.createdAt.getTime()),
      responseTimeMs: Math.max(0, Math.round(finished - started)),
      model: reply.model ?? null,
      promptTokens: reply.promptTokens ?? null,
      completionTokens: reply.completionTokens ?? null,
      sentimentScore: reply.sentimentScore ?? null,
    });
    await conversations.saveMessage(response);
    return { conversation, userMessage, response, memories: context };
  }

  async #conversationFor(userId: string, conversationId: string | undefined): Promise<Conversation> {
    const { conversations } = this.#deps;
    if (conversationId !== undefined) {
      const found = await conversations.get(requireId(conversationId, 'conversationId'));
      if (!found || found.userId !== userId) {
        throw new AicoDataError('NOT_FOUND', `conversation ${conversationId} of user ${userId} does not exist`, { field: 'conversationId' });
      }
      return found;
    }
    const latest = await conversations.listByUser(userId, { limit: 1 });
    if (latest.items[0]) return latest.items[0];
    const created = createConversation({ userId, createdAt: this.#now() });
    await conversations.save(created);
    return created;
  }
}
