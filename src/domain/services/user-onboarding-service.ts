import { createConversation, type Conversation } from '../entities/conversation.js';
import { createMemory, type Memory } from '../entities/memory.js';
import { createMessage, type Message } from '../entities/message.js';
import { createUserPreferences, type PrivacyLevel, type UserPreferences } from '../entities/preferences.js';
import { createUser, type User, type UserType } from '../entities/user.js';
import type { UnitOfWork } from '../repositories/unit-of-work.js';
import { requireObject } from '../validation.js';

/** What a new user tells the companion. Only `name` is required. */
export interface OnboardingData {
  readonly name: string;
  readonly nickname?: string | null;
  readonly userType?: UserType;
  readonly language?: string;
  /** Personality style of the companion, e.g. `friendly`. */
  readonly style?: string;
  readonly privacy?: PrivacyLevel;
}

/** Everything onboarding created. */
export interface OnboardedUser {
  readonly user: User;
  readonly preferences: UserPreferences;
  readonly memory: Memory;
  readonly conversation: Conversation;
  readonly welcome: Message;
}

export interface UserOnboardingOptions {
  /** Writes the welcome message (default: a short greeting by nickname or name). */
  readonly welcome?: (user: User, preferences: UserPreferences) => string;
  /** Epoch milliseconds (default `Date.now`). */
  readonly now?: () => number;
}

/**
 * Onboarding from the seed: the user, their preferences, an initial system memory and a
 * welcome message, all in one unit of work: either everything exists afterwards or nothing.
 */
export class UserOnboardingService {
  readonly #unitOfWork: UnitOfWork;
  readonly #welcome: (user: User, preferences: UserPreferences) => string;
  readonly #now: () => number;

  constructor(unitOfWork: UnitOfWork, options: UserOnboardingOptions = {}) {
    this.#unitOfWork = unitOfWork;
    this.#welcome = options.welcome ?? defaultWelcome;
    this.#now = options.now ?? Date.now;
  }

  async onboardNewUser(data: OnboardingData): Promise<OnboardedUser> {
    const d = requireObject(data, 'data') as Partial<OnboardingData>;
    const now = this.#now();
    // Validate everything before the transaction starts: bad input never opens one.
    const user = createUser({ name: d.name as string, nickname: d.nickname, userType: d.userType ?? 'primary', createdAt: now });
    const preferences = createUserPreferences({
      userId: user.id,
      language: d.language,
      personalityStyle: d.style,
      privacyLevel: d.privacy,
      updatedAt: now,
    });
    const memory = createMemory({ userId: user.id, type: 'system', content: `User ${user.name} joined AICO`, importance: 0.8, createdAt: now });
    const conversation = createConversation({ userId: user.id, title: 'Welcome', createdAt: now });
    const welcome = createMessage({
      conversationId: conversation.id,
      userId: user.id,
      role: 'assistant',
      content: this.#welcome(user, preferences),
      createdAt: now,
    });
    await this.#unitOfWork(async (repos) => {
      await repos.users.save(user);
      await repos.preferences.save(preferences);
      await repos.memories.save(memory);
      await repos.conversations.save(conversation);
      await repos.conversations.saveMessage(welcome);
    });
    return { user, preferences, memory, conversation, welcome };
  }
}

function defaultWelcome(user: User): string {
  return `Hello ${user.nickname ?? user.name}, I'm glad to meet you. Tell me a little about yourself whenever you like.`;
}
