/**
 * The domain: entities with validation, repository interfaces in domain language, and
 * services. Nothing here knows how data is stored (a test enforces that no file imports a
 * store, the native binding, the data access layer or a database library).
 */
export * from './entities/conversation.js';
export * from './entities/device.js';
export * from './entities/memory.js';
export * from './entities/message.js';
export * from './entities/preferences.js';
export * from './entities/user.js';
export * from './ids.js';
export * from './pagination.js';
export type * from './recall.js';
export type * from './repositories/index.js';
export type * from './search.js';
export * from './services/conversation-service.js';
export * from './services/user-onboarding-service.js';
export * from './services/create-services.js';
export type { DateInput } from './validation.js';
export type { JsonObject, JsonValue } from './json.js';
