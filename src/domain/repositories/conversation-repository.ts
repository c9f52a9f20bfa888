import type { Conversation } from '../entities/conversation.js';
import type { Message } from '../entities/message.js';
import type { Page, PageRequest } from '../pagination.js';
import type { SearchHit, SearchOptions } from '../search.js';

/** Which messages {@link ConversationRepository.getByUser} reads. */
export interface MessagePageRequest extends PageRequest {
  /** Only messages of this conversation. */
  readonly conversationId?: string;
}

/** Stores conversations and their messages. */
export interface ConversationRepository {
  /** Creates the conversation, or updates its title when it exists. The user must exist (`CONSTRAINT`). */
  save(conversation: Conversation): Promise<void>;
  get(id: string): Promise<Conversation | undefined>;
  /** The user's conversations, newest first. */
  listByUser(userId: string, page?: PageRequest): Promise<Page<Conversation>>;
  /**
   * Stores a message. Its conversation and user must exist and a message with its id must
   * not (`CONSTRAINT` otherwise): messages are never rewritten.
   */
  saveMessage(message: Message): Promise<void>;
  getMessage(id: string): Promise<Message | undefined>;
  /** The user's messages, newest first, one page at a time (`before`: a previous `nextCursor`). */
  getByUser(userId: string, page?: MessagePageRequest): Promise<Page<Message>>;
  /**
   * Messages containing every word of `query`, best match first (BM25). The query is plain
   * text: quotes, operators and other search syntax in it are matched literally, never run.
   */
  searchByContent(query: string, options?: SearchOptions): Promise<SearchHit<Message>[]>;
}
