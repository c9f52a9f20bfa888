/**
 * `data.serveBus({ bus })`: the database services on another bus than the one the data layer
 * was opened with (typically an authenticated ZeroMQ bus connected with keys derived from the
 * folder, which only exist once it is open). The layer's change events are forwarded to that
 * bus with their message ids, so its subscribers still drop duplicates by id.
 */
import { invalidArgument } from '../errors.js';
import type { MessageBus, Subscription } from '../bus/message-bus.js';
import { startDatabaseServices, type DatabaseServiceDeps, type DatabaseServiceOptions, type DatabaseServices } from './database-services.js';

/** Options of `data.serveBus()`. */
export interface ServeBusOptions extends DatabaseServiceOptions {
  /**
   * Serve on this bus instead of `data.bus`; change events (`data/**`, `sync/**`) published on
   * `data.bus` are forwarded to it while the services run.
   */
  readonly bus?: MessageBus;
}

/** The topics of the data layer's own events, forwarded by `DataLayer.serveBus` to the bus it serves on. */
export const FORWARDED_EVENTS = ['data/**', 'sync/**'] as const;

/** Starts the services on `target` and forwards `source`'s events to it (when they differ). */
export async function serveOn(target: MessageBus, source: MessageBus | undefined, deps: DatabaseServiceDeps, options: DatabaseServiceOptions): Promise<DatabaseServices> {
  if (target === null || typeof target !== 'object' || typeof target.handle !== 'function' || typeof target.publish !== 'function') {
    throw invalidArgument('bus must be a MessageBus (for example from connectZmqBus)', { field: 'bus' });
  }
  const services = await startDatabaseServices(target, deps, options);
  const forwards: Subscription[] = [];
  if (source && source !== target) {
    try {
      for (const pattern of FORWARDED_EVENTS) {
        forwards.push(
          await source.subscribe(pattern, (e) =>
            target
              .publish(e.metadata.message_type, e.payload, { messageId: e.metadata.message_id, attributes: e.metadata.attributes })
              .then(() => undefined),
          ),
        );
      }
    } catch (e) {
      for (const f of forwards) await f.unsubscribe();
      await services.stop();
      throw e;
    }
  }
  return {
    topics: services.topics,
    async stop() {
      for (const f of forwards) await f.unsubscribe();
      await services.stop();
    },
  };
}
