/** Domain services over the in-memory twins: business rules without any database. */
import { beforeEach, describe, expect, it } from 'vitest';
import {
  ConversationService,
  UserOnboardingService,
  createConversation,
  createMemory,
  createUser,
  type Repositories,
  type UnitOfWork,
} from '../../src/domain/index.js';
import { createMemoryRepositories } from '../../src/repositories/index.js';

let repos: Repositories;
let unitOfWork: UnitOfWork;
beforeEach(() => {
  ({ repos, unitOfWork } = createMemoryRepositories());
});

describe('ConversationService', () => {
  it('continues a given conversation, passes recalled memories to the responder, and skips recall when asked', async () => {
    const user = createUser({ name: 'Ivy' });
    await repos.users.save(user);
    const older = createConversation({ userId: user.id, createdAt: 1000 });
    const newer = createConversation({ userId: user.id, createdAt: 2000 });
    await repos.conversations.save(older);
    await repos.conversations.save(newer);
    await repos.memories.save(createMemory({ userId: user.id, type: 'preference', content: 'Ivy prefers short answers' }));
    const service = new ConversationService(repos);

    const contexts: string[][] = [];
    const out = await service.processUserMessage(user.id, 'give me short answers please', (ctx) => {
      contexts.push(ctx.memories.map((m) => m.content));
      expect(ctx.message.content).toBe('give me short answers please');
      return 'ok';
    }, { conversationId: older.id });
    expect(out.conversation.id).toBe(older.id);
    expect(contexts).toEqual([['Ivy prefers short answers']]);
    expect(out.response.responseTimeMs).toBeGreaterThanOrEqual(0);
    expect(out.response.createdAt.getTime()).toBeGreaterThanOrEqual(out.userMessage.createdAt.getTime());

    const noRecall = await service.processUserMessage(user.id, 'short answers again', (ctx) => {
      expect(ctx.memories).toEqual([]);
      return 'fine';
    }, { recallLimit: 0 });
    expect(noRecall.conversation.id).toBe(newer.id); // default: the latest conversation
  });

  it('rejects a responder answer that is not text, keeping the user message', async () => {
    const user = createUser({ name: 'Jon' });
    await repos.users.save(user);
    const service = new ConversationService(repos);
    await expect(service.processUserMessage(user.id, 'hello', () => 42 as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'respond' } });
    await expect(service.processUserMessage(user.id, 'hello', () => ({ content: '' }))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'content' } });
    await expect(service.processUserMessage(user.id, 'hello', 'nope' as never)).rejects.toMatchObject({ details: { field: 'respond' } });
    await expect(service.processUserMessage(user.id, 'hello', () => 'x', { recallLimit: 500 })).rejects.toMatchObject({ details: { field: 'recallLimit' } });
    const page = await repos.conversations.getByUser(user.id);
    expect(page.items.map((m) => m.role)).toEqual(['user', 'user']);
  });
});

describe('UserOnboardingService', () => {
  it('validates everything before opening a unit of work', async () => {
    let opened = 0;
    const counting: UnitOfWork = (work) => {
      opened++;
      return unitOfWork(work);
    };
    const service = new UserOnboardingService(counting, { welcome: (u, p) => `Bonjour ${u.name} (${p.language})` });
    await expect(service.onboardNewUser({ name: 'Kim', language: 'not a tag' })).rejects.toMatchObject({ details: { field: 'language' } });
    await expect(service.onboardNewUser(undefined as never)).rejects.toMatchObject({ details: { field: 'data' } });
    expect(opened).toBe(0);
    const done = await service.onboardNewUser({ name: 'Kim', nickname: 'K', language: 'fr' });
    expect(opened).toBe(1);
    expect(done.welcome.content).toBe('Bonjour Kim (fr)');
    expect(done.user.userType).toBe('primary');
    expect(await repos.preferences.get(done.user.id)).toEqual(done.preferences);
  });
});
