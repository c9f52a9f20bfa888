/**
 * Application services on the bus: the database request handlers (AICO's "database operations
 * triggered by messages") and the wiring that serves them, with change events forwarded, on a
 * {@link MessageBus}. The bus itself (`src/bus`) is transport only.
 */
export { FORWARDED_EVENTS, type ServeBusOptions } from './serve.js';
export { startDatabaseServices, DATABASE_TOPICS, type DatabaseServices, type DatabaseServiceDeps, type DatabaseServiceOptions } from './database-services.js';
