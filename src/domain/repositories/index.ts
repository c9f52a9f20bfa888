export type * from './conversation-repository.js';
export type * from './device-repository.js';
export type * from './memory-repository.js';
export type * from './preferences-repository.js';
export type * from './unit-of-work.js';
export type * from './user-repository.js';
