import type { Repositories, UnitOfWork } from '../repositories/unit-of-work.js';
import { ConversationService } from './conversation-service.js';
import { UserOnboardingService, type UserOnboardingOptions } from './user-onboarding-service.js';

/** The domain services, ready to use. */
export interface Services {
  readonly conversation: ConversationService;
  readonly onboarding: UserOnboardingService;
}

export interface ServicesOptions {
  /** Epoch milliseconds (default `Date.now`). */
  readonly now?: () => number;
  readonly welcome?: UserOnboardingOptions['welcome'];
}

/** Builds the services over any implementation of the repositories (libSQL or in-memory). */
export function createServices(repos: Repositories, unitOfWork: UnitOfWork, options: ServicesOptions = {}): Services {
  return Object.freeze({
    conversation: new ConversationService({ ...repos, ...(options.now ? { now: options.now } : {}) }),
    onboarding: new UserOnboardingService(unitOfWork, options),
  });
}
