import type { User } from '../entities/user.js';

/** Stores the people the companion knows. */
export interface UserRepository {
  /** Creates the user, or updates it when one with its id exists. */
  save(user: User): Promise<void>;
  get(id: string): Promise<User | undefined>;
  /** Every user, oldest first (optionally only active ones). */
  list(options?: { readonly activeOnly?: boolean }): Promise<User[]>;
  /**
   * Forgets the user and everything of theirs (preferences, conversations, messages, memories).
   * Returns whether the user existed.
   */
  delete(id: string): Promise<boolean>;
}
