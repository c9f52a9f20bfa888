/**
 * Where derived per-user data lives in the key-value store. Anything cached about a user's
 * conversations or memories must be under {@link userCachePrefix} so that the outbox can
 * invalidate it on change and `forgetUser` can remove it.
 */

/** The `cache`-namespace prefix of everything cached about one user. */
export function userCachePrefix(userId: string): string {
  return `user/${userId}/`;
}

/** Prefix of cached data about one conversation (context windows, summaries). */
export function conversationCachePrefix(userId: string, conversationId: string): string {
  return `${userCachePrefix(userId)}conversation/${conversationId}/`;
}

/** Prefix of cached data derived from the user's memories (recall results). */
export function memoryCachePrefix(userId: string): string {
  return `${userCachePrefix(userId)}memories/`;
}

/** The user id of a cache key written under {@link userCachePrefix}, if it is one. */
export function userOfCacheKey(key: string): string | undefined {
  const m = /^user\/([^/]+)\//.exec(key);
  return m?.[1];
}

/** Namespaces that may hold per-user entries (removed by `forgetUser`). */
export const USER_NAMESPACES = ['cache', 'session'] as const;
