/**
 * The core schemas of the AI companion. Importing this module registers them in
 * `defaultRegistry` (the decorators run on import).
 */
export { SealedColumnsSchema } from './sealed-columns.js';
export { SystemConfigSchema } from './system-config.js';
export { LocalStateSchema } from './local-state.js';
export { UsersSchema } from './users.js';
export { UserPreferencesSchema } from './user-preferences.js';
export { ConversationsSchema } from './conversations.js';
export { MemoriesSchema } from './memories.js';
export { DevicesSchema } from './devices.js';
export { OutboxSchema } from './outbox.js';
export { SearchSchema } from './search.js';
export { SyncSchema } from './sync.js';

/** Names of the core components, in apply order. */
export const CORE_SCHEMAS = [
  'sealed_columns',
  'system_config',
  'local_state',
  'users',
  'user_preferences',
  'conversations',
  'memories',
  'devices',
  'outbox',
  'search',
  'sync',
] as const;
